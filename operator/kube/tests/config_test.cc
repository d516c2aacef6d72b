#include "etsecd/kube/config.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "etsecd/kube/clock.h"
#include "etsecd/kube/errors.h"
#include "etsecd/kube/token_source.h"

using namespace etsecd::kube;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "etsecd-kube-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n" and friends, base64-encoded.
const char* kCaB64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmNhCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";
const char* kCaPem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";

}  // namespace

TEST_CASE("base64") {
  CHECK(*base64_decode("aGVsbG8=") == "hello");
  CHECK(*base64_decode("aGVs\nbG8h") == "hello!");
  CHECK(*base64_decode("") == "");
  CHECK(*base64_decode(kCaB64) == kCaPem);
  CHECK_FALSE(base64_decode("aGVsbG8").ok());
  CHECK_FALSE(base64_decode("aGV$bG8=").ok());
  CHECK_FALSE(base64_decode("aG=sbG8=").ok());
}

TEST_CASE("kubeconfig with inline data and a token") {
  std::string yaml = std::string(R"J(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )J") +
                     kCaB64 + R"J(
- name: other
  cluster:
    server: https://10.0.0.1
contexts:
- name: dev
  context: {cluster: local, user: admin, namespace: etsecd}
- name: prod
  context: {cluster: other, user: admin}
users:
- name: admin
  user:
    token: abc.def
)J";
  auto c = kubeconfig_from_yaml(yaml, "/nowhere");
  REQUIRE(c.ok());
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->ca_pem == kCaPem);
  CHECK(c->bearer_token == "abc.def");
  CHECK(c->default_namespace == "etsecd");
  CHECK_FALSE(c->insecure_skip_tls_verify);
  CHECK(c->client_cert_pem.empty());

  auto prod = kubeconfig_from_yaml(yaml, "/nowhere", "prod");
  REQUIRE(prod.ok());
  CHECK(prod->server == "https://10.0.0.1");
  CHECK(prod->ca_pem.empty());
  CHECK(prod->default_namespace == "default");

  auto missing = kubeconfig_from_yaml(yaml, "/nowhere", "staging");
  REQUIRE_FALSE(missing.ok());
  CHECK(error_kind(missing.error()) == ErrorKind::kConfig);
  CHECK(missing.error().message.find("staging") != std::string::npos);
}

TEST_CASE("kubeconfig with file paths relative to the file and a client certificate") {
  TempDir dir;
  dir.write("pki/ca.crt", kCaPem);
  dir.write("pki/admin.crt", "CERT");
  dir.write("pki/admin.key", "KEY");
  std::string path = dir.write("conf/kubeconfig", R"J(apiVersion: v1
kind: Config
current-context: kind
clusters:
- name: kind
  cluster:
    server: https://[::1]:6443
    certificate-authority: ../pki/ca.crt
contexts:
- name: kind
  context: {cluster: kind, user: admin}
users:
- name: admin
  user:
    client-certificate: ../pki/admin.crt
    client-key: ../pki/admin.key
)J");
  auto c = kubeconfig_from_files(path);
  REQUIRE(c.ok());
  CHECK(c->server == "https://[::1]:6443");
  CHECK(c->ca_pem == kCaPem);
  CHECK(c->client_cert_pem == "CERT");
  CHECK(c->client_key_pem == "KEY");
  CHECK(c->bearer_token.empty());
  CHECK(c->source.find("context kind") != std::string::npos);

  fs::remove(dir.path / "pki/admin.key");
  auto broken = kubeconfig_from_files(path);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message.find("admin.key") != std::string::npos);
}

TEST_CASE("kubeconfig client certificate data, tokenFile and insecure flag") {
  auto c = kubeconfig_from_yaml(R"J(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ, tokenFile: tok}}]
)J",
                                "/base");
  REQUIRE(c.ok());
  CHECK(c->insecure_skip_tls_verify);
  CHECK(c->client_cert_pem == "CERT");
  CHECK(c->client_key_pem == "KEY");
  CHECK(c->token_file == "/base/tok");
}

TEST_CASE("kubeconfig errors are clear") {
  auto check_error = [](const std::string& yaml, const std::string& needle) {
    auto c = kubeconfig_from_yaml(yaml, "/b");
    REQUIRE_FALSE(c.ok());
    CHECK(error_kind(c.error()) == ErrorKind::kConfig);
    INFO(c.error().message);
    CHECK(c.error().message.find(needle) != std::string::npos);
  };
  const std::string head =
      "current-context: x\nclusters: [{name: c, cluster: {server: 'https://h'}}]\n"
      "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
  check_error(head + "users: [{name: u, user: {exec: {command: aws}}}]\n", "exec");
  check_error(head + "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n", "without its key");
  check_error(head + "users: [{name: u, user: {client-key-data: '!!'}}]\n", "base64");
  check_error(head + "users: [{name: u, user: {username: a, password: b}}]\n", "basic auth");
  check_error(head, "names user \"u\"");
  check_error("clusters: [", "not valid YAML");
  check_error("- a\n- b\n", "not a YAML map");
  check_error("current-context: x\ncontexts: [{name: x, context: {cluster: nope}}]\n", "names cluster");
  check_error(
      "current-context: x\nclusters: [{name: c, cluster: {server: 'ftp://h'}}]\n"
      "contexts: [{name: x, context: {cluster: c}}]\n",
      "not an http(s) URL");
  check_error("clusters: []\n", "no current-context");
}

TEST_CASE("KUBECONFIG lists merge: first definition wins, missing files skipped") {
  TempDir dir;
  std::string a = dir.write("a", "current-context: one\ncontexts: [{name: one, context: {cluster: c}}]\n");
  std::string b = dir.write("b",
                            "current-context: two\nclusters: [{name: c, cluster: {server: 'https://b:1'}}]\n"
                            "contexts: [{name: one, context: {cluster: nope}}]\n");
  auto c = kubeconfig_from_files(a + ":" + (dir.path / "missing").string() + ":" + b);
  REQUIRE(c.ok());
  CHECK(c->server == "https://b:1");
  CHECK_FALSE(kubeconfig_from_files((dir.path / "missing").string()).ok());
}

TEST_CASE("in-cluster config from the service account") {
  TempDir dir;
  dir.write("token", "tok-1\n");
  dir.write("ca.crt", kCaPem);
  dir.write("namespace", "etsecd-system");
  auto c = in_cluster_config(
      env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
      dir.path.string());
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.96.0.1:443");
  CHECK(c->ca_pem == kCaPem);
  CHECK(c->token_file == (dir.path / "token").string());
  CHECK(c->bearer_token.empty());
  CHECK(c->default_namespace == "etsecd-system");

  auto v6 =
      in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
                        dir.path.string());
  CHECK(v6->server == "https://[fd00::1]:443");

  CHECK_FALSE(in_cluster_config(env_of({}), dir.path.string()).ok());
  fs::remove(dir.path / "ca.crt");
  CHECK_FALSE(in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}}),
                                dir.path.string())
                  .ok());
}

TEST_CASE("default config: in-cluster first, then KUBECONFIG, then HOME") {
  TempDir dir;
  std::string kc = dir.write("kc",
                             "current-context: x\nclusters: [{name: c, cluster: {server: 'https://kc'}}]\n"
                             "contexts: [{name: x, context: {cluster: c}}]\n");
  dir.write("home/.kube/config",
            "current-context: x\nclusters: [{name: c, cluster: {server: 'https://home'}}]\n"
            "contexts: [{name: x, context: {cluster: c}}]\n");
  std::string sa = (dir.path / "sa").string();
  CHECK(load_default_config(env_of({{"KUBECONFIG", kc}}), sa)->server == "https://kc");
  CHECK(load_default_config(env_of({{"HOME", (dir.path / "home").string()}}), sa)->server == "https://home");
  dir.write("sa/token", "t");
  dir.write("sa/ca.crt", kCaPem);
  CHECK(
      load_default_config(
          env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "6443"}, {"KUBECONFIG", kc}}),
          sa)
          ->server == "https://h:6443");
  CHECK_FALSE(load_default_config(env_of({}), sa).ok());
}

TEST_CASE("rotated service account tokens are picked up") {
  TempDir dir;
  std::string path = dir.write("token", "first\n");
  ManualClock clock;
  FileTokenSource source(path, clock, std::chrono::seconds(60));
  CHECK(*source.token() == "first");
  dir.write("token", "second");
  CHECK(*source.token() == "first");  // cached within the refresh interval
  clock.advance(std::chrono::seconds(61));
  CHECK(*source.token() == "second");
  dir.write("token", "third");
  source.invalidate();  // the server said 401
  CHECK(*source.token() == "third");
  fs::remove(path);
  clock.advance(std::chrono::seconds(61));
  CHECK(*source.token() == "third");  // a briefly missing file keeps the last good token
  FileTokenSource none((dir.path / "absent").string(), clock);
  CHECK_FALSE(none.token().ok());
}
