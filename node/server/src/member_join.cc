// Joining a running cluster (--initial-cluster-state=existing) and answering members that join.
// The joiner was added first (`etcdctl member add NAME --learner --peer-urls=URL`): the leader gave it a
// share index nobody ever had, and the committed membership holds its peer URL. On its first start it asks
// the members listed in --initial-cluster, over the peer transport's mutual TLS, for its place; it then
// starts as a learner from the cluster's bootstrap membership and is brought up to date by log replay
// from index 1.

#include <filesystem>
#include <fstream>
#include <thread>

#include "etsecd/server/errors.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

Result<std::string> address_of(const std::string& url) {
  auto rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (rest.find(':') == std::string::npos)
    return make_error("server.config", "peer URL '" + url + "' has no port");
  return rest;
}

}  // namespace

Status MemberImpl::join_cluster() {
  JoinInfo info;
  if (std::filesystem::exists(join_state_path(options_.data_dir))) {
    auto stored = read_join_state(options_.data_dir);
    if (!stored) return stored.error();
    info = std::move(*stored);
  } else {
    if (options_.advertise_peer_url.empty())
      return make_error("server.config", "a joining member needs its advertised peer URL");
    std::vector<std::string> addresses;
    for (const auto& p : options_.initial_cluster) {
      if (p.peer_url == options_.advertise_peer_url) continue;
      auto a = address_of(p.peer_url);
      if (!a) return a.error();
      addresses.push_back(*a);
    }
    if (addresses.empty())
      return make_error("server.config", "--initial-cluster lists no other member to join through");
    const auto give_up = std::chrono::steady_clock::now() + options_.join_timeout;
    Error last = make_error("server.join", "no member answered");
    bool joined = false;
    while (!joined && !stopping_) {
      for (const auto& a : addresses) {
        auto r = transport::join_call(a, options_.peer_tls, options_.insecure_peer,
                                      options_.advertise_peer_url, std::chrono::seconds(5));
        if (!r) {
          last = r.error();
          continue;
        }
        auto decoded = decode_join_info(*r);
        if (!decoded) {
          last = decoded.error();
          continue;
        }
        info = std::move(*decoded);
        joined = true;
        break;
      }
      if (joined) break;
      if (std::chrono::steady_clock::now() >= give_up) {
        return make_error("server.join", "could not join the cluster through " +
                                             std::to_string(addresses.size()) +
                                             " member(s) of --initial-cluster: " + last.message);
      }
      logger().info("waiting to join the cluster", {{"error", last.message}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (!joined) return mvcc::make_error(kStopped);
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
    if (auto st = write_join_state(options_.data_dir, info); !st) return st;
    logger().info("joined the cluster as a learner",
                  {{"id", info.self_id}, {"share_index", static_cast<unsigned>(info.self_x)}});
  }
  id_ = info.self_id;
  self_x_ = info.self_x;
  cluster_id_ = info.cluster_id;
  fingerprint_ = info.fingerprint;
  bootstrap_ = info.bootstrap;
  peers_.clear();
  for (size_t i = 0; i < info.bootstrap.members.size() && i < info.bootstrap_peers.size(); ++i)
    peers_[info.bootstrap.members[i].id] = info.bootstrap_peers[i];
  return Status::Ok();
}

Result<std::string> MemberImpl::serve_join(const std::string& body) {
  if (stopping_) return mvcc::make_error(kStopped);
  const auto pub = published();
  const auto known = known_peers();
  for (const auto& m : pub.membership.members) {
    auto it = known.find(m.id);
    if (it == known.end() || peers_.count(m.id)) continue;  // initial members never join
    for (const auto& u : it->second.peer_urls) {
      if (u != body) continue;
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
  }
  return mvcc::make_error(kNotAdded);
}

Status wipe_shares(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* name : {"raft", "kv", "member.id", "join.state", "join.state.tmp"}) {
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
