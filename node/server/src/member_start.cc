// Start-up: identities, storage, the Raft core and the peer transport.

#include <pthread.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "etsecd/raft/quorum.h"
#include "etsecd/raft/secret_sharer.h"
#include "etsecd/repair/interrupted_install.h"
#include "etsecd/server/errors.h"
#include "etsecd/storage/rocks_backend.h"
#include "etsecd/wire/raft_codec.h"
#include "etsecd/wire/share_fetch.h"
#include "forward_batch_codec.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr char kMemberInfoMethod[] = "member.info";
constexpr char kNameLinePrefix[] = "name=";  // first line of a member.info answer; client URLs follow

// host:port of a URL such as https://127.0.0.1:2380.
Result<std::string> host_port(const std::string& url) {
  auto scheme_end = url.find("://");
  std::string rest = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (rest.empty() || rest.find(':') == std::string::npos) {
    return make_error("server.config", "peer URL '" + url + "' has no host:port");
  }
  return rest;
}

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

MemberImpl::MemberImpl(MemberOptions options, MemberMetrics metrics)
    : options_(std::move(options)), metrics_(std::move(metrics)) {
  if (options_.logger) {
    logger_ = options_.logger;
  } else {
    own_logger_ = std::make_unique<log::Logger>(log::stderr_sink());
    logger_ = own_logger_.get();
  }
}

MemberImpl::~MemberImpl() { stop(); }

Result<std::unique_ptr<Member>> Member::start(MemberOptions options, MemberMetrics metrics) {
  auto m = std::make_unique<MemberImpl>(std::move(options), std::move(metrics));
  if (auto st = m->open(); !st) return st.error();
  return std::unique_ptr<Member>(std::move(m));
}

Status MemberImpl::identify_initial_member() {
  if (options_.initial_cluster.empty()) return make_error("server.config", "the initial cluster is empty");
  bool found = false;
  std::vector<raft::MemberId> ids;
  for (const auto& p : options_.initial_cluster) {
    uint64_t id = derive_member_id(p.name, p.peer_url, options_.cluster_token);
    if (peers_.count(id)) return make_error("server.config", "member '" + p.name + "' is listed twice");
    peers_[id] = p;
    ids.push_back(id);
    if (p.name == options_.name) {
      id_ = id;
      found = true;
    }
  }
  if (!found)
    return make_error("server.config", "member '" + options_.name + "' is not in the initial cluster");
  cluster_id_ = derive_cluster_id(ids, options_.cluster_token);
  auto membership = raft::initial_membership(ids, options_.threshold, options_.commit_quorum);
  if (!membership) return membership.error();
  bootstrap_ = *membership;
  // One definition of "same settings" (config::cluster_fingerprint), computed by whoever parsed them.
  if (options_.fingerprint.empty())
    return make_error("server.config", "the cluster settings fingerprint is missing");
  fingerprint_ = options_.fingerprint;
  return Status::Ok();
}

Status MemberImpl::open() {
  namespace fs = std::filesystem;
  if (options_.initial_cluster.empty()) return make_error("server.config", "the initial cluster is empty");
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec)
    return make_error("server.data_dir",
                      "cannot create data directory '" + options_.data_dir + "': " + ec.message());
  fs::permissions(options_.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  if (fs::exists(fs::path(options_.data_dir) / kRemovedTombstone)) {
    return make_error("server.data_dir",
                      "data directory '" + options_.data_dir +
                          "' belongs to a member that was removed from the cluster and whose "
                          "shares were deleted; to add it again, empty the directory (delete "
                          "the volume), run 'etcdctl member add --learner' and start it with "
                          "--initial-cluster-state=existing");
  }
  auto heard = read_heard_peers(options_.data_dir);
  if (!heard) return heard.error();
  heard_from_ = std::move(*heard);
  // A member that joined keeps what it learned (join.state); an initial member's data directory has
  // member.id and no join.state, whatever --initial-cluster-state says on a restart (as etcd ignores it
  // once a data directory exists). On an empty data directory (docs/operations.md, "How a member
  // starts"): a member not named in --initial-cluster, or started with --initial-cluster-state=existing,
  // joins; an initial member first asks the others whether the cluster knows it already.
  const bool joined_before = fs::exists(join_state_path(options_.data_dir));
  const bool initial_before = !joined_before && fs::exists(fs::path(options_.data_dir) / "member.id");
  const bool listed = std::any_of(options_.initial_cluster.begin(), options_.initial_cluster.end(),
                                  [this](const PeerSpec& p) { return p.name == options_.name; });
  if (joined_before || (!initial_before && (options_.join_existing || !listed))) {
    if (auto st = join_cluster(); !st) return st;
  } else if (auto st = identify_initial_member(); !st) {
    return st;
  } else if (!initial_before) {
    if (auto st2 = join_or_bootstrap(); !st2) return st2;
  }

  if (auto st = open_storage(); !st) return st;
  if (auto st = create_core(); !st) return st;
  if (auto st = start_transport(); !st) return st;
  publish();
  committed_membership_ = node_->committed_membership();
  on_membership_committed(committed_membership_);
  loop_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "etsecd-loop");  // for top -H and profiles
    run_loop();
  });
  logger().info(
      "member started",
      {{"id", id_}, {"cluster_id", cluster_id_}, {"quorum", raft::describe(node_->status().quorum)}});
  return Status::Ok();
}

Status MemberImpl::open_storage() {
  namespace fs = std::filesystem;
  // The identity file ties a data directory to one member of one cluster, so a member started with
  // another --name, token or threshold refuses instead of mixing shares of two polynomials.
  const fs::path identity = fs::path(options_.data_dir) / "member.id";
  const std::string expected = "etsecd member " + std::to_string(id_) + " cluster " +
                               std::to_string(cluster_id_) + " fingerprint " + to_hex(fingerprint_) + "\n";
  if (fs::exists(identity)) {
    std::ifstream in(identity);
    std::string got, line;
    while (std::getline(in, line)) got += line + "\n";
    if (got != expected) {
      return make_error("server.data_dir", "data directory '" + options_.data_dir +
                                               "' belongs to another member or cluster configuration (name, "
                                               "initial cluster, token, threshold or commit quorum differ)");
    }
  } else {
    std::ofstream out(identity);
    out << expected;
    if (!out) return make_error("server.data_dir", "cannot write '" + identity.string() + "'");
  }

  auto log = raftlog::RocksRaftLog::open((fs::path(options_.data_dir) / "raft").string());
  if (!log) return log.error();
  log_ = std::move(*log);
  // The store commits without fsync: the raft log is the durable record and apply replays from it after
  // a crash (the log is only truncated below what Store::sync() made durable).
  storage::RocksOptions kv_options;
  kv_options.sync = false;
  auto backend = storage::RocksBackend::open((fs::path(options_.data_dir) / "kv").string(), kv_options);
  if (!backend) return backend.error();
  auto store = mvcc::Store::open(std::move(*backend));
  if (!store) return store.error();
  store_ = std::move(*store);
  // A crash inside repair.finish, after the raft log moved to the snapshot: publish the install now,
  // before the core is built from that log (docs/share-repair.md, "Crash consistency").
  auto finished = repair::finish_interrupted_install(*store_, log_->snapshot_meta().index);
  if (!finished) return finished.error();
  if (*finished) {
    logger().info("finished a share repair that a crash interrupted after its raft snapshot",
                  {{"index", log_->snapshot_meta().index}});
  } else if (const auto install = store_->install_state(); install.active) {
    logger().info("a share repair was interrupted; waiting for the leader to resume it",
                  {{"index", install.target.applied_index}});
  }
  receiver_ = std::make_unique<repair::Receiver>(*store_, repair_hooks());
  return Status::Ok();
}

Status MemberImpl::create_core() {
  raft::Config cfg;
  cfg.id = id_;
  cfg.initial_membership = bootstrap_;
  cfg.self_x = self_x_;
  const auto hb = std::max<int64_t>(1, options_.heartbeat_interval.count());
  cfg.heartbeat_tick = 1;
  cfg.election_tick = static_cast<unsigned>(std::max<int64_t>(2, options_.election_timeout.count() / hb));
  cfg.share_cache_bytes = options_.share_cache_bytes;
  cfg.applied = store_->applied_index();

  sharer_ = raft::make_shamir_secret_sharer();
  rng_ = shamir::make_csprng();
  auto node = raft::Node::create(cfg, *log_, *sharer_, *rng_);
  if (!node) return node.error();
  node_ = std::move(*node);
  return Status::Ok();
}

Status MemberImpl::start_transport() {
  auto listen = host_port(options_.listen_peer_address);
  if (!listen) return listen.error();
  transport::PeerTransportOptions t;
  t.self = transport::Identity{options_.name,
                               id_,
                               fingerprint_,
                               options_.version,
                               {wire::kForwardedReadFeature, wire::kShareFetchFramesFeature}};
  t.listen_address = *listen;
  t.tls = options_.peer_tls;
  t.insecure = options_.insecure_peer;
  transport::PeerHandler h;
  h.on_raft = [this](uint64_t from, std::vector<std::string> msgs) {
    note_heard_from(from);
    post(event::RaftIn{from, std::move(msgs)});
  };
  h.on_call = [this](uint64_t from, const std::string& method, const std::string& body) {
    note_heard_from(from);
    return on_peer_call(from, method, body);
  };
  h.on_join = [this](const std::string& body) { return serve_join(body); };
  h.on_forward = [this](uint64_t from, std::vector<std::string> frames) {
    note_heard_from(from);
    on_forward_frames(from, std::move(frames));
  };
  h.on_unreachable = [this](uint64_t peer) {
    forward_stream_->fail(peer,
                          make_error("transport.unreachable",
                                     "the stream to member " + std::to_string(peer) +
                                         " broke; a request sent on it may or may not have been applied"));
  };
  forward_stream_ = std::make_unique<ForwardStream>(
      [this](uint64_t leader, std::string frame) { transport_->send_forward(leader, std::move(frame)); });
  // Up to 4 batches on the way at once, of up to 256 requests (not tuned: with 1, a request arriving just
  // after a batch left would wait for that batch's whole round trip); the leader side runs each request
  // of a batch on its own (reused) thread.
  forward_batch_server_ = std::make_unique<ForwardBatchServer>(1024);
  forward_batcher_ = std::make_unique<ForwardBatcher>(
      [this](uint64_t leader, const std::string& body, Deadline deadline) -> Result<std::string> {
        auto answer = transport_->call(leader, kForwardBatchMethod, body, deadline);
        if (answer || answer.error().message.find("unknown peer method") == std::string::npos) return answer;
        // A leader from before batching (a rolling upgrade in progress): one call per request.
        auto requests = decode_forward_batch(body);
        if (!requests) return requests.error();
        std::vector<Result<std::string>> results;
        for (const auto& r : *requests)
          results.push_back(transport_->call(leader, r.method, r.body, deadline));
        return encode_forward_results(results);
      },
      4, 256);
  auto tr = transport::PeerTransport::start(std::move(t), std::move(h));
  if (!tr) return tr.error();
  transport_ = std::move(*tr);
  for (const auto& [id, p] : peers_) {
    if (id == id_) continue;
    auto hp = host_port(p.peer_url);
    if (!hp) return hp.error();
    transport_->set_peer(id, *hp);
  }
  return Status::Ok();
}

Result<std::string> MemberImpl::on_peer_call(uint64_t from, const std::string& method,
                                             const std::string& body) {
  if (method == wire::kShareFetchMethod) return serve_share_fetch(body);
  if (method == kMemberInfoMethod) {
    std::string urls = std::string(kNameLinePrefix) + options_.name + "\n";
    for (const auto& u : options_.advertise_client_urls) urls += u + "\n";
    return urls;
  }
  if (method == "member.removed") return serve_removed_notice(from, body);
  if (method == "join.heard") return serve_heard_query(body);
  if (method.rfind("repair.", 0) == 0) return serve_repair(method, body);
  if (method == kForwardBatchMethod) {
    return forward_batch_server_->serve(
        body, [this, from](const std::string& m, const std::string& b, Deadline deadline) {
          return serve_forwarded(from, m, b, deadline);
        });
  }
  if (method.rfind("api.", 0) == 0)
    return serve_forwarded(from, method, body, std::chrono::steady_clock::now() + kForwardedRequestTimeout);
  return make_error("server.unknown_method", "unknown peer method '" + method + "'");
}

void MemberImpl::on_forward_frames(uint64_t from, std::vector<std::string> frames) {
  for (auto& bytes : frames) {
    auto frame = decode_forward_frame(bytes);
    if (!frame) {
      logger().warn("dropped malformed forwarded frame", {{"from", from}, {"error", frame.error().code}});
      continue;
    }
    if (frame->is_result) {
      forward_stream_->on_result(from, frame->id, std::move(frame->result));
      continue;
    }
    if (frame->request.method == wire::kShareFetchMethod) {
      serve_framed_share_fetch(from, frame->id, frame->request.body);
      continue;
    }
    const auto deadline = std::chrono::steady_clock::now() + frame->request.time_left;
    auto reply = [this, from, id = frame->id](Result<std::string> result) {
      reply_forwarded(from, encode_forward_result_frame(id, result));
    };
    if (serve_forwarded_async(frame->request, deadline, reply)) continue;
    // Otherwise it waits (for a commit, a read's shares), so it runs on a worker, like a forwarded batch.
    forward_batch_server_->run([this, from, id = frame->id, request = std::move(frame->request), deadline] {
      auto result = ForwardBatchServer::serve_one(
          request, deadline, [this, from](const std::string& m, const std::string& b, Deadline d) {
            return serve_forwarded(from, m, b, d);
          });
      transport_->send_forward(from, encode_forward_result_frame(id, result));
    });
  }
}

MemberImpl::ForwardHandler MemberImpl::forward_handler() {
  std::lock_guard lock(forward_mu_);
  return forward_handler_;
}

Result<std::string> MemberImpl::serve_forwarded(uint64_t from, const std::string& method,
                                                const std::string& body, Deadline deadline) {
  auto handler = forward_handler();
  if (!handler) return mvcc::make_error(kStopped);
  if (method != wire::kForwardedReadMethod) return handler(method, body, deadline, nullptr);
  auto read = wire::decode_forwarded_read(wire::as_bytes(body));
  if (!read) return read.error();
  GivenShares given;
  given.member = from;  // the stream's authenticated peer, not a claim inside the request
  for (auto& s : read->shares) given.shares.emplace(std::move(s.ref), std::move(s.share));
  return handler("api.KV.Range", read->request, deadline, &given);
}

bool MemberImpl::serve_forwarded_async(const ForwardedRequest& request, Deadline deadline,
                                       ForwardReply reply) {
  if (request.method.rfind("api.", 0) != 0) return false;  // refused by serve_one on the worker
  std::shared_ptr<const AsyncForwardHandler> handler;
  {
    std::lock_guard lock(forward_mu_);
    handler = async_forward_handler_;
  }
  return handler && (*handler)(request.method, request.body, deadline, std::move(reply));
}

void MemberImpl::set_async_forward_handler(AsyncForwardHandler handler) {
  std::lock_guard lock(forward_mu_);
  async_forward_handler_ =
      handler ? std::make_shared<const AsyncForwardHandler>(std::move(handler)) : nullptr;
}

void MemberImpl::set_forward_handler(ForwardHandler handler) {
  std::lock_guard lock(forward_mu_);
  forward_handler_ = std::move(handler);
}

Result<std::string> MemberImpl::call_leader(const std::string& method, const std::string& body,
                                            Deadline deadline) {
  for (;;) {
    const auto pub = published();
    if (pub.leader != 0 && pub.leader != id_) return call_member(pub.leader, method, body, deadline);
    if (pub.leader == id_) return mvcc::make_error(kNotLeader, "this member is the leader");
    // No leader known yet (an election is running): wait a little, as etcd does, before giving up.
    if (std::chrono::steady_clock::now() + options_.heartbeat_interval > deadline)
      return mvcc::make_error(kNoLeader);
    std::this_thread::sleep_for(options_.heartbeat_interval);
  }
}

bool MemberImpl::call_leader_async(const std::string& method, const std::string& body, Deadline deadline,
                                   CallDone done) {
  const auto pub = published();
  if (pub.leader == 0 || pub.leader == id_ || !transport_->forwards_on_stream(pub.leader)) return false;
  forward_stream_->call_async(pub.leader, method, body, deadline, std::move(done));
  return true;
}

Result<std::string> MemberImpl::call_leader_for_read(const mvcc::RangeOp& op, const std::string& method,
                                                     const std::string& body, Deadline deadline) {
  const auto pub = published();
  // The feature is checked on the member the read goes to: a leader from before it would not know the
  // method. If it stopped leading meanwhile, it answers kNotLeader and the caller tries again.
  if (pub.leader == 0 || pub.leader == id_ ||
      !transport_->peer_has_feature(pub.leader, wire::kForwardedReadFeature))
    return call_leader(method, body, deadline);
  auto shares = shares_for_forwarded_read(op);
  if (shares.empty()) return call_member(pub.leader, method, body, deadline);
  return call_member(pub.leader, wire::kForwardedReadMethod,
                     wire::encode_forwarded_read(wire::ForwardedRead{body, std::move(shares)}), deadline);
}

bool MemberImpl::call_leader_for_read_async(const mvcc::RangeOp& op, const std::string& method,
                                            const std::string& body, Deadline deadline, CallDone done) {
  const auto pub = published();
  if (pub.leader == 0 || pub.leader == id_ || !transport_->forwards_on_stream(pub.leader)) return false;
  auto shares = transport_->peer_has_feature(pub.leader, wire::kForwardedReadFeature)
                    ? shares_for_forwarded_read(op)
                    : std::vector<wire::GivenShare>{};
  if (shares.empty()) {
    forward_stream_->call_async(pub.leader, method, body, deadline, std::move(done));
  } else {
    forward_stream_->call_async(pub.leader, wire::kForwardedReadMethod,
                                wire::encode_forwarded_read(wire::ForwardedRead{body, std::move(shares)}),
                                deadline, std::move(done));
  }
  return true;
}

Result<std::string> MemberImpl::call_member(uint64_t leader, const std::string& method,
                                            const std::string& body, Deadline deadline) {
  if (transport_->forwards_on_stream(leader)) return forward_stream_->call(leader, method, body, deadline);
  return forward_batcher_->call(leader, method, body, deadline);
}

MemberStatus MemberImpl::status() const {
  const auto pub = published();
  MemberStatus s;
  s.id = id_;
  s.cluster_id = cluster_id_;
  s.leader = pub.leader;
  s.term = pub.term;
  s.commit = pub.commit;
  s.applied = pub.applied;
  s.is_leader = pub.is_leader;
  s.revision = store_->current_revision();
  s.compact_revision = store_->compact_revision();
  s.ready = pub.leader != 0 && !pub.recovering && pub.applied >= pub.commit;
  return s;
}

uint64_t MemberImpl::data_bytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(options_.data_dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

std::vector<MemberInfo> MemberImpl::members(Deadline deadline) {
  const auto pub = published();
  const auto known = known_peers();
  std::vector<MemberInfo> out;
  for (const auto& m : pub.membership.members) {
    MemberInfo info;
    info.id = m.id;
    info.share_index = m.x;
    info.voter = m.voter;
    if (auto it = known.find(m.id); it != known.end()) {
      info.name = it->second.name;
      info.peer_urls = it->second.peer_urls;
      if (!info.peer_urls.empty()) info.peer_url = info.peer_urls.front();
    }
    if (m.id == id_) {
      info.name = options_.name;
      info.client_urls = options_.advertise_client_urls;
    } else {
      std::unique_lock lock(client_urls_mu_);
      auto it = client_urls_.find(m.id);
      if (it == client_urls_.end()) {
        lock.unlock();
        std::promise<Result<std::string>> p;
        auto f = p.get_future();
        transport_->call_async(m.id, kMemberInfoMethod, "", deadline,
                               [&p](Result<std::string> r) { p.set_value(std::move(r)); });
        if (auto r = f.get(); r.ok()) {
          std::vector<std::string> urls;
          size_t start = 0;
          while (start < r->size()) {
            size_t end = r->find('\n', start);
            if (end == std::string::npos) end = r->size();
            if (end > start) urls.push_back(r->substr(start, end - start));
            start = end + 1;
          }
          lock.lock();
          it = client_urls_.emplace(m.id, std::move(urls)).first;
        }
      }
      if (it != client_urls_.end()) {
        for (const auto& line : it->second) {
          if (line.rfind(kNameLinePrefix, 0) == 0) {
            info.name = line.substr(sizeof(kNameLinePrefix) - 1);  // an added member names itself
          } else {
            info.client_urls.push_back(line);
          }
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<uint64_t> MemberImpl::other_voters() const {
  std::lock_guard lock(status_mu_);
  std::vector<uint64_t> out;
  for (const auto& m : published_.membership.members) {
    if (m.voter && m.id != id_) out.push_back(m.id);
  }
  return out;
}

Published MemberImpl::published() const {
  std::lock_guard lock(status_mu_);
  return published_;
}

void MemberImpl::stop() {
  if (!stopping_.load()) hand_off_leadership();
  if (stopping_.exchange(true)) return;
  if (forward_stream_) forward_stream_->close(mvcc::make_error(kStopped));
  inbox_cv_.notify_all();
  applied_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  cancel_repairs();  // the streams see it between chunks; the transport's shutdown fails their calls
  if (transport_) transport_->shutdown();
  for (auto& [to, s] : repairs_) {
    if (s.thread.joinable()) s.thread.join();
  }
  repairs_.clear();
  if (forward_batch_server_) forward_batch_server_->stop();
}

}  // namespace etsecd::server
