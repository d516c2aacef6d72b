// scripts/local-cluster up/status/down end to end with real processes on loopback, using the member
// stand-in (see member_stand_in.cc) until etsecd-node exists.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Run {
  int rc;
  std::string out;
};

Run sh(const std::string& command) {
  Run r{-1, {}};
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) r.out.append(buf, n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A base port whose 10-port blocks for `members` members are all free right now.
int free_base_port(int members) {
  for (int base = 20000 + (::getpid() * 37) % 20000;; base += 10 * members) {
    if (base + 10 * members > 60000) base = 20000;
    bool ok = true;
    for (int i = 0; i < members && ok; ++i) {
      for (int off = 0; off < 3 && ok; ++off) ok = port_free(base + 10 * i + off);
    }
    if (ok) return base;
  }
}

std::vector<int> pids(const fs::path& dir, int members) {
  std::vector<int> out;
  for (int i = 1; i <= members; ++i) {
    std::ifstream in(dir / ("m" + std::to_string(i)) / "pid");
    int pid = 0;
    if (in >> pid) out.push_back(pid);
  }
  return out;
}

// Exited (a zombie waiting for its reaper counts as exited).
bool gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

struct Cluster {
  fs::path dir = fs::temp_directory_path() / ("etsecd-lc-process-" + std::to_string(::getpid()));
  std::string script = std::string(ETSECD_SOURCE_DIR) + "/scripts/local-cluster";
  std::string env = "ETSECD_NODE_BIN=" + std::string(ETSECD_STAND_IN);
  ~Cluster() {
    sh(script + " down --timeout 1 --dir " + dir.string());
    fs::remove_all(dir);
  }
};

}  // namespace

TEST_CASE("up, status, metrics and down with real processes") {
  Cluster c;
  const int base = free_base_port(3);
  Run up = sh(c.env + " " + c.script + " up --members 3 --threshold 2 --base-port " + std::to_string(base) +
              " --timeout 30 --dir " + c.dir.string());
  REQUIRE_MESSAGE(up.rc == 0, up.out);
  const std::string endpoints = "https://127.0.0.1:" + std::to_string(base) +
                                ",https://127.0.0.1:" + std::to_string(base + 10) +
                                ",https://127.0.0.1:" + std::to_string(base + 20);
  CHECK(up.out.find("client endpoints: " + endpoints) != std::string::npos);
  CHECK(up.out.find("ETCDCTL_API=3 etcdctl --endpoints=" + endpoints + " --cacert=" + c.dir.string() +
                    "/certs/ca.pem --cert=" + c.dir.string() + "/certs/client.pem --key=" + c.dir.string() +
                    "/certs/client-key.pem put foo bar") != std::string::npos);

  std::vector<int> started = pids(c.dir, 3);
  REQUIRE(started.size() == 3);
  for (int pid : started) CHECK(::kill(pid, 0) == 0);

  Run status = sh(c.script + " status --dir " + c.dir.string());
  CHECK(status.rc == 0);
  CHECK(status.out.find("m3  pid") != std::string::npos);
  CHECK(status.out.find(" ready ") != std::string::npos);
  // Each member validated its real flags and serves its share index.
  Run metrics = sh("curl -fsS http://127.0.0.1:" + std::to_string(base + 12) + "/metrics");
  CHECK(metrics.out.find("etsecd_share_index 2") != std::string::npos);
  Run health = sh("curl -fsS http://127.0.0.1:" + std::to_string(base + 2) + "/health");
  CHECK(health.out == "{\"health\":\"true\"}");
  // The log is JSON lines with the described settings.
  const fs::path log = c.dir / "m1" / "node.log";
  std::string text(fs::file_size(log), '\0');
  std::ifstream(log, std::ios::binary).read(text.data(), static_cast<std::streamsize>(text.size()));
  CHECK(text.find("\"msg\":\"stand-in member starting\"") != std::string::npos);
  CHECK(text.find("commit quorum W: 2") == std::string::npos);
  CHECK(text.find("commit quorum W: 3 (default)") != std::string::npos);

  // A second up refuses while members run.
  Run twice = sh(c.env + " " + c.script + " up --dir " + c.dir.string());
  CHECK(twice.rc != 0);
  CHECK(twice.out.find("already running") != std::string::npos);

  Run down = sh(c.script + " down --dir " + c.dir.string());
  CHECK(down.rc == 0);
  CHECK(down.out.find("stopped 3 member(s)") != std::string::npos);
  for (int pid : started) CHECK(gone(pid));
  CHECK(sh(c.script + " status --dir " + c.dir.string()).rc != 0);

  // up after down restarts the same cluster (same token, so the same fingerprint).
  Run again = sh(c.env + " " + c.script + " up --timeout 30 --dir " + c.dir.string());
  REQUIRE_MESSAGE(again.rc == 0, again.out);
  CHECK(sh(c.script + " down --dir " + c.dir.string()).rc == 0);
}

TEST_CASE("down escalates to SIGKILL when a member ignores SIGTERM") {
  Cluster c;
  const int base = free_base_port(2);
  Run up = sh("STAND_IN_IGNORE_SIGTERM=1 " + c.env + " " + c.script +
              " up --members 2 --threshold 2 --base-port " + std::to_string(base) + " --timeout 30 --dir " +
              c.dir.string());
  REQUIRE_MESSAGE(up.rc == 0, up.out);
  std::vector<int> started = pids(c.dir, 2);
  REQUIRE(started.size() == 2);
  Run down = sh(c.script + " down --timeout 1 --dir " + c.dir.string());
  CHECK(down.rc == 0);
  CHECK(down.out.find("ignored SIGTERM for 1s; sending SIGKILL") != std::string::npos);
  for (int pid : started) CHECK(gone(pid));
}

TEST_CASE("a member that fails to start fails up with its log and stops the rest") {
  Cluster c;
  const int base = free_base_port(2);
  // Occupy m2's metrics port so m2 cannot serve: the script's port check must refuse first.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(base + 12));
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  Run up = sh(c.env + " " + c.script + " up --members 2 --threshold 2 --base-port " + std::to_string(base) +
              " --dir " + c.dir.string());
  ::close(fd);
  CHECK(up.rc != 0);
  CHECK(up.out.find("port " + std::to_string(base + 12) + " (for m2) is already in use") !=
        std::string::npos);
  CHECK(pids(c.dir, 2).empty());

  // A binary that exits at once: up reports it with the log tail and leaves nothing running.
  fs::create_directories(c.dir);
  fs::path failing = c.dir / "failing-node";
  std::ofstream(failing) << "#!/bin/sh\necho 'cannot start: simulated' >&2\nexit 3\n";
  fs::permissions(failing, fs::perms::owner_all);
  Run bad = sh("ETSECD_NODE_BIN=" + failing.string() + " " + c.script + " up --dir " + c.dir.string());
  CHECK(bad.rc != 0);
  CHECK(bad.out.find("exited during start-up") != std::string::npos);
  CHECK(bad.out.find("cannot start: simulated") != std::string::npos);
}
