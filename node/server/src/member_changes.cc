// Membership changes and leadership transfer on the member: the etcd Cluster API's adds, promotions,
// removals and peer-URL updates go through the loop into the core as one conf change at a time; the
// loop applies each committed membership to the peer transport and stops this member when it was
// removed. Errors are mapped to etcd's texts (errors.h) here, in one place.

#include <thread>

#include "etsecd/server/errors.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr char kRemovedNoticeMethod[] = "member.removed";

// The core's refusals in etcd's words. Errors the loop retries (pending change, transfer, recovering)
// never get here.
Error map_core_error(const Error& e) {
  const std::string& c = e.code;
  if (c == "raft.not_leader") return mvcc::make_error(kNotLeader);
  if (c == "raft.unknown_member") return mvcc::make_error(kMemberNotFound);
  if (c == "raft.member_exists") return mvcc::make_error(kMemberExists);
  if (c == "raft.not_learner") return mvcc::make_error(kMemberNotLearner);
  if (c == "raft.learner_not_ready") return mvcc::make_error(kLearnerNotReady);
  if (c == "raft.not_voter") return mvcc::make_error(kBadLeaderTransferee);
  if (c == "raft.invalid_threshold" || c == "raft.invalid_commit_quorum" || c == "raft.last_voter" ||
      c == "raft.too_few_holders" || c == "raft.x_reused" || c == "raft.bad_conf_change") {
    return mvcc::make_error(kNotEnoughStarted, e.message);
  }
  return e;
}

bool retry_later(const Error& e) {
  return e.code == "raft.conf_change_pending" || e.code == "raft.leader_recovering" ||
         e.code == "raft.transfer_in_progress";
}

Result<std::string> host_port_of(const std::string& url) {
  auto rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (rest.find(':') == std::string::npos)
    return make_error("server.config", "peer URL '" + url + "' has no port");
  return rest;
}

}  // namespace

std::map<uint64_t, MemberContext> MemberImpl::known_peers() const {
  std::map<uint64_t, MemberContext> out;
  for (const auto& [id, p] : peers_) out[id] = MemberContext{p.name, {p.peer_url}};
  std::lock_guard lock(contexts_mu_);
  for (const auto& [id, c] : contexts_) out[id] = c;
  return out;
}

Status MemberImpl::change_membership(event::ConfChange ev, Deadline deadline, raft::ConfChange* proposed) {
  if (stopping_) return mvcc::make_error(kStopped);
  const auto pub = published();
  if (!pub.is_leader) return mvcc::make_error(pub.leader == 0 ? kNoLeader : kNotLeader);
  ev.waiter = std::make_shared<WriteWaiter>();
  ev.waiter->deadline = deadline;
  ev.proposed = std::make_shared<std::promise<raft::ConfChange>>();
  auto done = ev.waiter->done.get_future();
  auto as_proposed = ev.proposed->get_future();
  post(std::move(ev));
  if (done.wait_until(deadline) != std::future_status::ready) return mvcc::make_error(kTimeout);
  auto applied = done.get();
  if (!applied) return applied.error();
  if (proposed) *proposed = as_proposed.get();
  return Status::Ok();
}

Result<MemberInfo> MemberImpl::add_member(const std::vector<std::string>& peer_urls, bool learner,
                                          Deadline deadline) {
  if (!learner) return mvcc::make_error(kVoterAddRefused);
  if (peer_urls.empty()) return mvcc::make_error(kMemberBadUrls, "no peer URL given");
  for (const auto& u : peer_urls) {
    if (auto st = check_peer_url(u); !st) return st.error();
  }
  event::ConfChange ev;
  ev.change.type = raft::ConfChangeType::kAddLearner;
  ev.change.context = encode_member_context(MemberContext{"", peer_urls});
  ev.add_peer_url = peer_urls.front();
  raft::ConfChange proposed;
  if (auto st = change_membership(std::move(ev), deadline, &proposed); !st) return st.error();
  MemberInfo info;
  info.id = proposed.id;
  info.peer_url = peer_urls.front();
  info.peer_urls = peer_urls;
  info.share_index = proposed.x;
  info.voter = false;
  logger().info("member added as a learner",
                {{"id", info.id}, {"share_index", static_cast<unsigned>(info.share_index)}});
  return info;
}

Status MemberImpl::promote_member(uint64_t id, Deadline deadline) {
  event::ConfChange ev;
  ev.change.type = raft::ConfChangeType::kPromote;
  ev.change.id = id;
  if (auto st = change_membership(std::move(ev), deadline); !st) return st;
  logger().info("learner promoted to voter", {{"id", id}});
  return Status::Ok();
}

Status MemberImpl::remove_member(uint64_t id, Deadline deadline) {
  event::ConfChange ev;
  ev.change.type = raft::ConfChangeType::kRemove;
  ev.change.id = id;
  if (auto st = change_membership(std::move(ev), deadline); !st) return st;
  logger().info("member removed", {{"id", id}});
  return Status::Ok();
}

Status MemberImpl::update_member(uint64_t id, const std::vector<std::string>& peer_urls, Deadline deadline) {
  if (peer_urls.empty()) return mvcc::make_error(kMemberBadUrls, "no peer URL given");
  for (const auto& u : peer_urls) {
    if (auto st = check_peer_url(u); !st) return st.error();
  }
  const auto known = known_peers();
  auto it = known.find(id);
  if (it == known.end()) return mvcc::make_error(kMemberNotFound);
  for (const auto& [other, c] : known) {
    if (other == id) continue;
    for (const auto& u : c.peer_urls) {
      for (const auto& n : peer_urls) {
        if (u == n) return mvcc::make_error(kPeerUrlExists);
      }
    }
  }
  event::ConfChange ev;
  ev.change.type = raft::ConfChangeType::kUpdate;
  ev.change.id = id;
  ev.change.context = encode_member_context(MemberContext{it->second.name, peer_urls});
  if (auto st = change_membership(std::move(ev), deadline); !st) return st;
  logger().info("member peer URLs updated", {{"id", id}});
  return Status::Ok();
}

Status MemberImpl::move_leader(uint64_t to, Deadline deadline) {
  if (stopping_) return mvcc::make_error(kStopped);
  auto pub = published();
  if (!pub.is_leader) return mvcc::make_error(pub.leader == 0 ? kNoLeader : kNotLeader);
  event::Transfer t;
  t.to = to;
  t.done = std::make_shared<std::promise<Status>>();
  auto started = t.done->get_future();
  post(std::move(t));
  if (started.wait_until(deadline) != std::future_status::ready) return mvcc::make_error(kTimeout);
  if (auto st = started.get(); !st) return st;
  // Like etcd's MoveLeader: answer once the transferee leads (seen through this member's own view).
  for (;;) {
    pub = published();
    if (pub.leader == to) break;
    if (std::chrono::steady_clock::now() >= deadline) return mvcc::make_error(kTimeout);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  logger().info("leadership moved", {{"to", to}});
  return Status::Ok();
}

void MemberImpl::set_removed_handler(std::function<void()> handler) {
  std::function<void()> call_now;
  {
    std::lock_guard lock(removed_mu_);
    removed_handler_ = std::move(handler);
    if (removed_) call_now = removed_handler_;
  }
  if (call_now) call_now();
}

void MemberImpl::propose_conf_change(event::ConfChange& c) {
  if (std::chrono::steady_clock::now() >= c.waiter->deadline) {
    c.waiter->complete(mvcc::make_error(kTimeout));
    return;
  }
  if (c.change.type == raft::ConfChangeType::kAddLearner) {
    // Decided here, on the loop, against the newest membership (pending change included).
    const auto& newest = node_->membership();
    for (const auto& [id, ctx] : known_peers()) {
      bool member = false;
      for (const auto& m : newest.members) member = member || m.id == id;
      if (!member) continue;
      for (const auto& u : ctx.peer_urls) {
        if (u == c.add_peer_url) {
          c.waiter->complete(mvcc::make_error(kPeerUrlExists));
          return;
        }
      }
    }
    if (newest.max_x_used == 255) {
      c.waiter->complete(mvcc::make_error(kNotEnoughStarted, "every share index 1..255 was used"));
      return;
    }
    c.change.x = static_cast<uint8_t>(newest.max_x_used + 1);
    c.change.id = derive_added_member_id(c.add_peer_url, options_.cluster_token, c.change.x);
  }
  auto id = node_->propose_conf_change(c.change);
  if (id) {
    c.proposed->set_value(c.change);
    proposals_[*id] = std::move(c.waiter);
    return;
  }
  if (retry_later(id.error())) {
    deferred_conf_changes_.push_back(std::move(c));
    return;
  }
  c.waiter->complete(map_core_error(id.error()));
}

void MemberImpl::transfer_leadership(event::Transfer& t) {
  auto st = node_->transfer_leadership(t.to);
  if (st) {
    t.done->set_value(Status::Ok());
    return;
  }
  const auto& c = st.error().code;
  if (c == "raft.unknown_member" || c == "raft.not_voter") {
    t.done->set_value(mvcc::make_error(kBadLeaderTransferee));
  } else {
    t.done->set_value(map_core_error(st.error()));
  }
}

void MemberImpl::on_membership_committed(const raft::Membership& membership) {
  std::map<uint64_t, MemberContext> contexts;
  for (const auto& m : membership.members) {
    if (m.context.empty()) continue;
    auto c = decode_member_context(m.context);
    if (!c) {
      logger().error("unreadable member context in the membership",
                     {{"id", m.id}, {"error", c.error().code}});
      continue;
    }
    contexts[m.id] = std::move(*c);
  }
  {
    std::lock_guard lock(contexts_mu_);
    contexts_ = contexts;
  }
  const auto known = known_peers();
  for (const auto& m : membership.members) {
    if (m.id == id_) continue;
    auto it = known.find(m.id);
    if (it == known.end() || it->second.peer_urls.empty()) continue;
    auto hp = host_port_of(it->second.peer_urls.front());
    if (hp) transport_->set_peer(m.id, *hp);
  }
  const bool leading = node_->status().role == raft::Role::kLeader;
  for (const auto& old : committed_membership_.members) {
    bool still = false;
    for (const auto& m : membership.members) still = still || m.id == old.id;
    if (still || old.id == id_) continue;
    if (leading) {
      // The removed member may never see the entry that removed it (nobody replicates to it any more):
      // tell it, best-effort, so it stops and wipes its shares instead of campaigning forever.
      transport_->call_async(old.id, kRemovedNoticeMethod, std::to_string(old.id),
                             std::chrono::steady_clock::now() + std::chrono::seconds(5),
                             [](Result<std::string>) {});
    }
  }
  unsigned voters = 0;
  for (const auto& m : membership.members) voters += m.voter ? 1 : 0;
  logger().info("membership changed", {{"members", static_cast<uint64_t>(membership.members.size())},
                                       {"voters", static_cast<uint64_t>(voters)}});
  committed_membership_ = membership;
  if (node_->removed_self()) note_removed("this member's removal was committed");
}

Result<std::string> MemberImpl::serve_removed_notice(uint64_t from, const std::string& body) {
  if (body != std::to_string(id_))
    return make_error("server.bad_request", "removal notice for another member");
  const auto pub = published();
  bool from_member = false;
  for (const auto& m : pub.membership.members) from_member = from_member || (m.id == from && m.id != id_);
  if (!from_member) return make_error("server.bad_request", "removal notice from a non-member");
  note_removed("the leader reported this member's removal");
  return std::string();
}

void MemberImpl::note_removed(const std::string& why) {
  if (removed_.exchange(true)) return;
  logger().warn("removed from the cluster: stopping; this member's shares will be wiped", {{"why", why}});
  std::function<void()> handler;
  {
    std::lock_guard lock(removed_mu_);
    handler = removed_handler_;
  }
  if (handler) handler();
}

}  // namespace etsecd::server
