// Joining a running cluster, and telling a new member from one that lost its data.
// The joiner was added first (`etcdctl member add NAME --learner --peer-urls=URL`): the leader gave it a
// share index nobody ever had, and the committed membership holds its peer URL. On its first start it asks
// the members listed in --initial-cluster, over the peer transport's mutual TLS, for its place; it then
// starts as a learner from the cluster's bootstrap membership and is brought up to date by log replay
// from index 1 (or share repair).
//
// Every member remembers (peers.heard) which members it ever received anything from. A member asking for
// its place under a peer URL whose member the cluster already heard from had Raft state (votes,
// acknowledged entries) and shares that its empty data directory no longer holds: the answer is
// kMemberDataLost and it refuses to start until it was removed and added again under a new id.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "etsecd/server/errors.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr char kHeardQueryMethod[] = "join.heard";
// One round of questions by an initial member with an empty data directory. Short, because on a fresh
// cluster's first start nobody answers yet and the member must bootstrap without delay.
constexpr std::chrono::milliseconds kProbeTimeout{2000};
constexpr std::chrono::milliseconds kHeardQueryTimeout{2000};
constexpr char kLostMemberPrefix[] = "member id ";

Result<std::string> address_of(const std::string& url) {
  auto rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (rest.find(':') == std::string::npos)
    return make_error("server.config", "peer URL '" + url + "' has no port");
  return rest;
}

std::string hex_id(uint64_t id) {
  std::ostringstream out;
  out << std::hex << id;
  return out.str();
}

// A remote answer arrives as "code: message" (transport::join_call).
bool is_remote(const Error& e, const ErrorSpec& spec) {
  return e.message.rfind(std::string(spec.code) + ":", 0) == 0;
}

// The refusal of a member whose data directory is empty although the cluster already heard from it.
Error data_lost_refusal(const MemberOptions& o, const std::string& remote_message) {
  std::string id = "ID";
  if (auto at = remote_message.rfind(kLostMemberPrefix); at != std::string::npos)
    id = remote_message.substr(at + sizeof(kLostMemberPrefix) - 1);
  return mvcc::make_error(
      kMemberDataLost,
      "refusing to start: data directory '" + o.data_dir + "' is empty, but the cluster already heard from " +
          "member " + id + " at peer URL " + o.advertise_peer_url +
          ", so that member's Raft state and shares are lost and starting it empty could break the "
          "cluster. Remove it and add it again as a learner: 'etcdctl member remove " +
          id + "', then 'etcdctl member add " + o.name + " --learner --peer-urls=" + o.advertise_peer_url +
          "', and start this member again with the same flags: it joins under a new share index and its "
          "shares are repaired (the etsecd operator does this by itself)");
}

std::vector<std::string> other_member_addresses(const MemberOptions& o, Status& status) {
  std::vector<std::string> out;
  for (const auto& p : o.initial_cluster) {
    if (p.peer_url == o.advertise_peer_url) continue;
    auto a = address_of(p.peer_url);
    if (!a) {
      status = a.error();
      return {};
    }
    out.push_back(*a);
  }
  return out;
}

}  // namespace

Status MemberImpl::join_cluster() {
  if (std::filesystem::exists(join_state_path(options_.data_dir))) {
    auto stored = read_join_state(options_.data_dir);
    if (!stored) return stored.error();
    adopt_join_info(*stored);
    return Status::Ok();
  }
  if (options_.advertise_peer_url.empty())
    return make_error("server.config", "a joining member needs its advertised peer URL");
  Status bad = Status::Ok();
  const auto addresses = other_member_addresses(options_, bad);
  if (!bad) return bad;
  if (addresses.empty())
    return make_error("server.config", "--initial-cluster lists no other member to join through");
  const auto give_up = std::chrono::steady_clock::now() + options_.join_timeout;
  Error last = make_error("server.join", "no member answered");
  while (!stopping_) {
    for (const auto& a : addresses) {
      auto r = transport::join_call(a, options_.peer_tls, options_.insecure_peer, options_.advertise_peer_url,
                                    std::chrono::seconds(5));
      if (!r) {
        if (is_remote(r.error(), kMemberDataLost)) return data_lost_refusal(options_, r.error().message);
        last = r.error();
        continue;
      }
      auto decoded = decode_join_info(*r);
      if (!decoded) {
        last = decoded.error();
        continue;
      }
      return adopt_new_join_info(*decoded);
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      return make_error("server.join", "could not join the cluster through " +
                                           std::to_string(addresses.size()) +
                                           " member(s) of --initial-cluster: " + last.message);
    }
    logger().info("waiting to join the cluster", {{"error", last.message}});
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return mvcc::make_error(kStopped);
}

Status MemberImpl::join_or_bootstrap() {
  Status bad = Status::Ok();
  const auto addresses = other_member_addresses(options_, bad);
  if (!bad) return bad;
  // All at once, so that members not started yet (a fresh cluster) cost one timeout, not one each.
  std::vector<std::future<Result<std::string>>> answers;
  for (const auto& a : addresses) {
    answers.push_back(std::async(std::launch::async, [this, a] {
      return transport::join_call(a, options_.peer_tls, options_.insecure_peer, options_.advertise_peer_url,
                                  kProbeTimeout);
    }));
  }
  std::optional<JoinInfo> invited;
  std::optional<Error> lost;
  size_t running = 0;
  for (auto& f : answers) {
    auto r = f.get();
    if (r) {
      ++running;
      if (auto decoded = decode_join_info(*r); decoded && !invited) invited = std::move(*decoded);
    } else if (is_remote(r.error(), kMemberDataLost)) {
      ++running;
      if (!lost) lost = r.error();
    } else if (r.error().code == "transport.remote") {
      ++running;  // not added, or stopping: a running member that does not know this one
    }
  }
  if (lost) return data_lost_refusal(options_, lost->message);
  if (invited) {
    logger().info("this initial member was removed and added again: joining as a learner");
    return adopt_new_join_info(*invited);
  }
  // Nobody heard from this member: it never sent a vote or an acknowledgement, so starting it from the
  // bootstrap membership (like a member that starts late) forgets nothing.
  logger().info("empty data directory and no member ever heard from this one: bootstrapping",
                {{"running_members", static_cast<uint64_t>(running)}});
  return Status::Ok();
}

void MemberImpl::adopt_join_info(const JoinInfo& info) {
  id_ = info.self_id;
  self_x_ = info.self_x;
  cluster_id_ = info.cluster_id;
  fingerprint_ = info.fingerprint;
  bootstrap_ = info.bootstrap;
  peers_.clear();
  for (size_t i = 0; i < info.bootstrap.members.size() && i < info.bootstrap_peers.size(); ++i)
    peers_[info.bootstrap.members[i].id] = info.bootstrap_peers[i];
}

Status MemberImpl::adopt_new_join_info(const JoinInfo& info) {
  // Checked on the first join only: a restart trusts join.state (the peer URL may have been updated since).
  if (info.self_id !=
      derive_added_member_id(options_.advertise_peer_url, options_.cluster_token, info.self_x)) {
    return make_error("server.config", "the cluster gave this member an id that --initial-cluster-token '" +
                                           options_.cluster_token + "' does not produce: wrong token?");
  }
  if (info.bootstrap.threshold != options_.threshold) {
    return make_error("server.config", "--threshold=" + std::to_string(options_.threshold) +
                                           " differs from the cluster's threshold " +
                                           std::to_string(info.bootstrap.threshold));
  }
  adopt_join_info(info);
  if (auto st = write_join_state(options_.data_dir, info); !st) return st;
  logger().info("joined the cluster as a learner",
                {{"id", info.self_id}, {"share_index", static_cast<unsigned>(info.self_x)}});
  return Status::Ok();
}

Result<std::string> MemberImpl::serve_join(const std::string& body) {
  if (stopping_) return mvcc::make_error(kStopped);
  const auto pub = published();
  const auto known = known_peers();
  auto lost = [](uint64_t id) { return mvcc::make_error(kMemberDataLost, kLostMemberPrefix + hex_id(id)); };
  for (const auto& m : pub.membership.members) {
    auto it = known.find(m.id);
    if (it == known.end()) continue;
    if (std::find(it->second.peer_urls.begin(), it->second.peer_urls.end(), body) ==
        it->second.peer_urls.end())
      continue;
    if (cluster_heard_from(m.id)) return lost(m.id);
    // An initial member nobody heard from yet starts from the bootstrap membership, not by joining.
    if (peers_.count(m.id)) return mvcc::make_error(kNotAdded);
    JoinInfo info;
    info.cluster_id = cluster_id_;
    info.fingerprint = fingerprint_;
    info.bootstrap = bootstrap_;
    for (const auto& b : bootstrap_.members) {
      auto p = peers_.find(b.id);
      info.bootstrap_peers.push_back(p == peers_.end() ? PeerSpec{} : p->second);
    }
    info.self_id = m.id;
    info.self_x = m.x;
    return encode_join_info(info);
  }
  // Not a member now: an initial member that was removed (and not added again) lost its place too.
  for (const auto& [id, spec] : peers_) {
    if (spec.peer_url == body && cluster_heard_from(id)) return lost(id);
  }
  return mvcc::make_error(kNotAdded);
}

Result<std::string> MemberImpl::serve_heard_query(const std::string& body) {
  uint64_t id = 0;
  std::istringstream in(body);
  if (!(in >> id) || id == 0) return make_error("server.bad_request", "join.heard: not a member id");
  return std::string(has_heard_from(id) ? "1" : "0");
}

void MemberImpl::note_heard_from(uint64_t id) {
  std::lock_guard lock(heard_mu_);
  if (id == 0 || heard_from_.count(id)) return;
  auto next = heard_from_;
  next.insert(id);
  // Written before the message is handled: whatever it changes here, a later question finds it.
  if (auto st = write_heard_peers(options_.data_dir, next); !st)
    logger().warn("cannot record a peer as heard from", {{"peer", id}, {"error", st.error().message}});
  heard_from_ = std::move(next);
}

bool MemberImpl::has_heard_from(uint64_t id) const {
  std::lock_guard lock(heard_mu_);
  return heard_from_.count(id) > 0;
}

bool MemberImpl::cluster_heard_from(uint64_t id) {
  if (has_heard_from(id)) return true;
  // A follower hears from other followers only in elections; the leader heard from every member that
  // ran during its term.
  const auto pub = published();
  if (pub.leader == 0 || pub.leader == id_ || pub.leader == id) return false;
  auto r = transport_->call(pub.leader, kHeardQueryMethod, std::to_string(id),
                            std::chrono::steady_clock::now() + kHeardQueryTimeout);
  return r && *r == "1";
}

Status wipe_shares(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* name :
       {"raft", "kv", "member.id", "join.state", "join.state.tmp", "peers.heard", "peers.heard.tmp"}) {
    fs::remove_all(fs::path(data_dir) / name, ec);
    if (ec)
      return make_error("server.data_dir",
                        "cannot delete '" + (fs::path(data_dir) / name).string() + "': " + ec.message());
  }
  // A tombstone, so a restart on this directory refuses instead of bootstrapping an empty member.
  std::ofstream tombstone(fs::path(data_dir) / kRemovedTombstone);
  tombstone << "this member was removed from its etsecd cluster and its shares were deleted\n";
  if (!tombstone)
    return make_error("server.data_dir", "cannot write the removal tombstone in '" + data_dir + "'");
  return Status::Ok();
}

}  // namespace etsecd::server
