#include "daemon/schedulers/crl_loader.h"

namespace certctl::daemon {
namespace {
// Nothing to do until Reload() wakes the thread; the pass after a long sleep
// costs a look at an empty list.
constexpr auto kIdle = std::chrono::minutes(10);
}  // namespace

CrlLoader::CrlLoader(App& app) : app_(app) {}

CrlLoader::~CrlLoader() { Stop(); }

void CrlLoader::Start() {
  thread_.Start([this] { return Step(); });
}

void CrlLoader::Stop() { thread_.Stop(); }

void CrlLoader::Reload(const std::string& issuer) {
  app_.crl().MarkForReload(issuer);
  thread_.Wake();
}

std::chrono::milliseconds CrlLoader::Step() {
  if (app_.crl().ReloadMarked() > 0) ++passes_;
  return kIdle;
}

}  // namespace certctl::daemon
