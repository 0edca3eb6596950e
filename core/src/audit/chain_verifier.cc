#include "certctl/audit/chain_verifier.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "certctl/audit/chain.h"
#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"

namespace certctl::audit {
namespace {

std::string Short(std::string_view hash) { return HexEncode(hash.substr(0, 8)); }

std::string Row(int64_t id) { return "row " + std::to_string(id); }

std::string Rows(int64_t n) { return n == 1 ? "1 row" : std::to_string(n) + " rows"; }

}  // namespace

int64_t ChainReport::unacknowledged() const {
  return unlisted_breaks +
         std::count_if(breaks.begin(), breaks.end(),
                       [](const ChainBreak& b) { return !b.acknowledged_by; });
}

ChainVerifier::ChainVerifier(const AuditKey& key, std::vector<NamedAnchor> anchors)
    : key_(key), anchors_(std::move(anchors)) {}

void ChainVerifier::Record(const std::string& kind, int64_t id, int64_t count,
                           std::string message, std::string key) {
  if (report_.breaks.size() >= kMaxListedBreaks) {
    ++report_.unlisted_breaks;
    return;
  }
  report_.breaks.push_back({kind, id, count, std::move(message), std::move(key), {}, {}});
}

Status ChainVerifier::Add(const AuditEvent& row) {
  ++report_.rows;
  int64_t head_seq = report_.head ? report_.head->seq : 0;
  report_.head = AnchorHead{row.seq.value_or(head_seq + (keyed_started_ ? 0 : 1)), row.id,
                            row.hash, row.occurred_at};
  bool anchored = std::any_of(anchors_.begin(), anchors_.end(),
                              [&](const NamedAnchor& a) { return a.head.id == row.id; });
  if (anchored) anchored_rows_[row.id] = {row.seq.value_or(0), row.id, row.hash};

  if (row.chain_version != kKeyedChain) {
    ++report_.unkeyed_rows;
    if (!keyed_started_) {
      AddUnkeyed(row);
      return Status::Ok();
    }
  } else {
    ++report_.keyed_rows;
    keyed_started_ = true;
  }
  Why why = Why::kBadMac;
  if (row.chain_version != kKeyedChain) {
    why = Why::kUnkeyed;
  } else if (row.key_id != key_.id()) {
    ++report_.other_keys[row.key_id];
    why = Why::kOtherKey;
  } else {
    ++report_.rows_with_key;
    ASSIGN_OR_RETURN(std::string digest, KeyedDigest(key_, row));
    if (row.seq && ConstantTimeEquals(digest, row.hash)) {
      AddVerified(row);
      return Status::Ok();
    }
  }
  if (pending_.size() >= kMaxListedBreaks) {
    ++pending_unlisted_;
  } else {
    pending_.push_back({row.id, row.seq, row.hash, why, row.key_id});
  }
  return Status::Ok();
}

void ChainVerifier::AddUnkeyed(const AuditEvent& row) {
  if (row.prev_hash != unkeyed_prev_) {
    Record("unkeyed_relinked", row.id, 1,
           "unkeyed " + Row(row.id) +
               " does not follow the row before it: a row was removed or inserted "
               "before it",
           "unkeyed_relinked:" + std::to_string(row.id));
  }
  if (row.hash != UnkeyedDigest(row)) {
    Record("unkeyed_modified", row.id, 1,
           "unkeyed " + Row(row.id) +
               ": its hash does not match its content (changed without re-hashing)",
           "unkeyed_modified:" + std::to_string(row.id) + ":" + Short(row.hash));
  }
  unkeyed_prev_ = row.hash;
  last_ = {last_.seq + 1, row.id, row.hash};
}

void ChainVerifier::AddVerified(const AuditEvent& row) {
  Resolve(&row);
  last_ = {*row.seq, row.id, row.hash};
  sealed_ = true;
  if (row.action != kAcknowledgeAction || row.outcome != AuditOutcome::kSucceeded) return;
  ++report_.acknowledgements;
  auto parameters = nlohmann::json::parse(row.parameters_json, nullptr, false);
  if (!parameters.is_object()) return;
  Acknowledgement ack{row.id, {}, parameters.value("reason", std::string())};
  auto keys = parameters.find("acknowledged");
  if (keys == parameters.end() || !keys->is_array()) return;
  for (const auto& k : *keys) {
    if (k.is_string()) ack.keys.insert(k.get<std::string>());
  }
  acks_.push_back(std::move(ack));
}

// Classifies the rows that did not verify since last_, given the next
// verifying row (null at the end of the log).
void ChainVerifier::Resolve(const AuditEvent* next) {
  int64_t low = last_.seq;
  int64_t high = next ? *next->seq : INT64_MAX;
  std::set<int64_t> claimed;
  int64_t unnumbered = 0;  // unkeyed rows take a position without naming it
  for (const auto& p : pending_) {
    if (p.why == Why::kUnkeyed) ++unnumbered;
    bool in_chain =
        p.seq && *p.seq > low && *p.seq < high && claimed.insert(*p.seq).second;
    std::string hash = Short(p.hash), id = std::to_string(p.id);
    switch (p.why) {
      case Why::kOtherKey:
        Record("other_key", p.id, 1,
               Row(p.id) + " was signed with another audit key (id " + p.key_id +
                   "), not the key at hand (id " + key_.id() +
                   "): it cannot be checked with this key",
               "other_key:" + id + ":" + hash);
        break;
      case Why::kUnkeyed:
        Record("unkeyed", p.id, 1,
               Row(p.id) +
                   " is unkeyed but comes after the keyed chain began: it was written "
                   "without the audit key",
               "unkeyed:" + id + ":" + hash);
        break;
      case Why::kBadMac:
        if (in_chain) {
          Record("modified", p.id, 1,
                 Row(p.id) + " holds position " + std::to_string(*p.seq) +
                     " of the chain but does not verify with the audit key: its "
                     "content or hash was changed, or it was written without the key",
                 "modified:" + id + ":" + hash);
        } else {
          Record("inserted", p.id, 1,
                 Row(p.id) +
                     " does not verify and is not part of the chain (the rows around "
                     "it link to each other): it was inserted without the key",
                 "inserted:" + id + ":" + hash);
        }
        break;
    }
  }
  report_.unlisted_breaks += pending_unlisted_;
  int64_t claimed_total =
      static_cast<int64_t>(claimed.size()) + unnumbered + pending_unlisted_;
  pending_.clear();
  pending_unlisted_ = 0;
  if (next) CheckLink(*next, claimed_total);
}

// Does the verifying row `row` continue the chain after last_, given that
// `claimed` rows in between took positions of it?
void ChainVerifier::CheckLink(const AuditEvent& row, int64_t claimed) {
  int64_t gap = *row.seq - last_.seq - 1;
  std::string id = std::to_string(row.id);
  if (gap > claimed) {
    int64_t missing = gap - claimed;
    Record("missing", row.id, missing,
           Rows(missing) + " missing before " + Row(row.id) + " (positions " +
               std::to_string(last_.seq + 1) + " to " + std::to_string(*row.seq - 1) +
               " hold " + Rows(claimed) + "): deleted",
           "missing:" + id + ":" + std::to_string(missing));
    return;
  }
  if (gap > 0 || (gap == 0 && row.prev_hash == last_.hash)) return;
  if (!sealed_ && last_.seq > 0) {
    // The first keyed row was written after the unkeyed history as it was then.
    Record("sealed", row.id, 1,
           "the unkeyed history before " + Row(row.id) +
               " changed after the keyed chain began: that row was written after " +
               Rows(*row.seq - 1) + " ending with hash " + Short(row.prev_hash) +
               "..., the log now has " + Rows(last_.seq) + " ending with " +
               Short(last_.hash) + "...",
           "sealed:" + id);
  } else if (gap < 0) {
    Record("forked", row.id, 1,
           Row(row.id) + " claims position " + std::to_string(*row.seq) + ", which " +
               Row(last_.id) +
               " already holds or passed: two chains were written (a restored "
               "database written to, or unserialised writers)",
           "forked:" + id);
  } else {
    Record("forked", row.id, 1,
           Row(row.id) + " verifies but does not follow " + Row(last_.id) +
               ": it was written after another row at position " +
               std::to_string(last_.seq),
           "forked:" + id);
  }
}

void ChainVerifier::CheckAnchors() {
  for (const auto& a : anchors_) {
    std::string key = "anchor:" + std::to_string(a.head.id) + ":" + Short(a.head.hash);
    std::string named = "anchor " + a.source + " (written " +
                        FormatRfc3339(a.head.written_at) + ") names " + Row(a.head.id) +
                        " at position " + std::to_string(a.head.seq);
    auto found = anchored_rows_.find(a.head.id);
    if (found != anchored_rows_.end()) {
      if (found->second.seq == a.head.seq && found->second.hash == a.head.hash) continue;
      Record("anchor", a.head.id, 1,
             named + " with hash " + Short(a.head.hash) + "...; that row is now at " +
                 "position " + std::to_string(found->second.seq) + " with hash " +
                 Short(found->second.hash) + "...: it was rewritten",
             key);
      continue;
    }
    int64_t end = report_.head ? report_.head->seq : 0;
    if (end < a.head.seq) {
      Record("truncated", 0, a.head.seq - end,
             named + ", but the log ends at position " + std::to_string(end) + ": the " +
                 Rows(a.head.seq - end) + " at its end were deleted",
             key);
    } else {
      Record("anchor", a.head.id, 1, named + "; that row is not in the log: deleted",
             key);
    }
  }
}

void ChainVerifier::Acknowledge() {
  for (auto& b : report_.breaks) {
    bool anchor = b.key.rfind("anchor:", 0) == 0;
    for (const auto& ack : acks_) {
      if ((anchor || ack.id > b.id) && ack.keys.count(b.key)) {
        b.acknowledged_by = ack.id;
        b.acknowledged_reason = ack.reason;
        break;
      }
    }
  }
}

ChainReport ChainVerifier::Finish() {
  Resolve(nullptr);
  CheckAnchors();
  Acknowledge();
  return std::move(report_);
}

}  // namespace certctl::audit
