// scripts/local-cluster builds each member's flags; feed them through the real parser and validator
// (certificates included) so the script and the node cannot disagree about the flag surface.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "etsecd/config/fingerprint.h"
#include "etsecd/config/load.h"

using namespace etsecd::config;
namespace fs = std::filesystem;

namespace {

struct Run {
  int rc;
  std::string out;  // stdout and stderr together
};

// Runs scripts/local-cluster with ETSECD_NODE_BIN unset, or set by `env_prefix` ("ETSECD_NODE_BIN=... ").
Run run_script(const std::string& args, const std::string& env_prefix = "") {
  std::string command = "env -u ETSECD_NODE_BIN " + env_prefix + std::string(ETSECD_SOURCE_DIR) +
                        "/scripts/local-cluster " + args + " 2>&1";
  Run r{-1, {}};
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) r.out.append(buf, n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("etsecd-lc-test-" + std::to_string(::getpid()));
  ~TempDir() { fs::remove_all(path); }
};

// "m2: /bin --a=b --c=d\,e" -> {"--a=b", "--c=d,e"}: the dry run quotes for a shell, and the test paths
// contain nothing but commas that needs quoting.
std::vector<std::string> member_args(const std::string& line) {
  std::istringstream words(line);
  std::string word;
  std::vector<std::string> args;
  words >> word >> word;  // "mN:" and the binary
  while (words >> word) {
    std::string unquoted;
    for (char c : word) {
      if (c != '\\') unquoted += c;
    }
    args.push_back(unquoted);
  }
  return args;
}

}  // namespace

TEST_CASE("local-cluster dry run builds flags every member accepts") {
  TempDir dir;
  Run r = run_script("up --dry-run --members 5 --threshold 3 --base-port 41000 --dir " + dir.path.string());
  REQUIRE_MESSAGE(r.rc == 0, r.out);
  std::istringstream lines(r.out);
  std::string line;
  std::set<std::string> fingerprints;
  std::set<std::uint32_t> indexes;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("m", 0) != 0) continue;
    ++count;
    CAPTURE(line);
    auto inv = load(member_args(line), {});
    REQUIRE_MESSAGE(inv.ok(), (inv.ok() ? "" : inv.error().message));
    const Config& c = inv->config;
    CHECK(c.name == "m" + std::to_string(count));
    CHECK(c.share_index == static_cast<std::uint32_t>(count));
    CHECK(c.voters() == 5);
    CHECK(c.threshold == 3);
    CHECK(c.commit_quorum == 4);
    CHECK(c.client_tls.client_cert_auth);
    CHECK(c.peer_tls.client_cert_auth);
    CHECK_FALSE(c.insecure_peer);
    CHECK(c.listen_client_urls[0].port == 41000 + 10 * (count - 1));
    CHECK(c.listen_metrics_urls[0].port == 41000 + 10 * (count - 1) + 2);
    CHECK(inv->warnings.empty());
    fingerprints.insert(cluster_fingerprint(c));
    indexes.insert(c.share_index);
  }
  CHECK(count == 5);
  CHECK(fingerprints.size() == 1);  // every member agrees on the cluster settings
  CHECK(indexes.size() == 5);
  CHECK(fs::exists(dir.path / "certs" / "client.pem"));
  CHECK(fs::exists(dir.path / "cluster.env"));

  // The directory remembers its cluster: a second dry run reuses the token; other sizes are refused.
  Run again = run_script("up --dry-run --dir " + dir.path.string());
  REQUIRE(again.rc == 0);
  CHECK(again.out.find("--base-port") == std::string::npos);
  auto first_line = r.out.substr(0, r.out.find('\n'));
  CHECK(again.out.substr(0, again.out.find('\n')) == first_line);
  Run other = run_script("up --dry-run --members 3 --dir " + dir.path.string());
  CHECK(other.rc != 0);
  CHECK(other.out.find("already holds a cluster with members 5") != std::string::npos);
}

TEST_CASE("local-cluster up names the missing binary; bad input is refused") {
  TempDir dir;
  // Point at a binary that does not exist (the real one may be built): up must name it and start nothing.
  const std::string missing = (dir.path / "no-such-etsecd-node").string();
  Run r = run_script("up --members 3 --threshold 2 --dir " + dir.path.string(),
                     "ETSECD_NODE_BIN=" + missing + " ");
  CHECK(r.rc != 0);
  CHECK(r.out.find("the member binary " + missing) != std::string::npos);
  std::string custom_command = "ETSECD_NODE_BIN=/nope/node " + std::string(ETSECD_SOURCE_DIR) +
                               "/scripts/local-cluster up --dir " + dir.path.string() + " 2>&1";
  FILE* p = ::popen(custom_command.c_str(), "r");
  REQUIRE(p != nullptr);
  Run custom{0, {}};
  char buf[1024];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) custom.out.append(buf, n);
  CHECK(::pclose(p) != 0);
  CHECK(custom.out.find("the member binary /nope/node does not exist") != std::string::npos);

  struct Bad {
    const char* args;
    const char* fragment;
  };
  const Bad bad[] = {
      {"up --members 1", "--members must be"},   {"up --members x", "--members must be"},
      {"up --threshold 1", "--threshold must"},  {"up --members 3 --threshold 4", "2 <= k <= members (3)"},
      {"up --base-port 80", "--base-port must"}, {"up --base-port 65530", "--base-port must"},
      {"up --frobnicate 1", "unknown option"},   {"down --members 3", "unknown option"},
      {"up --members", "needs a value"},         {"sideways", "unknown command"},
      {"up stray", "unexpected argument"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.args);
    std::string args = b.args;
    std::size_t space = args.find(' ');
    std::string verb = args.substr(0, space);
    std::string rest = space == std::string::npos ? "" : args.substr(space);
    Run x = run_script(verb + " --dir " + dir.path.string() + "/fresh" + rest);
    CHECK(x.rc != 0);
    CHECK_MESSAGE(x.out.find(b.fragment) != std::string::npos, x.out);
  }
  CHECK(run_script("down --dir " + dir.path.string() + "/never").out.find("no cluster in") !=
        std::string::npos);
  CHECK(run_script("status --dir " + dir.path.string() + "/never").rc != 0);
}
