// Fuzz target: an OCSP request body as certctld receives it over POST
// (RFC 6960 A.1), parsed by ParseOcspRequest and, when it parses, answered
// and signed by the test responder and read back (fuzz_support.h).
#include "certctl/pki/ocsp.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certctl;
  auto request = ParseOcspRequest(fuzz::Input(data, size));
  if (request.ok()) fuzz::AnswerAndCheck(*request);
  fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
