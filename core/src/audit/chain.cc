#include "certctl/audit/chain.h"

#include <time.h>

#include <chrono>
#include <cstdio>

#include "certctl/util/encoding.h"

namespace certctl::audit {
namespace {

// The version-2 framing is written by hand: a domain tag, then each field as
// a fixed-width big-endian integer or a 4-byte length and its bytes. No field
// can run into the next (version 1's 0x1f separator could, when a field held
// 0x1f), and a message means one row only. ASN.1 DER through OpenSSL would do
// the same with an ASN.1 template for this one struct; this is 30 lines.
constexpr char kDomain[] = "certctl audit chain v2";

void PutInt(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
}

void PutText(std::string& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(n >> shift));
  out.append(s);
}

std::string UtcMicros(int64_t micros) {
  int64_t seconds = micros / 1000000, fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[80];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<long long>(fraction));
  return buf;
}

}  // namespace

int64_t OccurredMicros(const AuditEvent& row) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             row.occurred_at.time_since_epoch())
      .count();
}

std::string KeyedMessage(const AuditEvent& row) {
  std::string m;
  m.reserve(256 + row.command_line.size() + row.parameters_json.size() +
            row.detail.size());
  PutText(m, kDomain);
  PutInt(m, static_cast<uint64_t>(row.seq.value_or(0)));
  PutInt(m, static_cast<uint64_t>(row.id));
  PutInt(m, static_cast<uint64_t>(OccurredMicros(row)));
  PutText(m, row.key_id);
  PutText(m, row.prev_hash);
  for (std::string_view field :
       {std::string_view(row.actor), std::string_view(row.host),
        std::string_view(row.action), std::string_view(row.target),
        AuditOutcomeName(row.outcome), std::string_view(row.command_line),
        std::string_view(row.parameters_json), std::string_view(row.detail)}) {
    PutText(m, field);
  }
  m.push_back(row.duration_ms ? '\1' : '\0');
  PutInt(m, static_cast<uint64_t>(row.duration_ms.value_or(0)));
  PutText(m, row.correlation_id);
  return m;
}

Result<std::string> KeyedDigest(const AuditKey& key, const AuditEvent& row) {
  return key.Mac(KeyedMessage(row));
}

std::string UnkeyedDigest(const AuditEvent& row) {
  std::string text = std::to_string(row.id);
  const std::string occurred = UtcMicros(OccurredMicros(row));
  for (std::string_view field :
       {std::string_view(occurred), std::string_view(row.actor),
        std::string_view(row.host), std::string_view(row.action),
        std::string_view(row.target), AuditOutcomeName(row.outcome),
        std::string_view(row.command_line), std::string_view(row.parameters_json),
        std::string_view(row.detail)}) {
    text.push_back('\x1f');
    text.append(field);
  }
  text.push_back('\x1f');
  if (row.duration_ms) text += std::to_string(*row.duration_ms);
  text.push_back('\x1f');
  text += row.correlation_id;
  return Sha256(row.prev_hash + text);
}

}  // namespace certctl::audit

namespace certctl {

std::string_view AuditOutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kStarted:
      return "started";
    case AuditOutcome::kSucceeded:
      return "succeeded";
    case AuditOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

}  // namespace certctl
