#include "etsecd/config/describe.h"

#include "etsecd/common/quorum.h"
#include "etsecd/config/fingerprint.h"

namespace etsecd::config {
namespace {

std::string join(const std::vector<Url>& urls) {
  std::string out;
  for (const Url& u : urls) out += (out.empty() ? "" : ",") + u.str();
  return out.empty() ? "(none)" : out;
}

std::string tls_line(const TlsFiles& tls) {
  if (!tls.enabled()) return "off";
  std::string out = "cert " + tls.cert_file + ", key " + tls.key_file;
  if (!tls.trusted_ca_file.empty()) out += ", ca " + tls.trusted_ca_file;
  out += tls.client_cert_auth ? ", certificates required" : ", certificates not required";
  return out;
}

}  // namespace

std::string describe(const Config& c) {
  const std::uint32_t n = c.voters();
  const std::uint32_t k = c.threshold;
  const std::uint32_t w = c.commit_quorum;
  const quorum::FaultTolerance t = quorum::fault_tolerance(n, k, w);
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += "  " + key + ": " + value + "\n";
  };
  out += "etsecd member " + c.name + "\n";
  line("data dir", c.data_dir);
  line("share index", c.share_index != 0 ? std::to_string(c.share_index) : "from the data directory");
  line("client urls", join(c.listen_client_urls) + " (advertised " + join(c.advertise_client_urls) + ")");
  line("peer urls", join(c.listen_peer_urls) + " (advertised " + join(c.initial_advertise_peer_urls) + ")");
  line("metrics urls", join(c.listen_metrics_urls));
  std::string members;
  for (const InitialMember& m : c.initial_cluster) {
    members += (members.empty() ? "" : ", ") + m.name + "=" + m.peer_url.str() +
               " (x=" + std::to_string(m.share_index) + ")";
  }
  line("initial cluster", members);
  line("cluster state",
       std::string(to_string(c.initial_cluster_state)) + ", token " + c.initial_cluster_token);
  line("cluster fingerprint", cluster_fingerprint(c));
  line("client tls", tls_line(c.client_tls));
  line("peer tls", c.insecure_peer ? "OFF (--insecure-peer: plaintext, tests only)" : tls_line(c.peer_tls));
  line("members n", std::to_string(n));
  line("threshold k", std::to_string(k));
  line("commit quorum W", std::to_string(w) + (w == quorum::default_commit_quorum(n, k) ? " (default)" : "") +
                              ", allowed " + std::to_string(quorum::min_commit_quorum(n, k)) + ".." +
                              std::to_string(n));
  line("writes tolerate", std::to_string(t.writes) + " members down (n-W)");
  line("reads right after commit tolerate", std::to_string(t.reads_after_commit) + " members down (W-k)");
  line("reads once fully replicated tolerate", std::to_string(t.reads_replicated) + " members down (n-k)");
  line("elections tolerate", std::to_string(t.elections) + " members down");
  if (!quorum::leader_change_never_stalls(n, k, w)) {
    line("note",
         "W < ceil((n+k)/2): a leader change while members are down may wait for them to return "
         "(data is never lost)");
  }
  line("max request bytes", std::to_string(c.max_request_bytes));
  line("heartbeat / election",
       std::to_string(c.heartbeat_interval_ms) + " ms / " + std::to_string(c.election_timeout_ms) + " ms");
  line("snapshot count", std::to_string(c.snapshot_count));
  line("inflight share cache bytes", std::to_string(c.inflight_share_cache_bytes));
  line("log level", to_string(c.log_level));
  return out;
}

}  // namespace etsecd::config
