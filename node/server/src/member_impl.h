#pragma once
// The member's private structure. Threads:
//   - the loop thread owns the Raft core (node_) and is the only one that touches it, the proposal
//     and read waiters, and apply;
//   - client (gRPC) threads call write()/range(): they post events to the loop and wait;
//   - transport threads post received Raft messages and serve peers' share fetches from the store.
// Other threads see the core's state only through `published_` (under status_mu_), which the loop
// updates before it sends each Ready's messages (the read path's leadership argument relies on that).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "commit_notices.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/raft/conf_change.h"
#include "etsecd/raft/node.h"
#include "etsecd/raftlog/rocks_raft_log.h"
#include "etsecd/repair/receiver.h"
#include "etsecd/repair/session.h"
#include "etsecd/server/member.h"
#include "etsecd/shamir/random.h"
#include "etsecd/wire/forwarded_read.h"
#include "forward_batch_server.h"
#include "forward_batcher.h"
#include "forward_stream.h"
#include "join_state.h"
#include "member_context.h"
#include "value_gatherer.h"

namespace etsecd::server {

// What apply produced for one of this member's proposals.
struct AppliedEntry {
  uint64_t index = 0;
  mvcc::ApplyResult result;
};

// How a proposal's submitter hears the outcome: a future it waits on (done), or a callback the loop
// thread runs (on_done, for write_async).
struct WriteWaiter {
  std::promise<Result<AppliedEntry>> done;
  std::function<void(Result<AppliedEntry>)> on_done;
  Deadline deadline;

  void complete(Result<AppliedEntry> outcome) {
    if (on_done) {
      on_done(std::move(outcome));
    } else {
      done.set_value(std::move(outcome));
    }
  }
};

struct ReadWaiter {
  std::promise<Result<uint64_t>> index;  // the confirmed read index
  Deadline deadline;
};

namespace event {
struct RaftIn {
  uint64_t from = 0;
  std::vector<std::string> messages;
};
struct Propose {
  raft::Bytes metadata;
  std::vector<raft::Bytes> values;
  std::shared_ptr<WriteWaiter> waiter;
};
struct ReadIndex {
  std::string context;
  std::shared_ptr<ReadWaiter> waiter;
  // False when the read's own share fetch will confirm the leadership (its answers post Acks): the
  // heartbeat round would only repeat that round trip.
  bool send_heartbeats = true;
};
struct Ack {
  uint64_t from = 0;
  uint64_t term = 0;
  std::string context;
};
// A membership change. For an add, the loop picks the share index (the leader's newest max_x_used + 1)
// and derives the id from `add_peer_url`, so two adds never race for one index.
struct ConfChange {
  raft::ConfChange change;
  std::string add_peer_url;
  std::shared_ptr<WriteWaiter> waiter;
  std::shared_ptr<std::promise<raft::ConfChange>> proposed;  // the change as proposed (id and x filled)
};
// Work that must run on the loop thread (it touches the core), posted by a repair thread.
struct Run {
  std::function<void()> fn;
};
struct Transfer {
  raft::MemberId to = raft::kNoMember;
  std::shared_ptr<std::promise<Status>> done;
};
// A share fetch is about to ask followers for an applied index: send the held commit notices now.
struct ReleaseCommitNotices {};
}  // namespace event

using Event = std::variant<event::RaftIn, event::Propose, event::ReadIndex, event::Ack, event::ConfChange,
                           event::Transfer, event::Run, event::ReleaseCommitNotices>;

// How long a leader's commit-only append waits for the next append to carry it (commit_notices.h).
// Long enough to span a client's next request at one client (~0.1-0.3 ms here), short next to anything
// a person or a heartbeat (100 ms) would notice.
inline constexpr std::chrono::microseconds kCommitNoticeDelay{1000};

// A share-repair stream this leader runs for one member (member_repair.cc).
struct RepairSession {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> cancel;
  std::shared_ptr<std::atomic<bool>> done;
  uint64_t floor = 0;  // the log is never compacted above this: the stream's A is at least it
};

// The core's state as other threads may see it.
struct Published {
  uint64_t term = 0;
  uint64_t leader = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  bool is_leader = false;
  bool recovering = false;
  unsigned threshold = 0;
  raft::Membership membership;
};

class MemberImpl final : public Member {
 public:
  MemberImpl(MemberOptions options, MemberMetrics metrics);
  ~MemberImpl() override;

  Status open();

  Result<WriteOutcome> write(WriteRequest request, Deadline deadline) override;
  void write_async(WriteRequest request, Deadline deadline, WriteDone done) override;
  Result<ReadOutcome> range(const mvcc::RangeOp& op, bool serializable, Deadline deadline) override;
  Result<ReadOutcome> range(const mvcc::RangeOp& op, const GivenShares& given, Deadline deadline) override;
  Result<std::string> call_leader(const std::string& method, const std::string& body,
                                  Deadline deadline) override;
  bool call_leader_async(const std::string& method, const std::string& body, Deadline deadline,
                         CallDone done) override;
  bool call_leader_for_read_async(const mvcc::RangeOp& op, const std::string& method, const std::string& body,
                                  Deadline deadline, CallDone done) override;
  Result<std::string> call_leader_for_read(const mvcc::RangeOp& op, const std::string& method,
                                           const std::string& body, Deadline deadline) override;
  void set_forward_handler(ForwardHandler handler) override;
  void set_async_forward_handler(AsyncForwardHandler handler) override;
  MemberStatus status() const override;
  std::vector<MemberInfo> members(Deadline deadline) override;
  uint64_t data_bytes() const override;
  const MemberOptions& options() const override { return options_; }
  Result<MemberInfo> add_member(const std::vector<std::string>& peer_urls, bool learner,
                                Deadline deadline) override;
  Status promote_member(uint64_t id, Deadline deadline) override;
  Status remove_member(uint64_t id, Deadline deadline) override;
  Status update_member(uint64_t id, const std::vector<std::string>& peer_urls, Deadline deadline) override;
  Status move_leader(uint64_t to, Deadline deadline) override;
  void set_removed_handler(std::function<void()> handler) override;
  bool removed() const override { return removed_; }
  void stop() override;

 private:
  // --- member_start.cc
  Status open_storage();
  Status create_core();
  Status start_transport();
  Result<std::string> on_peer_call(uint64_t from, const std::string& method, const std::string& body);
  // Forwarded requests (as leader) or their results (as the follower that sent them), transport thread.
  void on_forward_frames(uint64_t from, std::vector<std::string> frames);
  ForwardHandler forward_handler();  // the API's handler for forwarded requests, if installed
  // One request a follower forwarded, through the API's handler; unwraps a read sent with its shares.
  Result<std::string> serve_forwarded(uint64_t from, const std::string& method, const std::string& body,
                                      Deadline deadline);
  // Offers a request forwarded on the stream to the API's non-blocking handler: false if it left it.
  bool serve_forwarded_async(const ForwardedRequest& request, Deadline deadline, ForwardReply reply);
  // Sends the result frame of a request `to` forwarded. On the loop thread (an entry applied) it waits in
  // forward_replies_ for the end of the Ready, so each follower gets one batch per Ready and the loop
  // never writes to a stream itself; elsewhere it is queued for the sender thread at once.
  void reply_forwarded(uint64_t to, std::string frame);
  // Sends a forwarded request to `leader` (on its Raft stream when it reads frames there).
  Result<std::string> call_member(uint64_t leader, const std::string& method, const std::string& body,
                                  Deadline deadline);
  Status identify_initial_member();

  // --- member_join.cc
  Status join_cluster();
  // An initial member starting on an empty data directory: joins instead if it was re-added, refuses if
  // the cluster already heard from it, else bootstraps (identify_initial_member ran first).
  Status join_or_bootstrap();
  void adopt_join_info(const JoinInfo& info);        // takes it (from join.state)
  Status adopt_new_join_info(const JoinInfo& info);  // checks it against the flags, takes and keeps it
  Result<std::string> serve_join(const std::string& body);
  Result<std::string> serve_heard_query(const std::string& body);
  // Called for every received Raft message or peer call (transport threads); persists new ids.
  void note_heard_from(uint64_t id);
  bool has_heard_from(uint64_t id) const;
  // Whether this member or, when it did not, the leader ever heard from `id`.
  bool cluster_heard_from(uint64_t id);

  // --- member_changes.cc
  Status change_membership(event::ConfChange ev, Deadline deadline, raft::ConfChange* proposed = nullptr);
  void propose_conf_change(event::ConfChange& c);                    // loop thread
  void transfer_leadership(event::Transfer& t);                      // loop thread
  void on_membership_committed(const raft::Membership& membership);  // loop thread
  void note_removed(const std::string& why);
  Result<std::string> serve_removed_notice(uint64_t from, const std::string& body);
  // Peer URLs of every member known from the flags (initial members) or the replicated contexts.
  std::map<uint64_t, MemberContext> known_peers() const;
  // --- member_loop.cc (loop thread only)
  void run_loop();
  void dispatch(Event& ev);
  void propose(event::Propose& p);
  void request_read(event::ReadIndex& r);
  // Posts a ReadIndex under a fresh `context`; the future gets the confirmed read index.
  std::future<Result<uint64_t>> request_read_index(bool send_heartbeats, std::string& context,
                                                   Deadline deadline);
  void handle_ready(raft::Ready& rd);
  // Sends the held commit notices that are due (or all of them).
  void send_commit_notices(bool all);
  void apply(const std::vector<raft::Entry>& entries);
  void retry_deferred();
  void expire_waiters();
  void expire_deferred();
  void publish();
  // At the loop's end: fails every waiter, queued or not, and every event posted from now on.
  void fail_all(const Error& error);
  void flush_forward_replies();
  [[noreturn]] void fatal(const std::string& what, const Error& error);

  // --- write_path.cc
  Result<WriteOutcome> write_once(WriteRequest request, Deadline deadline);
  // What every write must pass before it is proposed: not stopping, a valid operation, this member leads.
  Status check_write(const WriteRequest& request) const;
  static event::Propose proposal_of(const WriteRequest& request, std::shared_ptr<WriteWaiter> waiter);
  void observe_write(const char* op_name, std::chrono::steady_clock::time_point start);
  Status decide_value_compares(mvcc::Operation& op, const std::vector<std::string>& operands,
                               Deadline deadline);
  Result<ValueMap> gather_result_values(const mvcc::ApplyResult& result, uint64_t min_applied,
                                        Deadline deadline);

  // --- read_path.cc
  Result<ReadOutcome> timed_range(const mvcc::RangeOp& op, bool serializable, const GivenShares* given,
                                  Deadline deadline);
  Result<ReadOutcome> range_once(const mvcc::RangeOp& op, bool serializable, const GivenShares* given,
                                 Deadline deadline);
  Result<ValueMap> gather(const std::vector<mvcc::KeyValue>& kvs, uint64_t term,
                          const std::string& read_context, uint64_t min_applied, Deadline deadline,
                          const GivenShares* given = nullptr);
  // This member's shares of the values `op` finds on its applied state, for a read it forwards; empty
  // when there are none or too many bytes of them to be worth sending.
  std::vector<wire::GivenShare> shares_for_forwarded_read(const mvcc::RangeOp& op);
  Result<std::string> serve_share_fetch(const std::string& body);
  std::string serve_share_fetch(const wire::ShareFetchRequest& request);
  // A share fetch sent as a frame on `from`'s Raft stream; answers with a result frame.
  void serve_framed_share_fetch(uint64_t from, uint64_t id, const std::string& body);
  // How gather() sends share fetches whose answers carry about `answer_bytes`.
  ShareFetchCall share_fetch_call(size_t answer_bytes);
  Status wait_applied(uint64_t index, Deadline deadline);

  // --- member_handoff.cc (stop path): a leader stopped on purpose first hands leadership over.
  void hand_off_leadership();  // any thread but the loop, before stopping_
  // --- member_repair.cc
  void maybe_compact();                                     // loop thread
  void start_repair(const raft::SnapshotRequest& request);  // loop thread
  void reap_repairs();                                      // loop thread
  void cancel_repairs();                                    // loop thread, or after it ended
  void run_repair(uint64_t to, repair::SessionPlan plan, std::shared_ptr<std::atomic<bool>> cancel,
                  std::shared_ptr<std::atomic<bool>> done);                              // repair thread
  Result<std::string> serve_repair(const std::string& method, const std::string& body);  // transport
  repair::Receiver::Hooks repair_hooks();  // both run on the loop thread (see serve_repair)
  // Runs `fn` on the loop thread and waits for it (false when the member stops first).
  bool run_on_loop(std::function<void()> fn, const std::atomic<bool>* cancel);

  void post(Event ev);
  const log::Logger& logger() const { return *logger_; }
  std::vector<uint64_t> other_voters() const;
  Published published() const;

  MemberOptions options_;
  MemberMetrics metrics_;
  std::unique_ptr<log::Logger> own_logger_;  // when options_.logger is null
  const log::Logger* logger_ = nullptr;
  uint64_t id_ = 0;
  uint64_t cluster_id_ = 0;
  std::string fingerprint_;
  std::map<uint64_t, PeerSpec> peers_;  // every initial (bootstrap) member, by id
  raft::Membership bootstrap_;          // the cluster's initial membership (what joiners replay from)
  uint8_t self_x_ = 0;                  // a joined member's share index (0: initial member)

  std::unique_ptr<raftlog::RocksRaftLog> log_;
  std::unique_ptr<mvcc::Store> store_;
  std::unique_ptr<raft::SecretSharer> sharer_;
  std::unique_ptr<shamir::RandomSource> rng_;
  std::unique_ptr<raft::Node> node_;
  std::unique_ptr<transport::PeerTransport> transport_;
  std::unique_ptr<ForwardStream> forward_stream_;             // this member's requests to the leader
  std::unique_ptr<ForwardBatcher> forward_batcher_;           // the same, to a leader without streams
  std::unique_ptr<ForwardBatchServer> forward_batch_server_;  // followers' batches, when leader

  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::deque<Event> inbox_;
  bool inbox_closed_ = false;  // the loop has ended: post() answers events itself (kStopped)
  // Set while the loop holds commit notices, so the read path only asks for their release when needed.
  std::atomic<bool> commit_notices_held_{false};

  // Loop thread only.
  std::map<raft::ProposalId, std::shared_ptr<WriteWaiter>> proposals_;
  std::map<uint64_t, std::vector<std::string>> forward_replies_;  // by follower; see reply_forwarded
  std::map<std::string, std::shared_ptr<ReadWaiter>> reads_;
  std::deque<event::Propose> deferred_proposals_;  // the leader was still resolving its log
  std::deque<event::ReadIndex> deferred_reads_;
  std::deque<event::ConfChange> deferred_conf_changes_;  // another change pending, or a transfer
  raft::Membership committed_membership_;                // last one handled by on_membership_committed
  uint64_t known_leader_ = 0;                            // the core's leader as of the last Ready
  CommitNotices commit_notices_{kCommitNoticeDelay};

  mutable std::mutex status_mu_;
  std::condition_variable applied_cv_;
  Published published_;

  std::mutex forward_mu_;
  ForwardHandler forward_handler_;
  std::shared_ptr<const AsyncForwardHandler> async_forward_handler_;

  std::mutex client_urls_mu_;
  std::map<uint64_t, std::vector<std::string>> client_urls_;  // learned from peers' "member.info"

  mutable std::mutex contexts_mu_;
  std::map<uint64_t, MemberContext> contexts_;  // added members' names and peer URLs, from the membership

  mutable std::mutex heard_mu_;
  std::set<uint64_t> heard_from_;  // persisted in peers.heard (join_state.h)

  std::mutex removed_mu_;
  std::function<void()> removed_handler_;
  std::atomic<bool> removed_{false};

  std::map<uint64_t, RepairSession> repairs_;  // loop thread: by target member
  // loop thread: the snapshot of each target's last failed stream, which its retry resumes.
  std::map<uint64_t, repair::ResumePoint> interrupted_repairs_;
  uint64_t compact_checked_at_ = 0;  // loop thread: applied index of the last compaction check
  std::unique_ptr<repair::Receiver> receiver_;
  std::optional<raft::SnapshotMeta> installed_meta_;  // loop thread: between install_raft and published
  std::atomic<uint64_t> repair_chunks_received_{0};   // this process's installs (progress logs)

  std::atomic<uint64_t> read_counter_{0};
  std::atomic<uint64_t> fetch_rotation_{0};  // where the next share fetch's first wave starts
  std::atomic<bool> stopping_{false};
  std::thread loop_;
};

}  // namespace etsecd::server
