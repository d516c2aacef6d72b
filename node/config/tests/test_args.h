#pragma once
// A valid three-member invocation (plaintext peers, no TLS files) and helpers to vary it.

#include <string>
#include <string_view>
#include <vector>

#include "etsecd/config/load.h"

namespace etsecd::config::testing {

inline std::vector<std::string> base_args() {
  return {"--name=m2",
          "--listen-client-urls=http://127.0.0.1:2479",
          "--advertise-client-urls=http://127.0.0.1:2479",
          "--listen-peer-urls=http://127.0.0.1:2480",
          "--initial-advertise-peer-urls=http://127.0.0.1:2480",
          "--initial-cluster=m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2480,m3=http://127.0.0.1:2580",
          "--threshold=2",
          "--insecure-peer"};
}

// Replaces --flag=... (or adds it) with `arg`, which has the form --flag=value or --flag.
inline std::vector<std::string> with(std::vector<std::string> args, const std::string& arg) {
  std::string key = arg.substr(0, arg.find('='));
  for (std::string& a : args) {
    if (a.substr(0, a.find('=')) == key) {
      a = arg;
      return args;
    }
  }
  args.push_back(arg);
  return args;
}

inline std::vector<std::string> without(std::vector<std::string> args, std::string_view flag) {
  std::erase_if(args,
                [&](const std::string& a) { return a.substr(0, a.find('=')) == "--" + std::string(flag); });
  return args;
}

inline Result<Invocation> run(const std::vector<std::string>& args, const Environment& env = {}) {
  return load(args, env);
}

// The error code of a failed load, or "ok".
inline std::string code_of(const std::vector<std::string>& args, const Environment& env = {}) {
  auto r = run(args, env);
  return r.ok() ? "ok" : r.error().code;
}

inline std::string message_of(const std::vector<std::string>& args, const Environment& env = {}) {
  auto r = run(args, env);
  return r.ok() ? "ok" : r.error().message;
}

}  // namespace etsecd::config::testing
