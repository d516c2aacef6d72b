#pragma once
// One etsecd member at run time: the Raft core driven by one loop thread, the Raft log and the MVCC
// store in RocksDB, the peer transport, and the read path that rebuilds values from k members' shares.
// The etcd API adapter (etcd_api_service.cc) and main() are its only users; this header keeps gRPC,
// protobuf and RocksDB out of their way.
//
// Plaintext values exist only in this process's memory: in write() before the core splits them, and in
// the ValueMaps that reads return. They never reach a log line, a metric or the disk.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/log/logger.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/transport/peer_transport.h"
#include "etsecd/wire/share_fetch.h"

namespace etsecd::server {

using Deadline = std::chrono::steady_clock::time_point;

struct PeerSpec {
  std::string name;
  std::string peer_url;  // scheme://host:port
};

struct MemberOptions {
  std::string name;
  std::string data_dir;
  std::vector<PeerSpec> initial_cluster;  // order defines the initial share indexes (1-based)
  std::string cluster_token = "etsecd-cluster";
  unsigned threshold = 0;
  unsigned commit_quorum = 0;       // 0 = default ceil((n+k)/2)
  std::string listen_peer_address;  // host:port
  std::optional<transport::TlsFiles> peer_tls;
  bool insecure_peer = false;
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds election_timeout{1000};
  uint64_t share_cache_bytes = 64 << 20;
  // --snapshot-count: committed entries between raft log compactions (etcd's meaning).
  uint64_t snapshot_count = 10000;
  mvcc::Limits limits;
  std::string version;
  std::vector<std::string> advertise_client_urls;
  // The settings fingerprint peers compare: config::cluster_fingerprint of the parsed flags (required).
  std::string fingerprint;
  // --initial-cluster-state=existing: this member was added with `member add --learner` and asks the
  // members in initial_cluster for its place (share index, the cluster's bootstrap membership and
  // settings) on first start; the answer is kept in the data directory (join.state) for restarts.
  bool join_existing = false;
  // This member's peer URL as others reach it (its initial_cluster entry); what `member add` was given.
  std::string advertise_peer_url;
  // How long a joining member keeps asking before it gives up.
  std::chrono::milliseconds join_timeout{60000};
  // Structured logs (its field types cannot carry a value or a share). Defaults to stderr at info.
  const log::Logger* logger = nullptr;
};

// Rebuilt values, keyed by the (key, mod_revision) of the put that wrote them.
using ValueMap = std::map<wire::ValueRef, std::string>;

// A follower's own shares of the values a linearizable read it forwards will return, read on its applied
// state and sent along (wire/forwarded_read.h): each is one share the leader need not fetch.
struct GivenShares {
  uint64_t member = 0;  // the follower that sent them
  std::map<wire::ValueRef, std::string> shares;
};

struct ReadOutcome {
  mvcc::RangeResult result;
  ValueMap values;
};

// A write as the API adapter hands it over: the operation (values replaced by slot numbers), the values
// for those slots, and for each top-level VALUE compare of a txn (in compare order, others skipped) the
// value it compares against. Compare values never enter the log: the leader evaluates such compares.
struct WriteRequest {
  mvcc::Operation op;
  std::vector<std::string> values;
  std::vector<std::string> compare_values;
};

struct WriteOutcome {
  mvcc::ApplyResult result;
  ValueMap values;  // for prev_kv(s) and ranges inside a txn
};

struct MemberInfo {
  uint64_t id = 0;
  std::string name;  // empty for an added member that has not answered yet (etcd: "unstarted")
  std::string peer_url;
  std::vector<std::string> peer_urls;    // all of them; peer_url is the first
  std::vector<std::string> client_urls;  // as the member advertises them; empty if it was unreachable
  uint8_t share_index = 0;
  bool voter = true;
};

struct MemberStatus {
  uint64_t id = 0;
  uint64_t cluster_id = 0;
  uint64_t leader = 0;
  uint64_t term = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  int64_t revision = 0;
  int64_t compact_revision = 0;
  bool is_leader = false;
  bool ready = false;  // has a leader that has resolved its log, and this member has applied its commits
};

// Counters and latency observations for /metrics, updated by the member.
struct MemberMetrics {
  std::function<void(const char* name, double seconds)> observe;  // e.g. "put", "range", "share_fetch"
  std::function<void(const char* name, uint64_t delta)> count;    // e.g. "proposals", "corrupt_shares"
};

class Member {
 public:
  // Opens (or creates) the data directory, starts the peer transport and the loop.
  // Errors: from configuration, storage and the transport, each naming what is wrong.
  static Result<std::unique_ptr<Member>> start(MemberOptions options, MemberMetrics metrics = {});
  virtual ~Member() = default;

  // Put, DeleteRange, Txn or Compact. Leader only: elsewhere the error is kNotLeader (see leader()).
  virtual Result<WriteOutcome> write(WriteRequest request, Deadline deadline) = 0;
  // write() for a caller that must not block a thread on it (a leader serving a follower's forwarded
  // write from the transport thread). `done` runs exactly once: on the member's loop thread when the
  // entry applies (so it must be quick and must not block), on a worker when the outcome needs values
  // rebuilt or a txn's value compares decided, or before write_async returns for errors found at once.
  using WriteDone = std::function<void(Result<WriteOutcome>)>;
  virtual void write_async(WriteRequest request, Deadline deadline, WriteDone done) = 0;

  // A read. Linearizable reads are served by the leader only (kNotLeader elsewhere); serializable reads
  // by any member from its own applied state. Either way, values are rebuilt from k members' shares.
  virtual Result<ReadOutcome> range(const mvcc::RangeOp& op, bool serializable, Deadline deadline) = 0;
  // A linearizable read a follower forwarded with its own shares: as range(op, false, deadline), with
  // the given shares counted among the k+1 the read collects.
  virtual Result<ReadOutcome> range(const mvcc::RangeOp& op, const GivenShares& given, Deadline deadline) = 0;

  // Sends an opaque request to the current leader through the peer transport, for the API adapter's
  // forwarding of client requests that reached a follower. Errors: kNoLeader, transport errors.
  virtual Result<std::string> call_leader(const std::string& method, const std::string& body,
                                          Deadline deadline) = 0;
  // call_leader for a caller that must not block a thread on it (the client API's write handlers).
  // Returns false, and does nothing, unless a leader other than this member is known and reads
  // requests on its Raft stream; the caller then uses call_leader. Otherwise `done` runs exactly once:
  // with the leader's answer on the transport thread that read it, with an error when the stream to
  // the leader breaks or the member stops, or with kTimeout once `deadline` passed (noticed within
  // about 100 ms by later calls; callers that must answer by then keep their own timer).
  using CallDone = std::function<void(Result<std::string>)>;
  virtual bool call_leader_async(const std::string& method, const std::string& body, Deadline deadline,
                                 CallDone done) = 0;
  // call_leader for a linearizable read: when the leader takes them (wire::kForwardedReadFeature), this
  // member's own shares of the values `op` finds on its applied state ride along, as method
  // wire::kForwardedReadMethod; otherwise the same as call_leader(method, body, deadline).
  // call_leader_for_read without blocking, as call_leader_async (false: use call_leader_for_read).
  virtual bool call_leader_for_read_async(const mvcc::RangeOp& op, const std::string& method,
                                          const std::string& body, Deadline deadline, CallDone done) = 0;
  virtual Result<std::string> call_leader_for_read(const mvcc::RangeOp& op, const std::string& method,
                                                   const std::string& body, Deadline deadline) = 0;
  // Installs the handler for forwarded requests (method names starting with "api."). `deadline` is the
  // time the follower's client gave the request, when the follower sent it (in batches, see
  // src/forward_batcher.h), else a default. A read forwarded with the follower's shares arrives as
  // method "api.KV.Range" with `given` set (else null); serve it with range(op, *given, deadline).
  using ForwardHandler = std::function<Result<std::string>(const std::string& method, const std::string& body,
                                                           Deadline deadline, const GivenShares* given)>;
  virtual void set_forward_handler(ForwardHandler handler) = 0;
  // The non-blocking side: a request forwarded on the Raft stream is first offered to this handler, on
  // the transport thread that read it. The handler returns false for methods it leaves to the
  // ForwardHandler (run on a worker thread); when it returns true, it never blocks and calls `reply`
  // exactly once, from any thread.
  using ForwardReply = std::function<void(Result<std::string>)>;
  using AsyncForwardHandler = std::function<bool(const std::string& method, const std::string& body,
                                                 Deadline deadline, ForwardReply reply)>;
  virtual void set_async_forward_handler(AsyncForwardHandler handler) = 0;

  // Cheap: safe to call on every request.
  virtual MemberStatus status() const = 0;
  // Asks unreachable-so-far members for their client URLs (bounded by `deadline`), then caches them.
  virtual std::vector<MemberInfo> members(Deadline deadline) = 0;
  // Bytes under the data directory (walks it: for status calls, not hot paths).
  virtual uint64_t data_bytes() const = 0;
  virtual const MemberOptions& options() const = 0;

  // Membership changes, one at a time through the log, leader only (kNotLeader elsewhere: the API adapter
  // forwards). Each returns once the change is committed and applied here. Errors: the cluster.* specs in
  // errors.h (etcd's texts), kTimeout, kLeaderChanged.
  // Adds a learner with a fresh share index; `learner` false is refused (kVoterAddRefused).
  virtual Result<MemberInfo> add_member(const std::vector<std::string>& peer_urls, bool learner,
                                        Deadline deadline) = 0;
  virtual Status promote_member(uint64_t id, Deadline deadline) = 0;
  virtual Status remove_member(uint64_t id, Deadline deadline) = 0;
  virtual Status update_member(uint64_t id, const std::vector<std::string>& peer_urls, Deadline deadline) = 0;
  // Hands leadership to voter `to` and waits until it leads. Errors: kBadLeaderTransferee, kTimeout.
  virtual Status move_leader(uint64_t to, Deadline deadline) = 0;

  // Called once, from the member's loop thread, when this member's own removal was committed: the
  // process should stop and then call wipe_shares(). Must not block.
  virtual void set_removed_handler(std::function<void()> handler) = 0;
  // True once this member's removal was committed.
  virtual bool removed() const = 0;

  // Stops the loop and the transport; in-flight requests fail with kStopped.
  virtual void stop() = 0;
};

// Deletes a removed member's shares (the Raft log and the key-value store) and its identity files from
// `data_dir`. Call only after stop(). The directory itself stays (it may be a mounted volume).
Status wipe_shares(const std::string& data_dir);

// The member id etsecd derives from a member's name, peer URL and the cluster token (like etcd, so the
// same flags give the same id on every member). Never 0.
uint64_t derive_member_id(const std::string& name, const std::string& peer_url, const std::string& token);
// The id of a member added at run time: from its first peer URL, the cluster token and the share index
// the leader gives it, so the joining member computes the same id from its own --initial-advertise-peer-urls
// and a re-added URL (new share index) never reuses a removed member's id.
uint64_t derive_added_member_id(const std::string& peer_url, const std::string& token, uint8_t x);
uint64_t derive_cluster_id(const std::vector<uint64_t>& member_ids, const std::string& token);

}  // namespace etsecd::server
