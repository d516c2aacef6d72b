#pragma once
// The command-line flags of etsecd-node, named like etcd's, and their ETSECD_* environment twins.
// One table drives parsing, the environment names and --help, so they cannot drift apart.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::config {

enum class FlagKind {
  kString,  // --flag=value or --flag value
  kBool,    // --flag (true), --flag=true|false; never consumes the next argument (Go flag rules)
  kAction,  // --help, --version: no value, not read from the environment
};

struct FlagSpec {
  std::string_view name;  // without dashes: "initial-cluster"
  FlagKind kind;
  std::string_view value_name;    // for --help: "URLS", "N", ...
  std::string_view default_text;  // for --help; empty when there is no default
  std::string_view help;
};

std::span<const FlagSpec> flag_specs();

// "initial-cluster" -> "ETSECD_INITIAL_CLUSTER".
std::string env_name(std::string_view flag);

// The full --help text, one entry per flag with its environment variable and default.
std::string help_text();

// Environment variables, injected so tests need not touch the process environment.
using Environment = std::map<std::string, std::string, std::less<>>;

// The ETSECD_* variables of this process.
Environment process_environment();

// Raw flag values after merging the command line over the environment; not yet validated.
struct FlagValues {
  struct Value {
    std::string text;
    std::string source;  // "--threshold" or "ETSECD_THRESHOLD", for error messages
  };
  std::map<std::string, Value, std::less<>> values;  // keyed by flag name
  bool help = false;
  bool version = false;
  std::vector<std::string> warnings;  // e.g. unknown ETSECD_* variables
};

// Parses `args` (argv without the program name). Flags win over environment variables.
// Errors: config.unknown_flag, config.missing_value, config.duplicate_flag, config.unexpected_argument,
// config.bad_bool.
Result<FlagValues> parse_flags(std::span<const std::string> args, const Environment& env);

}  // namespace etsecd::config
