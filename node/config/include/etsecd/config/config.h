#pragma once
// The settings of one etsecd member, after parsing and validation. Every field has been checked by
// validate() (see load.h) before the member uses it.

#include <cstdint>
#include <string>
#include <vector>

#include "etsecd/config/url.h"

namespace etsecd::config {

enum class ClusterState { kNew, kExisting };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct InitialMember {
  std::string name;
  Url peer_url;
  std::uint32_t share_index = 0;  // 1-based position in --initial-cluster
};

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;  // require and verify the connecting side's certificate

  bool enabled() const { return !cert_file.empty(); }
};

inline constexpr std::uint64_t kDefaultMaxRequestBytes = 1572864;  // 1.5 MiB, etcd's default
inline constexpr std::uint64_t kDefaultSnapshotCount = 10000;      // etcd 3.5's default
inline constexpr std::uint32_t kDefaultHeartbeatMs = 100;
inline constexpr std::uint32_t kDefaultElectionMs = 1000;
inline constexpr std::uint64_t kDefaultInflightShareCacheBytes = 64ull << 20;

struct Config {
  std::string name;
  std::string data_dir;  // default "<name>.etsecd"

  std::vector<Url> listen_client_urls;
  std::vector<Url> advertise_client_urls;
  std::vector<Url> listen_peer_urls;
  std::vector<Url> initial_advertise_peer_urls;
  std::vector<Url> listen_metrics_urls;  // may be empty: no metrics/health listener

  std::vector<InitialMember> initial_cluster;  // in --initial-cluster order
  ClusterState initial_cluster_state = ClusterState::kNew;
  // Whether --name appears in --initial-cluster. When not, the member joins the running cluster
  // whatever --initial-cluster-state says (docs/operations.md, "How a member starts").
  bool in_initial_cluster = true;
  std::string initial_cluster_token = "etsecd-cluster";

  TlsFiles client_tls;
  TlsFiles peer_tls;           // client_cert_auth defaults to true and may not be turned off
  bool insecure_peer = false;  // plaintext peer traffic: tests only

  std::uint32_t threshold = 0;      // k
  std::uint32_t commit_quorum = 0;  // W (defaulted to ceil((n+k)/2) by validation)
  // Whether --commit-quorum (or its variable) was given. Without it the cluster uses the default W for
  // its current voter count, recomputed at every membership change; a given W stays fixed.
  bool commit_quorum_explicit = false;
  // This member's share index x. For a new cluster it is the member's position in --initial-cluster;
  // for an existing cluster it comes from --share-index, or 0 meaning "take it from the data directory
  // or the membership record" (issue 4).
  std::uint32_t share_index = 0;

  std::uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  std::uint64_t snapshot_count = kDefaultSnapshotCount;
  std::uint32_t heartbeat_interval_ms = kDefaultHeartbeatMs;
  std::uint32_t election_timeout_ms = kDefaultElectionMs;
  std::uint64_t inflight_share_cache_bytes = kDefaultInflightShareCacheBytes;
  LogLevel log_level = LogLevel::kInfo;

  std::uint32_t voters() const { return static_cast<std::uint32_t>(initial_cluster.size()); }
};

const char* to_string(ClusterState state);
const char* to_string(LogLevel level);

}  // namespace etsecd::config
