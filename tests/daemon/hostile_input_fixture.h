// Fixture for the hostile-input tables (hostile_ocsp_test.cc,
// hostile_api_test.cc): certctld's Server in-process on loopback with the
// harness PostgreSQL (ServerTest), a short read timeout, and helpers to send
// a row's bytes exactly as a client would (all at once, stopping halfway and
// closing its side, stopping halfway and waiting; the API over TLS) and to
// read everything a request could change.
#pragma once

#include <openssl/types.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/pki/serial.h"
#include "daemon/server_fixture.h"

namespace certctl::testing {

inline constexpr char kPrivateOid[] = "1.3.6.1.4.1.55555.1";
inline const std::string kAsn1Null("\x05\x00", 2);  // an extension value

// Everything a request could change.
struct State {
  int64_t certificates = 0;
  int64_t revocations = 0;
  int64_t cached_rows = 0;      // ocsp_response_cache
  size_t cached_in_memory = 0;  // the OCSP service's in-process answers
  int64_t audit_events = 0;
  std::string epochs;  // issuers' revocation epochs
  bool operator==(const State&) const = default;
};
std::ostream& operator<<(std::ostream& os, const State& s);

// An HTTP answer as received; status 0 when the connection closed without
// one.
struct Answer {
  int status = 0;
  std::string head, body;
};

// How a row's bytes are sent.
enum class Ending {
  kWhole,      // everything, then wait for the answer
  kHalfClose,  // everything, then close our side (TLS: close_notify)
  kStall,      // everything, then wait without closing (read timeout)
};

// A request as sent on the wire: `headers` as given, a Content-Length of
// `content_length` (default: the body's size) unless a header says
// Transfer-Encoding, and Connection: close so that the server closes after
// its answer.
std::string HttpRequestBytes(const std::string& method, const std::string& target,
                             const std::vector<std::string>& headers,
                             const std::string& body,
                             std::optional<size_t> content_length = std::nullopt);

// A chunked body of `total` octets (certctld counts the decoded size).
std::string ChunkedBody(size_t total);

// The CertIDs' hash algorithm replaced by an OID that names no digest at all
// (1.3.14.3.2.99: SHA-1's arc, same length).
std::string WithUnknownHashOid(std::string der);

// A JSON error whose message holds `reason`, and no database's internals.
void ExpectCleanError(const Answer& a, const std::string& reason);

class HostileInputTest : public ServerTest {
 protected:
  void SetUp() override;

  State Now();
  // Sends `bytes` on a new connection to the PKI (plain) or API (TLS)
  // listener, ending as told, and reads until the server closes.
  Answer Exchange(bool api, const std::string& bytes, Ending ending);
  // A DER OCSP request for `serials` of the test CA (SHA-1 CertIDs by default).
  std::string OcspRequest(const std::vector<Serial>& serials, const EVP_MD* md = nullptr);
  // A CSR for `cn`, with a key made by the openssl CLI with `args`.
  std::string CliKeyCsr(const std::vector<std::string>& args, const std::string& cn);

  UniquePtr<X509> ca_;
};

}  // namespace certctl::testing
