#pragma once
// From argv and the environment to a validated Config: the one call etsecd-node's main makes.

#include <span>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/config/config.h"
#include "etsecd/config/fingerprint.h"  // callers of load() pass cluster_fingerprint() to the peer handshake
#include "etsecd/config/flags.h"

namespace etsecd::config {

struct Invocation {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  Config config;                      // filled only for kRun
  std::vector<std::string> warnings;  // print these before starting (e.g. --insecure-peer)
};

// Parses and validates. On kHelp/kVersion nothing else is validated. Every error names the flag (or
// ETSECD_* variable) at fault and what would be accepted. Error codes: those of parse_flags, plus
// config.missing, config.bad_number, config.bad_url, config.bad_choice, config.bad_initial_cluster,
// config.duplicate_member, config.duplicate_peer_url, config.name_not_in_cluster,
// config.peer_url_mismatch, config.threshold_range, config.commit_quorum_range,
// config.too_many_members, config.share_index_mismatch, config.scheme_mismatch, config.tls_incomplete,
// config.tls_conflict, config.tls_file, config.timing, config.cache_too_small.
Result<Invocation> load(std::span<const std::string> args, const Environment& env);

// Convenience for main(): argv[1..] and the process environment.
Result<Invocation> load(int argc, char** argv);

// Builds and validates a Config from parsed flag values (load() = parse_flags + this).
Result<Config> build_config(const FlagValues& flags, std::vector<std::string>& warnings);

}  // namespace etsecd::config
