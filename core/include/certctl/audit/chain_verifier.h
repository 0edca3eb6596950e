// Walking the audit log and saying what is wrong with it: every break, not
// only the first, each with a stable key that `audit anchor` can acknowledge.
//
// A row verifies when it is keyed (version 2), names the key at hand and its
// HMAC matches. Verifying rows are the fixed points: between two of them the
// positions (seq) tell how many rows the chain had, so the rows in between
// that do not verify, and the positions with no row at all, are classified:
//
//   modified   a row at a position of the chain that does not verify: its
//              content or hash was changed, or it was written without the key
//              in place of a deleted row (the two look the same)
//   inserted   a row that does not verify and is not part of the chain: the
//              verifying rows around it link to each other
//   missing    positions with no row: rows were deleted
//   forked     a verifying row that does not follow the one before it (a
//              restored database written to, or two unserialised writers)
//   other_key  signed with another audit key: cannot be checked with this one
//   unkeyed    an unkeyed (version 1) row after the keyed chain began
//   unkeyed_modified, unkeyed_relinked
//              in the unkeyed history: a hash that does not match its row, a
//              row that does not follow the one before it
//   sealed     the unkeyed history changed after the keyed chain began (the
//              first keyed row binds the hash of the last unkeyed row)
//   truncated  the log ends before the row an anchor names: newest rows deleted
//   anchor     the row an anchor names is gone or different
//
// An `audit.anchor` event (succeeded, verifying) lists the keys of the breaks
// an operator acknowledged; a break it lists, found before it in the log (or
// any anchor break), is reported as acknowledged instead of as an error.
//
// Memory stays flat: rows are streamed; at most kMaxListedBreaks breaks are
// kept (the rest are counted), and acknowledgements are small.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "certctl/audit/anchor.h"
#include "certctl/audit/audit_key.h"
#include "certctl/audit/event.h"

namespace certctl::audit {

inline constexpr size_t kMaxListedBreaks = 10000;
inline constexpr char kAcknowledgeAction[] = "audit.anchor";

struct ChainBreak {
  std::string kind;     // see above
  int64_t id = 0;       // the row it is at (missing: the row after the gap); 0: none
  int64_t count = 1;    // rows concerned
  std::string message;  // for people
  std::string key;      // stable identity, recorded by `audit anchor`
  std::optional<int64_t> acknowledged_by;  // id of the audit.anchor event
  std::string acknowledged_reason;
};

struct NamedAnchor {
  std::string source;  // the file it came from
  AnchorHead head;
};

struct ChainReport {
  int64_t rows = 0;
  int64_t unkeyed_rows = 0;                   // version 1
  int64_t keyed_rows = 0;                     // version 2
  int64_t rows_with_key = 0;                  // version 2 naming the key at hand
  std::map<std::string, int64_t> other_keys;  // key id -> rows naming it
  std::optional<AnchorHead> head;             // the last row of the log
  std::vector<ChainBreak> breaks;             // in log order, anchors last
  int64_t unlisted_breaks = 0;                // beyond kMaxListedBreaks
  int64_t acknowledgements = 0;               // audit.anchor events seen

  int64_t unacknowledged() const;  // breaks not acknowledged, listed or not
  bool intact() const { return unacknowledged() == 0; }
};

class ChainVerifier {
 public:
  ChainVerifier(const AuditKey& key, std::vector<NamedAnchor> anchors);
  // Feeds the next row, in id order. Fails only when OpenSSL does.
  Status Add(const AuditEvent& row);
  // Classifies what is left, checks the anchors, applies acknowledgements.
  ChainReport Finish();

 private:
  enum class Why { kBadMac, kOtherKey, kUnkeyed };
  struct Pending {
    int64_t id;
    std::optional<int64_t> seq;
    std::string hash;
    Why why;
    std::string key_id;
  };
  struct Link {
    int64_t seq = 0, id = 0;
    std::string hash;
  };
  struct Acknowledgement {
    int64_t id;
    std::set<std::string> keys;
    std::string reason;
  };

  void AddUnkeyed(const AuditEvent& row);
  void AddVerified(const AuditEvent& row);
  void Resolve(const AuditEvent* next);
  void CheckLink(const AuditEvent& row, int64_t claimed);
  void Record(const std::string& kind, int64_t id, int64_t count, std::string message,
              std::string key);
  void CheckAnchors();
  void Acknowledge();

  const AuditKey& key_;
  std::vector<NamedAnchor> anchors_;
  std::map<int64_t, Link> anchored_rows_;  // rows the anchors name, as found
  ChainReport report_;
  Link last_;  // the last verifying row (or the end of the unkeyed history)
  bool keyed_started_ = false;
  bool sealed_ = false;           // a verifying keyed row has been seen
  std::string unkeyed_prev_;      // hash of the previous unkeyed row
  std::vector<Pending> pending_;  // rows since last_ that do not verify
  int64_t pending_unlisted_ = 0;
  std::vector<Acknowledgement> acks_;
};

}  // namespace certctl::audit
