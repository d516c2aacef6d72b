#include "etsecd/config/load.h"

#include <charconv>
#include <limits>
#include <set>

#include "etsecd/common/quorum.h"
#include "etsecd/config/tls_files.h"

namespace etsecd::config {
namespace {

using Values = FlagValues;

const Values::Value* find(const Values& v, std::string_view name) {
  auto it = v.values.find(name);
  return it == v.values.end() ? nullptr : &it->second;
}

std::string text_or(const Values& v, std::string_view name, std::string fallback) {
  const Values::Value* value = find(v, name);
  return value ? value->text : std::move(fallback);
}

std::string source_of(const Values& v, std::string_view name) {
  const Values::Value* value = find(v, name);
  return value ? value->source : "--" + std::string(name);
}

Error missing(std::string_view name, std::string_view what) {
  return make_error("config.missing", "--" + std::string(name) + " (or " + env_name(name) +
                                          ") is required: " + std::string(what));
}

Result<std::uint64_t> number(const Values& v, std::string_view name, std::uint64_t fallback,
                             std::uint64_t min, std::uint64_t max) {
  const Values::Value* value = find(v, name);
  if (value == nullptr) return fallback;
  std::uint64_t n = 0;
  const std::string& t = value->text;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return make_error("config.bad_number", value->source + ": \"" + t + "\" is not a whole number");
  }
  if (n < min || n > max) {
    return make_error("config.bad_number", value->source + "=" + t + " is out of range " +
                                               std::to_string(min) + ".." + std::to_string(max));
  }
  return n;
}

Result<std::vector<Url>> urls(const Values& v, std::string_view name, bool required, std::string_view what) {
  const Values::Value* value = find(v, name);
  if (value == nullptr || value->text.empty()) {
    if (required) return missing(name, what);
    return std::vector<Url>{};
  }
  return parse_url_list(value->text, value->source);
}

Result<std::vector<InitialMember>> parse_initial_cluster(const Values& v) {
  const Values::Value* value = find(v, "initial-cluster");
  if (value == nullptr || value->text.empty()) {
    return missing("initial-cluster", "list every initial member as name=peer-url, comma-separated");
  }
  std::vector<InitialMember> members;
  std::set<std::string, std::less<>> names;
  std::set<std::string, std::less<>> peer_urls;
  std::string_view text = value->text;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == text.npos ? text.npos : comma - start);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return make_error("config.bad_initial_cluster",
                        value->source + ": entry \"" + std::string(item) + "\" is not name=peer-url");
    }
    std::string name(item.substr(0, eq));
    auto url = parse_url(item.substr(eq + 1), value->source);
    if (!url) return url.error();
    if (!names.insert(name).second) {
      return make_error("config.duplicate_member",
                        value->source + ": member name \"" + name +
                            "\" appears twice (each member has exactly one entry and one peer URL)");
    }
    if (!peer_urls.insert(url->str()).second) {
      return make_error("config.duplicate_peer_url",
                        value->source + ": peer URL " + url->str() + " is given to two members");
    }
    members.push_back(InitialMember{std::move(name), std::move(url.value()),
                                    static_cast<std::uint32_t>(members.size() + 1)});
    if (comma == text.npos) break;
    start = comma + 1;
  }
  return members;
}

Status check_schemes(const std::vector<Url>& list, std::string_view scheme, std::string_view source,
                     std::string_view why) {
  for (const Url& u : list) {
    if (u.scheme != scheme) {
      return make_error("config.scheme_mismatch", std::string(source) + ": " + u.str() + " must use " +
                                                      std::string(scheme) + ":// " + std::string(why));
    }
  }
  return Status::Ok();
}

Result<TlsFiles> tls_files(const Values& v, std::string_view prefix, bool default_auth) {
  TlsFiles tls;
  std::string p(prefix);
  tls.cert_file = text_or(v, p + "cert-file", "");
  tls.key_file = text_or(v, p + "key-file", "");
  tls.trusted_ca_file = text_or(v, p + "trusted-ca-file", "");
  tls.client_cert_auth = text_or(v, p + "client-cert-auth", default_auth ? "true" : "false") == "true";
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return make_error("config.tls_incomplete",
                      "--" + p + "cert-file and --" + p + "key-file must be given together");
  }
  return tls;
}

}  // namespace

const char* to_string(ClusterState state) { return state == ClusterState::kNew ? "new" : "existing"; }

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Result<Config> build_config(const FlagValues& v, std::vector<std::string>& warnings) {
  Config c;
  // Identity and layout.
  c.name = text_or(v, "name", "");
  if (c.name.empty()) return missing("name", "every member needs a name that appears in --initial-cluster");
  if (c.name.find_first_of("=,") != std::string::npos) {
    return make_error("config.bad_choice",
                      source_of(v, "name") + "=" + c.name + ": a name may not contain '=' or ','");
  }
  c.data_dir = text_or(v, "data-dir", c.name + ".etsecd");
  if (c.data_dir.empty()) return missing("data-dir", "an empty data directory is not allowed");

  // Addresses.
  auto lc = urls(v, "listen-client-urls", true, "where to serve the client API");
  if (!lc) return lc.error();
  c.listen_client_urls = std::move(lc.value());
  auto ac = urls(v, "advertise-client-urls", true, "the client URLs to tell clients");
  if (!ac) return ac.error();
  c.advertise_client_urls = std::move(ac.value());
  auto lp = urls(v, "listen-peer-urls", true, "where to accept other members");
  if (!lp) return lp.error();
  c.listen_peer_urls = std::move(lp.value());
  auto ap = urls(v, "initial-advertise-peer-urls", true, "this member's peer URLs as others reach them");
  if (!ap) return ap.error();
  c.initial_advertise_peer_urls = std::move(ap.value());
  auto lm = urls(v, "listen-metrics-urls", false, "");
  if (!lm) return lm.error();
  c.listen_metrics_urls = std::move(lm.value());

  // Cluster.
  auto members = parse_initial_cluster(v);
  if (!members) return members.error();
  c.initial_cluster = std::move(members.value());
  std::string state = text_or(v, "initial-cluster-state", "new");
  if (state == "new") {
    c.initial_cluster_state = ClusterState::kNew;
  } else if (state == "existing") {
    c.initial_cluster_state = ClusterState::kExisting;
  } else {
    return make_error("config.bad_choice",
                      source_of(v, "initial-cluster-state") + "=" + state + ": must be new or existing");
  }
  c.initial_cluster_token = text_or(v, "initial-cluster-token", c.initial_cluster_token);
  if (c.initial_cluster_token.empty()) return missing("initial-cluster-token", "the token may not be empty");

  // Numbers.
  constexpr std::uint64_t kU32 = std::numeric_limits<std::uint32_t>::max();
  const Values::Value* k_value = find(v, "threshold");
  if (k_value == nullptr) return missing("threshold", "how many shares rebuild a value (2 <= k <= members)");
  auto k = number(v, "threshold", 0, 0, kU32);
  if (!k) return k.error();
  c.threshold = static_cast<std::uint32_t>(*k);
  if (Status s = quorum::check_threshold(c.voters(), c.threshold); !s) return s.error();
  auto w = number(v, "commit-quorum", quorum::default_commit_quorum(c.voters(), c.threshold), 0, kU32);
  if (!w) return w.error();
  c.commit_quorum = static_cast<std::uint32_t>(*w);
  c.commit_quorum_explicit = find(v, "commit-quorum") != nullptr;
  if (Status s = quorum::check_commit_quorum(c.voters(), c.threshold, c.commit_quorum); !s) return s.error();

  auto max_req =
      number(v, "max-request-bytes", kDefaultMaxRequestBytes, 1, std::numeric_limits<std::int32_t>::max());
  if (!max_req) return max_req.error();
  c.max_request_bytes = *max_req;
  auto snap = number(v, "snapshot-count", kDefaultSnapshotCount, 1, std::numeric_limits<std::int64_t>::max());
  if (!snap) return snap.error();
  c.snapshot_count = *snap;
  auto hb = number(v, "heartbeat-interval", kDefaultHeartbeatMs, 1, 10000);
  if (!hb) return hb.error();
  c.heartbeat_interval_ms = static_cast<std::uint32_t>(*hb);
  auto el = number(v, "election-timeout", kDefaultElectionMs, 1, 50000);
  if (!el) return el.error();
  c.election_timeout_ms = static_cast<std::uint32_t>(*el);
  if (c.election_timeout_ms < 5 * c.heartbeat_interval_ms) {
    return make_error("config.timing", "--election-timeout=" + std::to_string(c.election_timeout_ms) +
                                           " must be at least 5 times --heartbeat-interval=" +
                                           std::to_string(c.heartbeat_interval_ms));
  }
  auto cache = number(v, "inflight-share-cache-bytes", kDefaultInflightShareCacheBytes, 0,
                      std::numeric_limits<std::int64_t>::max());
  if (!cache) return cache.error();
  c.inflight_share_cache_bytes = *cache;
  // The leader must be able to hold the other members' shares of at least one largest request.
  std::uint64_t needed = (c.voters() - 1) * c.max_request_bytes;
  if (c.inflight_share_cache_bytes < needed) {
    return make_error("config.cache_too_small",
                      "--inflight-share-cache-bytes=" + std::to_string(c.inflight_share_cache_bytes) +
                          " cannot hold the other members' shares of one largest request: at least " +
                          std::to_string(needed) + " ((members-1) * --max-request-bytes) is needed");
  }
  std::string level = text_or(v, "log-level", "info");
  if (level == "debug") {
    c.log_level = LogLevel::kDebug;
  } else if (level == "info") {
    c.log_level = LogLevel::kInfo;
  } else if (level == "warn") {
    c.log_level = LogLevel::kWarn;
  } else if (level == "error") {
    c.log_level = LogLevel::kError;
  } else {
    return make_error("config.bad_choice",
                      source_of(v, "log-level") + "=" + level + ": must be debug, info, warn or error");
  }

  // This member in the cluster, and its share index. A member whose --name is not in --initial-cluster
  // is not an initial member: it joins the running cluster (it must have been added with `member add
  // --learner` first) under its --initial-advertise-peer-urls, and learns its share index from the
  // cluster. So every member of a StatefulSet can run with the same --initial-cluster.
  const InitialMember* self = nullptr;
  for (const InitialMember& m : c.initial_cluster) {
    if (m.name == c.name) self = &m;
  }
  c.in_initial_cluster = self != nullptr;
  if (self != nullptr) {
    bool advertised = false;
    for (const Url& u : c.initial_advertise_peer_urls) advertised = advertised || u == self->peer_url;
    if (!advertised) {
      return make_error("config.peer_url_mismatch", "--initial-cluster gives " + c.name + " the peer URL " +
                                                        self->peer_url.str() +
                                                        ", which is not among --initial-advertise-peer-urls");
    }
  } else {
    for (const InitialMember& m : c.initial_cluster) {
      for (const Url& u : c.initial_advertise_peer_urls) {
        if (u == m.peer_url) {
          return make_error("config.peer_url_mismatch",
                            "--name=" + c.name +
                                " is not in --initial-cluster, but its advertised peer URL " + u.str() +
                                " is " + m.name + "'s there (a wrong --name?)");
        }
      }
    }
  }
  const Values::Value* x_value = find(v, "share-index");
  std::uint32_t given_x = 0;
  if (x_value != nullptr) {
    auto x = number(v, "share-index", 0, 1, quorum::kMaxMembers);
    if (!x) return x.error();
    given_x = static_cast<std::uint32_t>(*x);
  }
  if (c.initial_cluster_state == ClusterState::kNew && self != nullptr) {
    c.share_index = self->share_index;
    if (given_x != 0 && given_x != self->share_index) {
      return make_error("config.share_index_mismatch",
                        x_value->source + "=" + std::to_string(given_x) + " disagrees with " + c.name +
                            "'s position " + std::to_string(self->share_index) +
                            " in --initial-cluster (initial members get their 1-based position)");
    }
  } else {
    c.share_index = given_x;
  }

  // Transport security.
  auto client_tls = tls_files(v, "", false);
  if (!client_tls) return client_tls.error();
  c.client_tls = std::move(client_tls.value());
  if (!c.client_tls.enabled() && (!c.client_tls.trusted_ca_file.empty() || c.client_tls.client_cert_auth)) {
    return make_error(
        "config.tls_incomplete",
        "--trusted-ca-file and --client-cert-auth need --cert-file and --key-file (client TLS)");
  }
  if (c.client_tls.client_cert_auth && c.client_tls.trusted_ca_file.empty()) {
    return make_error("config.tls_incomplete",
                      "--client-cert-auth needs --trusted-ca-file to check clients against");
  }
  auto insecure = text_or(v, "insecure-peer", "false") == "true";
  c.insecure_peer = insecure;
  auto peer_tls = tls_files(v, "peer-", true);
  if (!peer_tls) return peer_tls.error();
  c.peer_tls = std::move(peer_tls.value());
  if (c.insecure_peer) {
    if (c.peer_tls.enabled() || !c.peer_tls.trusted_ca_file.empty()) {
      return make_error(
          "config.tls_conflict",
          "--insecure-peer turns peer TLS off, but peer TLS files are given: drop one or the other");
    }
    c.peer_tls.client_cert_auth = false;
    warnings.push_back(
        "INSECURE: --insecure-peer is set: peer traffic, including every member's shares, crosses the "
        "network in plaintext and any process can pose as a member. For tests only.");
  } else {
    if (!c.peer_tls.enabled() || c.peer_tls.trusted_ca_file.empty()) {
      return make_error("config.tls_incomplete",
                        "members talk over mutual TLS: --peer-cert-file, --peer-key-file and "
                        "--peer-trusted-ca-file are required (--insecure-peer exists for tests only)");
    }
    if (!c.peer_tls.client_cert_auth) {
      return make_error("config.tls_conflict",
                        "--peer-client-cert-auth=false is refused: members talk over mutual TLS only");
    }
  }
  const std::string client_scheme = c.client_tls.enabled() ? "https" : "http";
  const std::string client_why =
      c.client_tls.enabled() ? "because client TLS is on (--cert-file)" : "because no --cert-file is given";
  if (Status s = check_schemes(c.listen_client_urls, client_scheme, "--listen-client-urls", client_why); !s) {
    return s.error();
  }
  if (Status s = check_schemes(c.advertise_client_urls, client_scheme, "--advertise-client-urls", client_why);
      !s) {
    return s.error();
  }
  const std::string peer_scheme = c.insecure_peer ? "http" : "https";
  const std::string peer_why =
      c.insecure_peer ? "because --insecure-peer is set" : "because peers use mutual TLS";
  for (const auto& [list, flag] :
       {std::pair{&c.listen_peer_urls, "--listen-peer-urls"},
        std::pair{&c.initial_advertise_peer_urls, "--initial-advertise-peer-urls"}}) {
    if (Status s = check_schemes(*list, peer_scheme, flag, peer_why); !s) return s.error();
  }
  for (const InitialMember& m : c.initial_cluster) {
    if (Status s = check_schemes({m.peer_url}, peer_scheme, "--initial-cluster", peer_why); !s)
      return s.error();
  }
  if (Status s = check_schemes(c.listen_metrics_urls, "http", "--listen-metrics-urls",
                               "(metrics, health and readiness carry no secrets and are served plain)");
      !s) {
    return s.error();
  }

  if (Status s = check_tls_files(c.client_tls, ""); !s) return s.error();
  if (Status s = check_tls_files(c.peer_tls, "peer-"); !s) return s.error();
  return c;
}

Result<Invocation> load(std::span<const std::string> args, const Environment& env) {
  auto flags = parse_flags(args, env);
  if (!flags) return flags.error();
  Invocation inv;
  inv.warnings = flags->warnings;
  if (flags->help) {
    inv.action = Invocation::Action::kHelp;
    return inv;
  }
  if (flags->version) {
    inv.action = Invocation::Action::kVersion;
    return inv;
  }
  auto config = build_config(*flags, inv.warnings);
  if (!config) return config.error();
  inv.config = std::move(config.value());
  return inv;
}

Result<Invocation> load(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return load(args, process_environment());
}

}  // namespace etsecd::config
