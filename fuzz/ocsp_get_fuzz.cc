// Fuzz target: the path remainder of an OCSP GET (RFC 6960 A.1: the
// URL-encoded base64 of the DER request, '/' allowed), decoded as certctld
// decodes it (DecodeOcspGetRequest), then parsed and answered like a POST.
#include "certctl/pki/ocsp.h"
#include "certctl/util/encoding.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certctl;
  auto der = DecodeOcspGetRequest(fuzz::Input(data, size));
  if (!der.ok()) return 0;
  // What decodes is what a client encoded: encoding it again and decoding
  // gives the same bytes.
  auto again = DecodeOcspGetRequest(Base64Encode(*der));
  fuzz::Expect(again.ok() && *again == *der, "base64 round trip of a decoded request");
  auto request = ParseOcspRequest(*der);
  if (request.ok()) fuzz::AnswerAndCheck(*request);
  fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
