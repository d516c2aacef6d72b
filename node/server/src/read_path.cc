// The read path. A linearizable read on the leader costs one round trip: the leader evaluates the range
// on its own applied state, then asks other voters (enough for k+1 shares and a majority, see
// value_gatherer.h) for their share of each value; each answer
// carries the voter's term and leader and so also acknowledges this leadership for the read's
// ReadIndex (heartbeats only for reads without values, or when the answers did not confirm it in time).
// The read is answered once a majority confirmed the leadership and k shares of every value were
// combined. If the confirmed read index is newer than the state the range was evaluated on (a write
// committed in between), it is evaluated again. A follower that forwards a linearizable read sends its
// own shares of the values it finds along with it (shares_for_forwarded_read): the leader counts those
// that match the revisions it reads and asks that many fewer members. Serializable reads skip the
// confirmation and read this member's own applied state.

#include <algorithm>
#include <random>

#include "etsecd/mvcc/range_sort.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/server/errors.h"
#include "member_impl.h"
#include "value_gatherer.h"

namespace etsecd::server {
namespace {

constexpr auto kPeerApplyWait = std::chrono::milliseconds(2000);
// How long a read whose share fetch should confirm the leadership waits for that before falling back to
// a heartbeat round (answers normally arrive with the shares, well within this).
constexpr auto kFetchConfirmGrace = std::chrono::milliseconds(50);
// At most this many share bytes ride along with a forwarded read.
constexpr size_t kMaxGivenShareBytes = 256 << 10;
// Share fetches whose answers may be larger go by peer call instead of a frame on the Raft stream.
constexpr size_t kMaxFramedShareFetchBytes = 64 << 10;

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Status MemberImpl::wait_applied(uint64_t index, Deadline deadline) {
  std::unique_lock lock(status_mu_);
  if (!applied_cv_.wait_until(lock, deadline,
                              [&] { return published_.applied >= index || stopping_.load(); })) {
    return mvcc::make_error(kTimeout);
  }
  if (stopping_) return mvcc::make_error(kStopped);
  return Status::Ok();
}

Result<ValueMap> MemberImpl::gather(const std::vector<mvcc::KeyValue>& kvs, uint64_t term,
                                    const std::string& read_context, uint64_t min_applied, Deadline deadline,
                                    const GivenShares* given) {
  // The peers must have applied `min_applied`: a commit notice held back for a ride must leave now.
  if (!kvs.empty() && commit_notices_held_) post(event::ReleaseCommitNotices{});
  GatherPlan plan;
  plan.request.term = term;
  plan.request.read_context = read_context;
  plan.request.min_applied = min_applied;
  size_t share_bytes = 0;  // what each peer's answer carries, about
  for (const auto& kv : kvs) {
    wire::ValueRef ref{kv.key, kv.mod_revision};
    if (!plan.request.refs.empty() && plan.request.refs.back() == ref) continue;
    plan.request.refs.push_back(ref);
    plan.own.push_back(wire::ShareFetchItem{wire::ShareStatus::kOk, kv.share});
    share_bytes += kv.share.size();
  }
  plan.peers = other_voters();
  // A leader's linearizable read counts the answers as acknowledgements: ask a majority's worth. A
  // follower's given shares are no acknowledgement (they were read before this read reached the leader).
  if (term != 0) plan.min_peers = (plan.peers.size() + 1) / 2;
  if (given != nullptr && given->member != id_) {
    plan.given_by = given->member;
    plan.given.reserve(plan.request.refs.size());
    for (const auto& ref : plan.request.refs) {
      auto it = given->shares.find(ref);
      plan.given.push_back(it == given->shares.end()
                               ? wire::ShareFetchItem{wire::ShareStatus::kNotFound, ""}
                               : wire::ShareFetchItem{wire::ShareStatus::kOk, it->second});
    }
    std::erase(plan.peers, given->member);
  }
  // Start each read's first wave at a different peer, so reads spread over all members.
  if (!plan.peers.empty()) {
    const auto first = static_cast<std::ptrdiff_t>(fetch_rotation_.fetch_add(1) % plan.peers.size());
    std::rotate(plan.peers.begin(), plan.peers.begin() + first, plan.peers.end());
  }
  plan.threshold = published().threshold;
  plan.deadline = deadline;

  GatherObserver observer;
  if (term != 0) {
    observer.on_response = [this, term, read_context](uint64_t from, const wire::ShareFetchResponse& resp) {
      if (resp.term == term && resp.leader == id_) post(event::Ack{from, term, read_context});
    };
  }
  observer.on_corrupt = [this](uint64_t member, int64_t mod_revision, const char* why) {
    logger().error("corrupt or inconsistent share detected on a read; value rebuilt from other members",
                   {{"member", member == 0 ? id_ : member}, {"mod_revision", mod_revision}, {"why", why}});
    if (metrics_.count) metrics_.count("corrupt_shares", 1);
  };
  const auto start = std::chrono::steady_clock::now();
  auto values = gather_values(share_fetch_call(share_bytes), plan, observer);
  if (metrics_.observe && !plan.request.refs.empty()) {
    metrics_.observe("share_fetch",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return values;
}

ShareFetchCall MemberImpl::share_fetch_call(size_t answer_bytes) {
  // A frame on the Raft stream costs far less than a peer call (no call set-up, headers or TLS records of
  // its own), but a large answer would hold up the Raft messages queued behind it.
  const bool framed = answer_bytes <= kMaxFramedShareFetchBytes;
  return [this, framed](uint64_t peer, const std::string& body, Deadline deadline,
                        std::function<void(Result<std::string>)> done) {
    if (framed && transport_->forwards_on_stream(peer) &&
        transport_->peer_has_feature(peer, wire::kShareFetchFramesFeature)) {
      forward_stream_->call_async(peer, wire::kShareFetchMethod, body, deadline, std::move(done));
    } else {
      transport_->call_async(peer, wire::kShareFetchMethod, body, deadline, std::move(done));
    }
  };
}

Result<ReadOutcome> MemberImpl::range(const mvcc::RangeOp& op, bool serializable, Deadline deadline) {
  return timed_range(op, serializable, nullptr, deadline);
}

Result<ReadOutcome> MemberImpl::range(const mvcc::RangeOp& op, const GivenShares& given, Deadline deadline) {
  return timed_range(op, false, &given, deadline);
}

Result<ReadOutcome> MemberImpl::timed_range(const mvcc::RangeOp& op, bool serializable,
                                            const GivenShares* given, Deadline deadline) {
  const auto start = std::chrono::steady_clock::now();
  auto result = range_once(op, serializable, given, deadline);
  if (result && metrics_.observe) {
    metrics_.observe(serializable ? "range_serializable" : "range",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return result;
}

Result<ReadOutcome> MemberImpl::range_once(const mvcc::RangeOp& op, bool serializable,
                                           const GivenShares* given, Deadline deadline) {
  if (stopping_) return mvcc::make_error(kStopped);
  if (auto st = mvcc::validate_range(op); !st) return st.error();

  std::string context;
  std::future<Result<uint64_t>> confirmed;
  uint64_t term = 0;
  bool heartbeats = true;
  if (!serializable) {
    const auto pub = published();
    if (!pub.is_leader) return mvcc::make_error(pub.leader == 0 ? kNoLeader : kNotLeader);
    term = pub.term;
    if (auto st = wait_applied(pub.commit, deadline); !st) return st.error();
  }

  for (;;) {
    const uint64_t evaluated_at = store_->applied_index();
    auto result = store_->range(op);
    if (!result) return result.error();
    if (term != 0) {
      // Registered after the request arrived and before any share fetch leaves (the inbox is FIFO, so
      // the loop knows the read before the fetch answers' Acks): those answers then confirm it.
      heartbeats = result->kvs.empty();
      confirmed = request_read_index(heartbeats, context, deadline);
    }
    auto values = gather(result->kvs, term, context, evaluated_at, deadline, given);
    if (!values) return values.error();

    if (term != 0) {
      if (!heartbeats &&
          confirmed.wait_until(std::min(deadline, std::chrono::steady_clock::now() + kFetchConfirmGrace)) !=
              std::future_status::ready) {
        // The fetch answers did not confirm the leadership (a member still learning who leads, or the
        // read deferred while the leader resolves its log): confirm it the usual way.
        confirmed = request_read_index(true, context, deadline);
      }
      if (confirmed.wait_until(deadline) != std::future_status::ready) return mvcc::make_error(kTimeout);
      auto index = confirmed.get();
      if (!index) return index.error();
      term = 0;  // confirmation done; a retry needs no new ReadIndex
      if (*index > evaluated_at) {
        // Evaluated on state older than the confirmed read index: evaluate again on newer state (the
        // leadership stays confirmed for it).
        if (auto st = wait_applied(*index, deadline); !st) return st.error();
        continue;
      }
    }

    if (result->value_sort_pending) {
      std::vector<std::string> sorted_values;
      sorted_values.reserve(result->kvs.size());
      for (const auto& kv : result->kvs)
        sorted_values.push_back(values->at(wire::ValueRef{kv.key, kv.mod_revision}));
      if (auto st = mvcc::finish_value_sort(*result, sorted_values, op.sort_order, op.limit); !st)
        return st.error();
    }
    return ReadOutcome{std::move(*result), std::move(*values)};
  }
}

std::future<Result<uint64_t>> MemberImpl::request_read_index(bool send_heartbeats, std::string& context,
                                                             Deadline deadline) {
  context = std::to_string(id_) + ":" + std::to_string(read_counter_.fetch_add(1));
  auto waiter = std::make_shared<ReadWaiter>();
  waiter->deadline = deadline;
  auto confirmed = waiter->index.get_future();
  post(event::ReadIndex{context, std::move(waiter), send_heartbeats});
  return confirmed;
}

std::vector<wire::GivenShare> MemberImpl::shares_for_forwarded_read(const mvcc::RangeOp& op) {
  if (op.keys_only || op.count_only) return {};
  auto found = store_->range(op);
  if (!found) return {};  // e.g. a compacted revision: the leader answers with the error
  std::vector<wire::GivenShare> shares;
  size_t bytes = 0;
  for (auto& kv : found->kvs) {
    if (kv.share.empty()) continue;
    bytes += kv.share.size();
    // A large range: the leader fetches these shares from another member instead, so the Raft
    // messages on this member's stream to it are not held up behind them.
    if (bytes > kMaxGivenShareBytes) return {};
    shares.push_back(
        wire::GivenShare{wire::ValueRef{std::move(kv.key), kv.mod_revision}, std::move(kv.share)});
  }
  return shares;
}

Result<std::string> MemberImpl::serve_share_fetch(const std::string& body) {
  auto req = wire::decode_share_fetch_request(bytes_of(body));
  if (!req) return req.error();
  return serve_share_fetch(*req);
}

void MemberImpl::serve_framed_share_fetch(uint64_t from, uint64_t id, const std::string& body) {
  auto req = wire::decode_share_fetch_request(bytes_of(body));
  if (!req) return reply_forwarded(from, encode_forward_result_frame(id, req.error()));
  // Most fetches find their revision applied already: a few RocksDB reads, answered on the transport
  // thread that read the frame. One that must wait for this member to apply goes to a worker.
  if (published().applied >= req->min_applied) {
    return reply_forwarded(from, encode_forward_result_frame(id, serve_share_fetch(*req)));
  }
  forward_batch_server_->run([this, from, id, req = std::move(*req)] {
    transport_->send_forward(from, encode_forward_result_frame(id, serve_share_fetch(req)));
  });
}

std::string MemberImpl::serve_share_fetch(const wire::ShareFetchRequest& request) {
  if (metrics_.count) metrics_.count("share_fetches_served", 1);
  // Wait (briefly) until this member has applied the revision the asker evaluated on; the asker only
  // needs k answers, so a lagging member's slowness costs nothing while others answer.
  const auto until = std::chrono::steady_clock::now() + kPeerApplyWait;
  const bool applied = wait_applied(request.min_applied, until).ok();

  wire::ShareFetchResponse resp;
  {
    const auto pub = published();
    resp.term = pub.term;
    resp.leader = pub.leader;
    resp.applied = pub.applied;
  }
  resp.items.reserve(request.refs.size());
  for (const auto& ref : request.refs) {
    wire::ShareFetchItem item;
    if (!applied) {
      item.status = wire::ShareStatus::kNotApplied;
    } else if (auto kv = store_->get_at(ref.key, ref.mod_revision); kv) {
      item.share = std::move(kv->share);
    } else if (mvcc::is(kv.error(), mvcc::kCompacted)) {
      item.status = wire::ShareStatus::kCompacted;
    } else {
      item.status = wire::ShareStatus::kNotFound;
    }
    resp.items.push_back(std::move(item));
  }
  return wire::encode_share_fetch_response(resp);
}

}  // namespace etsecd::server
