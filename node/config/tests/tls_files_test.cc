// Uses scripts/gen-certs for real certificates: the config checks and `openssl verify` must agree that
// a certificate from another CA does not verify.
#include "etsecd/config/tls_files.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_args.h"

using namespace etsecd::config;
using namespace etsecd::config::testing;
namespace fs = std::filesystem;

namespace {

int sh(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Two independent CAs with certificates for m1..m3, made once per test run.
struct Certs {
  fs::path root;
  fs::path a;
  fs::path b;
  Certs() {
    root = fs::temp_directory_path() / ("etsecd-tls-test-" + std::to_string(::getpid()));
    a = root / "a";
    b = root / "b";
    const std::string gen = std::string(ETSECD_SOURCE_DIR) + "/scripts/gen-certs";
    REQUIRE(sh(gen + " --dir " + a.string() + " --host node.example m1 m2 m3") == 0);
    REQUIRE(sh(gen + " --dir " + b.string() + " m1") == 0);
  }
  ~Certs() { fs::remove_all(root); }
  std::string at(const fs::path& dir, const std::string& file) const { return (dir / file).string(); }
};

const Certs& certs() {
  static Certs c;
  return c;
}

std::vector<std::string> tls_args(const Certs& c) {
  auto args = without(base_args(), "insecure-peer");
  for (std::string& a : args) {
    for (auto pos = a.find("http://"); pos != std::string::npos; pos = a.find("http://", pos)) {
      a.replace(pos, 7, "https://");
    }
  }
  for (const std::string& a :
       {"--cert-file=" + c.at(c.a, "m2-server.pem"), "--key-file=" + c.at(c.a, "m2-server-key.pem"),
        "--trusted-ca-file=" + c.at(c.a, "ca.pem"), std::string("--client-cert-auth"),
        "--peer-cert-file=" + c.at(c.a, "m2-peer.pem"), "--peer-key-file=" + c.at(c.a, "m2-peer-key.pem"),
        "--peer-trusted-ca-file=" + c.at(c.a, "ca.pem")}) {
    args.push_back(a);
  }
  return args;
}

}  // namespace

TEST_CASE("gen-certs output verifies with openssl, a foreign certificate does not") {
  const Certs& c = certs();
  for (const char* f : {"m1-server.pem", "m1-peer.pem", "m3-peer.pem", "client.pem"}) {
    CAPTURE(f);
    CHECK(sh("openssl verify -CAfile " + c.at(c.a, "ca.pem") + " " + c.at(c.a, f)) == 0);
  }
  CHECK(sh("openssl verify -CAfile " + c.at(c.a, "ca.pem") + " " + c.at(c.b, "m1-peer.pem")) != 0);
  CHECK(sh("openssl verify -CAfile " + c.at(c.b, "ca.pem") + " " + c.at(c.a, "m1-peer.pem")) != 0);
  // SANs: loopback and the given host name; peer certificates work as server and client.
  CHECK(sh("openssl x509 -in " + c.at(c.a, "m1-peer.pem") +
           " -noout -checkip 127.0.0.1 | grep -q 'does match'") == 0);
  CHECK(sh("openssl x509 -in " + c.at(c.a, "m1-peer.pem") + " -noout -checkip ::1 | grep -q 'does match'") ==
        0);
  CHECK(sh("openssl x509 -in " + c.at(c.a, "m1-peer.pem") +
           " -noout -checkhost localhost | grep -q 'does match'") == 0);
  CHECK(sh("openssl x509 -in " + c.at(c.a, "m1-peer.pem") +
           " -noout -checkhost node.example | grep -q 'does match'") == 0);
  CHECK(sh("openssl verify -purpose sslclient -CAfile " + c.at(c.a, "ca.pem") + " " +
           c.at(c.a, "m1-peer.pem")) == 0);
  CHECK(sh("openssl verify -purpose sslserver -CAfile " + c.at(c.a, "ca.pem") + " " +
           c.at(c.a, "m1-peer.pem")) == 0);
  CHECK(sh("openssl verify -purpose sslclient -CAfile " + c.at(c.a, "ca.pem") + " " +
           c.at(c.a, "client.pem")) == 0);
  CHECK(sh("openssl x509 -in " + c.at(c.a, "m1-peer.pem") + " -noout -text | grep -q 'prime256v1'") == 0);
  // Keys are private.
  CHECK((fs::status(c.a / "m1-peer-key.pem").permissions() & fs::perms::others_read) == fs::perms::none);
  CHECK((fs::status(c.a / "ca-key.pem").permissions() & fs::perms::group_read) == fs::perms::none);
}

TEST_CASE("gen-certs is idempotent and repairs what is missing") {
  const Certs& c = certs();
  const std::string gen = std::string(ETSECD_SOURCE_DIR) + "/scripts/gen-certs";
  auto read = [](const fs::path& p) {
    std::string text(fs::file_size(p), '\0');
    std::ifstream(p, std::ios::binary).read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
  };
  const std::string ca = read(c.a / "ca.pem");
  const std::string peer = read(c.a / "m1-peer.pem");
  REQUIRE(sh(gen + " --dir " + c.a.string() + " --host node.example m1 m2 m3") == 0);
  CHECK(read(c.a / "ca.pem") == ca);
  CHECK(read(c.a / "m1-peer.pem") == peer);
  fs::remove(c.a / "m3-server.pem");
  REQUIRE(sh(gen + " --dir " + c.a.string() + " --host node.example m1 m2 m3") == 0);
  CHECK(fs::exists(c.a / "m3-server.pem"));
  CHECK(read(c.a / "m1-peer.pem") == peer);
  // Bad input gets a clear refusal and writes nothing.
  CHECK(sh(gen + " m1") != 0);
  CHECK(sh(gen + " --dir " + c.a.string() + " 'bad/name'") != 0);
  CHECK(sh(gen + " --dir " + c.a.string() + " --days=x m1") != 0);
}

TEST_CASE("a full TLS configuration with real certificates validates") {
  const Certs& c = certs();
  auto r = run(tls_args(c));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->config.client_tls.enabled());
  CHECK(r->config.client_tls.client_cert_auth);
  CHECK(r->config.peer_tls.client_cert_auth);
  CHECK_FALSE(r->config.insecure_peer);
  CHECK(r->warnings.empty());
}

TEST_CASE("TLS file errors") {
  const Certs& c = certs();
  const auto b = tls_args(c);
  struct Case {
    std::vector<std::string> args;
    std::string code;
    std::string fragment;
  };
  const Case cases[] = {
      {with(b, "--peer-cert-file=" + c.at(c.a, "missing.pem")), "config.tls_file", "cannot be opened"},
      {with(b, "--cert-file=" + c.at(c.a, "m2-server-key.pem")), "config.tls_file", "no PEM certificate"},
      {with(b, "--key-file=" + c.at(c.a, "m2-server.pem")), "config.tls_file",
       "no unencrypted PEM private key"},
      {with(b, "--peer-key-file=" + c.at(c.a, "m1-peer-key.pem")), "config.tls_file", "does not belong"},
      // A certificate from another CA.
      {with(with(b, "--peer-cert-file=" + c.at(c.b, "m1-peer.pem")),
            "--peer-key-file=" + c.at(c.b, "m1-peer-key.pem")),
       "config.tls_file", "does not verify against"},
      {with(b, "--trusted-ca-file=" + c.at(c.b, "ca.pem")), "config.tls_file", "does not verify against"},
      {with(b, "--peer-trusted-ca-file=" + c.at(c.a, "nope.pem")), "config.tls_file",
       "--peer-trusted-ca-file"},
      {without(b, "peer-trusted-ca-file"), "config.tls_incomplete", "--peer-trusted-ca-file"},
      {with(b, "--peer-client-cert-auth=false"), "config.tls_conflict", "mutual TLS only"},
      {without(b, "trusted-ca-file"), "config.tls_incomplete", "--client-cert-auth needs --trusted-ca-file"},
      {with(b, "--listen-client-urls=http://127.0.0.1:2479"), "config.scheme_mismatch", "client TLS is on"},
      {with(b, "--insecure-peer"), "config.tls_conflict", "--insecure-peer"},
  };
  for (const Case& k : cases) {
    std::string joined;
    for (const std::string& a : k.args) joined += a + " ";
    CAPTURE(joined);
    auto r = run(k.args);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == k.code);
    CHECK_MESSAGE(r.error().message.find(k.fragment) != std::string::npos, r.error().message);
  }
  // An unreadable file (skipped when running as root, who can read anything).
  if (::geteuid() != 0) {
    fs::path locked = c.a / "locked.pem";
    fs::copy_file(c.a / "m2-peer.pem", locked, fs::copy_options::overwrite_existing);
    fs::permissions(locked, fs::perms::none);
    auto r = run(with(b, "--peer-cert-file=" + locked.string()));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("cannot be opened") != std::string::npos);
  }
}

TEST_CASE("server certificate of a plain client config without a CA is still checked for its key") {
  const Certs& c = certs();
  auto args = without(without(tls_args(c), "trusted-ca-file"), "client-cert-auth");
  auto ok = run(args);
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  CHECK_FALSE(ok->config.client_tls.client_cert_auth);
  auto bad = run(with(args, "--key-file=" + c.at(c.a, "m1-server-key.pem")));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("does not belong") != std::string::npos);
}
