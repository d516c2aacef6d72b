#pragma once
// A CA and leaf certificates valid for 127.0.0.1, made with the openssl tool as an operator would.

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "etsecd/transport/peer_transport.h"

namespace etsecd::transport::testing {

inline void sh(const std::string& cmd) {
  int rc = std::system(("(" + cmd + ") >/dev/null 2>&1").c_str());
  REQUIRE_MESSAGE(rc == 0, cmd);
}

struct TestPki {
  std::filesystem::path dir;
  explicit TestPki(const std::string& name) {
    dir = std::filesystem::temp_directory_path() /
          ("etsecd-transport-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    sh("cd " + dir.string() +
       " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt"
       " -days 2 -subj /CN=test-ca-" +
       name);
  }
  ~TestPki() { std::filesystem::remove_all(dir); }
  TlsFiles leaf(const std::string& cn) {
    sh("cd " + dir.string() + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
       cn + ".key -out " + cn + ".csr -subj /CN=" + cn +
       " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
       "extendedKeyUsage=serverAuth,clientAuth\\n' > " +
       cn + ".ext && openssl x509 -req -in " + cn +
       ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out " + cn + ".crt -extfile " + cn + ".ext");
    return TlsFiles{(dir / (cn + ".crt")).string(), (dir / (cn + ".key")).string(),
                    (dir / "ca.crt").string()};
  }
};

}  // namespace etsecd::transport::testing
