#include "ops/ocsp_write_back.h"

#include <map>
#include <tuple>

#include "store/ocsp_answer_repo.h"

namespace certctl::ops::internal {

OcspWriteBack::OcspWriteBack(OpContext ctx, size_t capacity, Refused refused)
    : ctx_(std::move(ctx)),
      capacity_(std::max<size_t>(capacity, 1)),
      refused_(std::move(refused)),
      thread_([this] {
        Loop();
        std::lock_guard lock(mu_);
        ended_ = true;
        done_cv_.notify_all();
      }) {}

OcspWriteBack::~OcspWriteBack() { Stop(kDrainOnStop); }

bool OcspWriteBack::Enqueue(PendingWriteBack item) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(item));
    ++queued_total_;
  }
  cv_.notify_one();
  return true;
}

void OcspWriteBack::Flush() {
  std::unique_lock lock(mu_);
  uint64_t target = queued_total_;
  done_cv_.wait(lock, [&] { return finished_total_ >= target || ended_; });
}

void OcspWriteBack::Stop(std::chrono::milliseconds drain) {
  {
    // Stop is called by the owner only (the service's destructor).
    if (!thread_.joinable()) return;
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_until_ = std::chrono::steady_clock::now() + drain;
    }
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t OcspWriteBack::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void OcspWriteBack::Loop() {
  for (;;) {
    std::vector<PendingWriteBack> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (stopping_ && std::chrono::steady_clock::now() >= drain_until_) {
        size_t left = queue_.size();
        dropped_ += left;
        finished_total_ += left;
        queue_.clear();
        done_cv_.notify_all();
        ctx_.logger->warn("OCSP: dropped {} answers not yet written back at shutdown",
                          left);
        return;
      }
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteBatch(batch);
    std::lock_guard lock(mu_);
    finished_total_ += batch.size();
    done_cv_.notify_all();
  }
}

void OcspWriteBack::WriteBatch(std::vector<PendingWriteBack>& batch) {
  // One row a key (ON CONFLICT may touch a row once a statement): the answer
  // queued last wins, as it would have inline.
  std::map<std::tuple<std::string, std::string, std::string>, size_t> last;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch[i].row;
    last[{r.issuer_id, r.serial, r.cert_id_hash}] = i;
  }
  std::vector<size_t> picked;
  std::vector<OcspCacheRecord> rows;
  for (const auto& [key, i] : last) {
    picked.push_back(i);
    rows.push_back(batch[i].row);
  }
  std::vector<bool> written;
  Status s = ctx_.db.RunStatement([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(written, OcspAnswerRepo::PutBatchIfEpochUnchanged(tx, rows));
    return Status::Ok();
  });
  if (!s.ok()) {
    {
      std::lock_guard lock(mu_);
      dropped_ += batch.size();
    }
    if (!failing_) {
      ctx_.logger->warn("could not write back {} OCSP answers: {}", batch.size(),
                        s.ToString());
    }
    failing_ = true;
    return;
  }
  failing_ = false;
  for (size_t k = 0; k < picked.size(); ++k) {
    if (!written[k] && refused_) refused_(batch[picked[k]]);
  }
}

}  // namespace certctl::ops::internal
