// The connection-starvation scenario of issue 8, against a running
// certctld: open N idle TCP connections (they send nothing), keep them open,
// then make real requests with curl and count how many are served.
//
//   connection_flood --idle-to 127.0.0.1:8080 --idle 1100 --requests 10
//       --url http://127.0.0.1:8080/.well-known/pki/crl/iss-local
//       --url https://127.0.0.1:8443/healthz --cacert var/dev/ca/ca.crt
//   (one command line)
//
// Run certctld under a low descriptor limit (`ulimit -n 1024`) to reproduce
// the finding. Prints one line per request and a summary; exits 0 when every
// request was served, 1 otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/util/process.h"

namespace {

int Connect(const certctl::HostPort& hp) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(hp.port);
  ::inet_pton(AF_INET, hp.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Connections the server has closed (EOF or reset), without waiting.
int ClosedByServer(const std::vector<int>& fds) {
  int closed = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLIN, 0};
    char byte;
    if (::poll(&p, 1, 0) > 0 && ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0) ++closed;
  }
  return closed;
}

}  // namespace

int main(int argc, char** argv) {
  std::string idle_to, cacert;
  int idle = 1100, requests = 10, max_time = 5;
  std::vector<std::string> urls;
  CLI::App app{"Idle connections against certctld, then real requests"};
  app.add_option("--idle-to", idle_to, "host:port the idle connections go to")
      ->required();
  app.add_option("--idle", idle, "how many idle connections")->capture_default_str();
  app.add_option("--url", urls, "URL of a real request (round-robin)")->required();
  app.add_option("--requests", requests, "how many real requests")->capture_default_str();
  app.add_option("--cacert", cacert, "CA for https URLs");
  app.add_option("--max-time", max_time, "seconds per request")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto hp = certctl::ParseHostPort(idle_to);
  if (!hp.ok()) {
    std::fprintf(stderr, "%s\n", hp.status().message().c_str());
    return 2;
  }
  // The client side needs a descriptor per idle connection too.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  std::vector<int> fds;
  for (int i = 0; i < idle; ++i) {
    int fd = Connect(*hp);
    if (fd < 0) {
      std::perror("connect");
      break;
    }
    fds.push_back(fd);
  }
  std::printf("idle connections open: %zu\n", fds.size());
  int served = 0;
  for (int i = 0; i < requests; ++i) {
    const std::string& url = urls[static_cast<size_t>(i) % urls.size()];
    std::vector<std::string> curl = {
        "curl", "-s",           "-o",         "/dev/null",
        "-w",   "%{http_code}", "--max-time", std::to_string(max_time)};
    if (!cacert.empty()) curl.insert(curl.end(), {"--cacert", cacert});
    curl.push_back(url);
    auto started = std::chrono::steady_clock::now();
    auto r = certctl::RunProcess(curl);
    double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string code = r.ok() ? r->output : "error";
    served += code == "200";
    std::printf("request %2d %-55s %s in %.2fs\n", i + 1, url.c_str(), code.c_str(),
                took);
  }
  std::printf("served %d of %d; the server closed %d of %zu idle connections\n", served,
              requests, ClosedByServer(fds), fds.size());
  for (int fd : fds) ::close(fd);
  return served == requests ? 0 : 1;
}
