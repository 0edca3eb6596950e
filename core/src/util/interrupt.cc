#include "certctl/util/interrupt.h"

#include <signal.h>

#include <csignal>
#include <cstdio>
#include <cstring>

namespace certctl {
namespace {

volatile std::sig_atomic_t g_signal = 0;

void OnSignal(int signo) { g_signal = signo; }

}  // namespace

void CatchInterrupts() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a blocking wait returns with EINTR, and the loops that
  // retry it look at the flag.
  action.sa_flags = 0;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool Interrupted() { return g_signal != 0; }

Status CheckInterrupted(const std::string& what) {
  int signo = g_signal;
  if (signo == 0) return Status::Ok();
  return Status::Unavailable(std::string("interrupted by ") +
                             (signo == SIGINT ? "SIGINT" : "SIGTERM") + " while " + what);
}

void ExitIfInterrupted() {
  int signo = g_signal;
  if (signo == 0) return;
  std::fflush(nullptr);  // what was printed reaches its file first
  ::signal(signo, SIG_DFL);
  ::raise(signo);
}

}  // namespace certctl
