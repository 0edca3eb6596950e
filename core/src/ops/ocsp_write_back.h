// Private to core/src/ops: certctld's write-back of signed OCSP answers to
// ocsp_response_cache, off the request path.
//
// Answers are queued (bounded) and written by one thread in batches, one
// statement a batch (OcspAnswerRepo::PutBatchIfEpochUnchanged: the same
// revocation-epoch check as an inline write, so a revocation that raced the
// signing still leaves nothing stale behind). A full queue drops the answer,
// a failed batch drops its answers: a dropped write-back only costs a
// re-signing later, never a wrong answer. Rows the epoch check refused are
// handed to `refused` (the service drops them from memory too). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "certctl/ops/op.h"
#include "store/ocsp_repo.h"

namespace certctl::ops::internal {

// An answer to write, with the CertID it answers (to find it in memory).
struct PendingWriteBack {
  OcspCacheRecord row;
  std::string cert_id_der;
};

class OcspWriteBack {
 public:
  using Refused = std::function<void(const PendingWriteBack&)>;
  // At most `capacity` answers wait; batches hold at most kMaxBatch.
  OcspWriteBack(OpContext ctx, size_t capacity, Refused refused);
  // Stop(kDrainOnStop).
  ~OcspWriteBack();
  OcspWriteBack(const OcspWriteBack&) = delete;
  OcspWriteBack& operator=(const OcspWriteBack&) = delete;

  // Queues `item`; false when the queue is full or stopped (it is dropped).
  bool Enqueue(PendingWriteBack item);
  // Waits until every answer queued before the call was written or dropped.
  void Flush();
  // Writes what is queued for up to `drain`, drops the rest, ends the thread.
  // Called by the owner only.
  void Stop(std::chrono::milliseconds drain);

  uint64_t dropped() const;

  static constexpr size_t kMaxBatch = 256;
  static constexpr std::chrono::milliseconds kDrainOnStop{2000};

 private:
  void Loop();
  void WriteBatch(std::vector<PendingWriteBack>& batch);

  OpContext ctx_;
  const size_t capacity_;
  Refused refused_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // work queued, or stopping
  std::condition_variable done_cv_;  // a batch finished
  std::deque<PendingWriteBack> queue_;
  uint64_t queued_total_ = 0;    // ever queued
  uint64_t finished_total_ = 0;  // ever written or dropped after queueing
  uint64_t dropped_ = 0;         // never written (full, failed, stopped)
  bool stopping_ = false;
  bool ended_ = false;  // the thread returned
  std::chrono::steady_clock::time_point drain_until_;
  bool failing_ = false;  // the last batch failed (log once per change)
  std::thread thread_;
};

}  // namespace certctl::ops::internal
