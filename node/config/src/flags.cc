#include "etsecd/config/flags.h"

#include <array>
#include <cctype>
#include <optional>

extern char** environ;  // NOLINT: POSIX

namespace etsecd::config {
namespace {

using K = FlagKind;

// clang-format off
constexpr std::array kFlags{
  FlagSpec{"name", K::kString, "NAME", "", "Human-readable name of this member; must appear in --initial-cluster. Required."},
  FlagSpec{"data-dir", K::kString, "DIR", "<name>.etsecd", "Directory for the Raft log, hard state and this member's shares."},
  FlagSpec{"listen-client-urls", K::kString, "URLS", "", "Comma-separated URLs to serve the etcd v3 client API on. Required."},
  FlagSpec{"advertise-client-urls", K::kString, "URLS", "", "Client URLs told to clients and other members. Required."},
  FlagSpec{"listen-peer-urls", K::kString, "URLS", "", "URLs to accept peer (member-to-member) traffic on. Required."},
  FlagSpec{"initial-advertise-peer-urls", K::kString, "URLS", "", "This member's peer URLs as other members reach them; one must equal its --initial-cluster entry. Required."},
  FlagSpec{"initial-cluster", K::kString, "NAME=URL,...", "", "Initial members and their peer URLs, in share-index order: the i-th member gets share index i. Required."},
  FlagSpec{"initial-cluster-state", K::kString, "new|existing", "new", "'new' when bootstrapping a cluster, 'existing' when joining one."},
  FlagSpec{"initial-cluster-token", K::kString, "TOKEN", "etsecd-cluster", "Token unique to this cluster, so two clusters never mistake each other's members."},
  FlagSpec{"cert-file", K::kString, "FILE", "", "Client-side TLS certificate (PEM). With --key-file, client URLs must be https."},
  FlagSpec{"key-file", K::kString, "FILE", "", "Private key (PEM) for --cert-file."},
  FlagSpec{"trusted-ca-file", K::kString, "FILE", "", "CA bundle (PEM) that client certificates must chain to."},
  FlagSpec{"client-cert-auth", K::kBool, "", "false", "Require clients to present a certificate signed by --trusted-ca-file."},
  FlagSpec{"peer-cert-file", K::kString, "FILE", "", "Peer TLS certificate (PEM), used both to serve and to dial other members. Required unless --insecure-peer."},
  FlagSpec{"peer-key-file", K::kString, "FILE", "", "Private key (PEM) for --peer-cert-file."},
  FlagSpec{"peer-trusted-ca-file", K::kString, "FILE", "", "CA bundle (PEM) that other members' certificates must chain to."},
  FlagSpec{"peer-client-cert-auth", K::kBool, "", "true", "Require members to present a certificate from --peer-trusted-ca-file. Members talk over mutual TLS only, so it cannot be turned off."},
  FlagSpec{"insecure-peer", K::kBool, "", "false", "TESTS ONLY: plaintext peer traffic (http peer URLs, no peer TLS). Shares then cross the network in the clear."},
  FlagSpec{"threshold", K::kString, "K", "", "Shares needed to rebuild a value (k): 2 <= k <= number of members. Required."},
  FlagSpec{"commit-quorum", K::kString, "W", "ceil((n+k)/2)", "Members that must persist an entry before it commits; max(floor(n/2)+1, k) <= W <= n."},
  FlagSpec{"share-index", K::kString, "X", "", "This member's share index (1..255). Optional for a new cluster (it must then equal the member's position in --initial-cluster)."},
  FlagSpec{"listen-metrics-urls", K::kString, "URLS", "", "Comma-separated http URLs serving /metrics, /health and /readyz. Empty: none."},
  FlagSpec{"max-request-bytes", K::kString, "BYTES", "1572864", "Largest client request accepted (etcd's default, 1.5 MiB)."},
  FlagSpec{"snapshot-count", K::kString, "N", "10000", "Committed entries between compactions of the Raft log."},
  FlagSpec{"heartbeat-interval", K::kString, "MS", "100", "Leader heartbeat interval in milliseconds."},
  FlagSpec{"election-timeout", K::kString, "MS", "1000", "Election timeout in milliseconds; at least 5 heartbeat intervals."},
  FlagSpec{"inflight-share-cache-bytes", K::kString, "BYTES", "67108864", "Memory the leader may use to keep other members' shares of entries not yet on every member."},
  FlagSpec{"log-level", K::kString, "debug|info|warn|error", "info", "Lowest level of log lines written to stderr."},
  FlagSpec{"version", K::kAction, "", "", "Print the version and exit."},
  FlagSpec{"help", K::kAction, "", "", "Print this help and exit."},
};
// clang-format on

const FlagSpec* find_spec(std::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Result<bool> parse_bool(std::string_view text, std::string_view source) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return make_error("config.bad_bool", std::string(source) + ": \"" + std::string(text) +
                                           "\" is not a boolean (use true or false)");
}

}  // namespace

std::span<const FlagSpec> flag_specs() { return kFlags; }

std::string env_name(std::string_view flag) {
  std::string out = "ETSECD_";
  for (char c : flag) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string help_text() {
  std::string out =
      "Usage: etsecd-node [flags]\n"
      "       etsecd-node inspect --data-dir DIR [--prefix P]\n\n"
      "A member of an etsecd cluster: Raft over per-member Shamir shares behind the etcd v3 API.\n"
      "Flags take --flag=value or --flag value (booleans: --flag or --flag=false). Every flag can also be\n"
      "set through the environment variable shown; a flag on the command line wins.\n\n";
  for (const FlagSpec& spec : kFlags) {
    out += "  --" + std::string(spec.name);
    if (spec.kind == FlagKind::kString) out += " " + std::string(spec.value_name);
    out += "\n      " + std::string(spec.help) + "\n";
    if (spec.kind != FlagKind::kAction) {
      out += "      env " + env_name(spec.name);
      if (!spec.default_text.empty()) out += ", default " + std::string(spec.default_text);
      out += "\n";
    }
  }
  return out;
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("ETSECD_", 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

Result<FlagValues> parse_flags(std::span<const std::string> args, const Environment& env) {
  FlagValues out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("-", 0) != 0 || arg == "-" || arg == "--") {
      return make_error("config.unexpected_argument",
                        "unexpected argument \"" + arg + "\": etsecd-node takes only flags (see --help)");
    }
    // Go's flag package, which etcd uses, accepts one or two dashes.
    std::string_view body = std::string_view(arg).substr(arg.rfind("--", 0) == 0 ? 2 : 1);
    std::string_view name = body;
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = std::string(body.substr(eq + 1));
    }
    const FlagSpec* spec = find_spec(name);
    if (spec == nullptr) {
      return make_error("config.unknown_flag", "unknown flag --" + std::string(name) + " (see --help)");
    }
    std::string source = "--" + std::string(name);
    if (spec->kind == FlagKind::kAction) {
      if (value) return make_error("config.unexpected_argument", source + " takes no value");
      (name == "help" ? out.help : out.version) = true;
      continue;
    }
    if (out.values.count(name) != 0) {
      return make_error("config.duplicate_flag", source + " is given more than once");
    }
    if (spec->kind == FlagKind::kBool) {
      if (!value) value = "true";
      auto b = parse_bool(*value, source);
      if (!b) return b.error();
      value = *b ? "true" : "false";
    } else if (!value) {
      if (i + 1 >= args.size()) return make_error("config.missing_value", source + " needs a value");
      value = args[++i];
    }
    out.values.emplace(std::string(name), FlagValues::Value{std::move(*value), std::move(source)});
  }
  // The environment fills in what the command line left unset.
  for (const auto& [key, text] : env) {
    if (key.rfind("ETSECD_", 0) != 0) continue;
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& candidate : kFlags) {
      if (candidate.kind != FlagKind::kAction && env_name(candidate.name) == key) spec = &candidate;
    }
    if (spec == nullptr) {
      out.warnings.push_back("ignoring unknown environment variable " + key);
      continue;
    }
    if (out.values.count(spec->name) != 0) continue;
    std::string value = text;
    if (spec->kind == FlagKind::kBool) {
      auto b = parse_bool(text, key);
      if (!b) return b.error();
      value = *b ? "true" : "false";
    }
    out.values.emplace(std::string(spec->name), FlagValues::Value{std::move(value), key});
  }
  return out;
}

}  // namespace etsecd::config
