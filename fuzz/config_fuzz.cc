// Fuzz target: the configuration loader (LoadConfig) on YAML text, with an
// empty environment. The text is handed over as a file (a memfd), as
// certctld and certctl-admin read /etc/certctl/certctl.yaml. What loads must
// satisfy the checks LoadConfig documents.
//
// Inputs naming a secret file ("*_file" keys) are skipped: the loader would
// read whatever file of the fuzzing machine they name (/dev/zero, a FIFO), a
// trusted operator's choice, not input certctl must survive. config_test
// covers those keys.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>

#include "certctl/config/config.h"
#include "fuzz/fuzz_support.h"

namespace {

using certctl::fuzz::Expect;
using std::chrono::hours;

std::string YamlFile(std::string_view text) {
  static const int fd = memfd_create("certctl-fuzz.yaml", 0);
  Expect(fd >= 0, "memfd_create");
  Expect(ftruncate(fd, 0) == 0 &&
             pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()),
         "write the YAML to the memfd");
  return "/proc/self/fd/" + std::to_string(fd);
}

void CheckLoaded(const certctl::Config& c) {
  Expect(c.database_pool_size >= 1 && c.database_pool_size <= 200, "pool size 1..200");
  Expect(c.crl_validity <= hours(24 * 10), "crl_validity <= 10d");
  Expect(c.crl_generation_interval < c.crl_validity, "CRL interval < validity");
  Expect(c.ocsp_response_validity >= hours(8) && c.ocsp_response_validity <= hours(240),
         "OCSP response validity 8h..10d");
  Expect(c.ocsp_responder_renew_before < c.ocsp_responder_validity,
         "responder renewal before its expiry");
  Expect(c.certificate_default_validity_days <= c.certificate_max_validity_days,
         "default validity within the maximum");
  Expect(c.base_url.rfind("http://", 0) == 0 || c.base_url.rfind("https://", 0) == 0,
         "base_url is http(s)");
  for (const auto& k : c.api_keys) {
    Expect(!k.name.empty() && k.key_sha256.size() == 64, "API keys are named digests");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = certctl::fuzz::Input(data, size);
  if (text.find("_file") != std::string_view::npos) return 0;
  certctl::ConfigLoadOptions options;
  options.path = YamlFile(text);
  options.path_is_explicit = true;
  options.environment.emplace();
  auto config = certctl::LoadConfig(options);
  if (config.ok()) CheckLoaded(*config);
  certctl::fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
