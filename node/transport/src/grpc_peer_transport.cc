// gRPC implementation of PeerTransport. Raft messages and forwarded frames travel on the members' own
// Raft stream (stream_connection.h) when the peer announces one, else on a long-lived gRPC client
// stream that one sender thread per peer feeds from a bounded queue. Calls, Hello and Join are gRPC.

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "etsecd/peer/peer.grpc.pb.h"
#include "etsecd/transport/peer_transport.h"
#include "stream_connection.h"
#include "stream_listener.h"
#include "stream_socket.h"
#include "stream_tls.h"

namespace etsecd::transport {
namespace {

constexpr char kFingerprintHeader[] = "etsecd-cluster-fingerprint-bin";
constexpr char kFromHeader[] = "etsecd-from";

Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("transport.tls", std::string("cannot read ") + what + " file '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().empty())
    return make_error("transport.tls", std::string(what) + " file '" + path + "' is empty");
  return s.str();
}

struct TlsMaterial {
  std::string cert, key, ca;
};

Result<TlsMaterial> load_tls(const TlsFiles& files) {
  auto cert = read_file(files.cert_file, "peer certificate");
  if (!cert) return cert.error();
  auto key = read_file(files.key_file, "peer key");
  if (!key) return key.error();
  auto ca = read_file(files.trusted_ca_file, "peer trusted CA");
  if (!ca) return ca.error();
  return TlsMaterial{std::move(*cert), std::move(*key), std::move(*ca)};
}

// Checks the caller's fingerprint header so a member of another cluster (or with other settings) cannot
// inject Raft traffic even if its certificate chains to the same CA.
grpc::Status check_caller(const grpc::ServerContext* ctx, const Identity& self, uint64_t* from) {
  const auto& md = ctx->client_metadata();
  auto fp = md.find(kFingerprintHeader);
  if (fp == md.end() || std::string(fp->second.data(), fp->second.size()) != self.cluster_fingerprint) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "peer's cluster settings (initial cluster, token, threshold, commit quorum) differ from this "
        "member's");
  }
  auto f = md.find(kFromHeader);
  if (f == md.end()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "missing sender member id");
  try {
    *from = std::stoull(std::string(f->second.data(), f->second.size()));
  } catch (...) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed sender member id");
  }
  return grpc::Status::OK;
}

// gRPC deadlines are on the system clock; ours are steady.
std::chrono::system_clock::time_point to_system_clock(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
}

class PeerService final : public peer::Peer::Service {
 public:
  PeerService(const Identity& self, const PeerHandler& handler) : self_(self), handler_(handler) {}
  // Set before the server starts, so every Hello sees it.
  void set_stream_port(int port) { stream_port_ = port; }

  grpc::Status Hello(grpc::ServerContext*, const peer::HelloRequest* req,
                     peer::HelloResponse* resp) override {
    resp->set_name(self_.name);
    resp->set_member_id(self_.member_id);
    resp->set_cluster_fingerprint(self_.cluster_fingerprint);
    resp->set_version(self_.version);
    resp->set_forwards_on_stream(true);
    resp->set_raft_stream_port(static_cast<uint32_t>(stream_port_));
    for (const auto& f : self_.features) resp->add_features(f);
    if (req->cluster_fingerprint() != self_.cluster_fingerprint) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "member '" + req->name() +
                              "' has different cluster settings (initial cluster, token, "
                              "threshold or commit quorum) than member '" +
                              self_.name + "'");
    }
    return grpc::Status::OK;
  }

  grpc::Status Raft(grpc::ServerContext* ctx, grpc::ServerReader<peer::RaftBatch>* reader,
                    peer::RaftAck*) override {
    uint64_t from = 0;
    if (auto st = check_caller(ctx, self_, &from); !st.ok()) return st;
    peer::RaftBatch batch;
    while (reader->Read(&batch)) {
      if (batch.from() != from || batch.to() != self_.member_id) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "batch addressed to another member");
      }
      if (batch.messages_size() > 0 && handler_.on_raft) {
        std::vector<std::string> msgs(std::make_move_iterator(batch.mutable_messages()->begin()),
                                      std::make_move_iterator(batch.mutable_messages()->end()));
        handler_.on_raft(from, std::move(msgs));
      }
      if (batch.forwards_size() > 0 && handler_.on_forward) {
        std::vector<std::string> frames(std::make_move_iterator(batch.mutable_forwards()->begin()),
                                        std::make_move_iterator(batch.mutable_forwards()->end()));
        handler_.on_forward(from, std::move(frames));
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Call(grpc::ServerContext* ctx, const peer::CallRequest* req,
                    peer::CallResponse* resp) override {
    uint64_t from = 0;
    if (auto st = check_caller(ctx, self_, &from); !st.ok()) return st;
    if (!handler_.on_call) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no call handler");
    auto r = handler_.on_call(from, req->method(), req->body());
    // ABORTED marks "the handler answered with an error": gRPC itself never produces that code, so the
    // caller cannot mistake a connection failure (UNAVAILABLE, with its own "a: b" texts) for it.
    if (!r) return grpc::Status(grpc::StatusCode::ABORTED, r.error().code + ": " + r.error().message);
    resp->set_body(std::move(*r));
    return grpc::Status::OK;
  }

  grpc::Status Join(grpc::ServerContext*, const peer::CallRequest* req, peer::CallResponse* resp) override {
    if (!handler_.on_join) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no join handler");
    auto r = handler_.on_join(req->body());
    if (!r) return grpc::Status(grpc::StatusCode::UNAVAILABLE, r.error().code + ": " + r.error().message);
    resp->set_body(std::move(*r));
    return grpc::Status::OK;
  }

 private:
  const Identity& self_;
  const PeerHandler& handler_;
  int stream_port_ = 0;
};

class GrpcPeerTransport;

// Sends to one peer. Its thread owns the stream; other threads only touch the queue.
class PeerSender {
 public:
  PeerSender(GrpcPeerTransport& owner, uint64_t id, std::string address)
      : owner_(owner), id_(id), address_(std::move(address)) {
    thread_ = std::thread([this] { run(); });
  }
  ~PeerSender() { stop(); }

  void enqueue(std::vector<std::string> messages, bool forwards = false);
  // Writes the frames on this thread when the stream is up and idle (nothing queued, nobody writing),
  // which spares a wake-up of the sender thread; otherwise queues them. Only for callers that may block
  // for a write (flow control): never the member loop.
  void write_or_enqueue(std::vector<std::string> frames, bool forwards);
  void stop();
  bool forwards_on_stream() {
    std::lock_guard lock(channel_mu_);
    return peer_forwards_;
  }
  bool stream_open() {
    std::lock_guard lock(mu_);
    return stream_ != nullptr;
  }
  bool has_feature(const std::string& feature) {
    std::lock_guard lock(channel_mu_);
    return std::find(peer_features_.begin(), peer_features_.end(), feature) != peer_features_.end();
  }
  Result<std::string> call(const std::string& method, const std::string& body,
                           std::chrono::steady_clock::time_point deadline);
  void call_async(const std::string& method, const std::string& body,
                  std::chrono::steady_clock::time_point deadline,
                  std::function<void(Result<std::string>)> done);

 private:
  static Result<std::string> call_result(uint64_t id, const grpc::Status& st, peer::CallResponse& resp);
  // An empty batch from this member to the peer.
  peer::RaftBatch new_batch() const;
  static void add_frames(peer::RaftBatch& batch, std::vector<std::string>& frames, bool forwards);
  void run();
  // Carries the queue and later writes over the peer's Raft stream until it breaks or the sender stops.
  // False if the stream could not be opened (the caller falls back to gRPC's).
  bool run_stream();
  bool ensure_channel();
  void add_metadata(grpc::ClientContext& ctx) const;

  GrpcPeerTransport& owner_;
  const uint64_t id_;
  const std::string address_;

  std::mutex mu_;
  std::condition_variable cv_;
  struct Queued {
    std::vector<std::string> frames;
    bool forwards = false;  // RaftBatch.forwards, else RaftBatch.messages
  };
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  grpc::ClientContext* stream_ctx_ = nullptr;  // guarded by mu_, for cancellation on stop
  // The open stream, for writes from other threads (guarded by mu_); one write at a time (writing_).
  grpc::ClientWriter<peer::RaftBatch>* writer_ = nullptr;
  bool writing_ = false;
  bool broken_ = false;  // a write failed: the sender thread ends the stream and reconnects
  // While set (guarded by mu_), writers write on the members' Raft stream themselves; the sender thread
  // only flushes what the socket could not take at once.
  std::shared_ptr<stream::StreamConnection> stream_;

  std::mutex channel_mu_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<peer::Peer::Stub> stub_;
  bool hello_ok_ = false;
  bool peer_forwards_ = false;              // the peer's latest Hello said forwards_on_stream
  int peer_stream_port_ = 0;                // and announced this Raft stream port (0: none)
  std::vector<std::string> peer_features_;  // and announced these features

  std::thread thread_;
};

class GrpcPeerTransport final : public PeerTransport {
 public:
  GrpcPeerTransport(PeerTransportOptions options, PeerHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), service_(options_.self, handler_) {}

  ~GrpcPeerTransport() override { shutdown(); }

  Status start() {
    std::shared_ptr<grpc::ServerCredentials> server_creds;
    std::shared_ptr<stream::TlsContexts> stream_tls;
    if (options_.insecure) {
      if (options_.tls)
        return make_error("transport.config", "--insecure-peer cannot be combined with peer TLS files");
      server_creds = grpc::InsecureServerCredentials();
      client_creds_ = grpc::InsecureChannelCredentials();
    } else {
      if (!options_.tls)
        return make_error("transport.config", "peer TLS files are required unless --insecure-peer");
      auto material = load_tls(*options_.tls);
      if (!material) return material.error();
      grpc::SslServerCredentialsOptions sopts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      sopts.pem_root_certs = material->ca;
      sopts.pem_key_cert_pairs.push_back({material->key, material->cert});
      server_creds = grpc::SslServerCredentials(sopts);
      grpc::SslCredentialsOptions copts;
      copts.pem_root_certs = material->ca;
      copts.pem_private_key = material->key;
      copts.pem_cert_chain = material->cert;
      client_creds_ = grpc::SslCredentials(copts);
      auto contexts = stream::TlsContexts::make(material->cert, material->key, material->ca);
      if (!contexts) return contexts.error();
      stream_tls = *contexts;
    }
    stream_tls_ = stream_tls;
    // The stream listener comes first, so that no Hello ever announces port 0 for it: a peer that got
    // one would stay on gRPC's stream until that stream breaks.
    if (options_.raft_stream) {
      stream::StreamListener::Options so;
      so.host = stream::split_host_port(options_.listen_address).first;
      so.ctx = stream_tls ? stream_tls->server() : nullptr;
      so.self_id = options_.self.member_id;
      so.fingerprint = options_.self.cluster_fingerprint;
      so.max_frame_bytes = options_.max_message_bytes;
      so.handshake_timeout = options_.call_timeout;
      auto listener = stream::StreamListener::start(
          std::move(so), [this](uint64_t from, stream::FrameKind kind, std::vector<std::string> payloads) {
            if (kind == stream::FrameKind::kRaft) {
              if (handler_.on_raft) handler_.on_raft(from, std::move(payloads));
            } else if (handler_.on_forward) {
              handler_.on_forward(from, std::move(payloads));
            }
          });
      if (!listener) return listener.error();
      stream_listener_ = std::move(*listener);
      service_.set_stream_port(stream_listener_->port());
    }
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options_.listen_address, server_creds, &bound_port_);
    builder.RegisterService(&service_);
    // Raft streams park a thread each and forwarded batches wait for their commit: with gRPC's default of
    // 2 idle pollers, every call that found no idle thread would create one and end it afterwards.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
    builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
    builder.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
    server_ = builder.BuildAndStart();
    if (!server_ || bound_port_ == 0) {
      stream_listener_.reset();
      return make_error("transport.listen", "cannot listen for peers on '" + options_.listen_address +
                                                "' (address in use, or not host:port)");
    }
    return Status::Ok();
  }

  void set_peer(uint64_t member_id, const std::string& address) override {
    std::shared_ptr<PeerSender> old;  // stopped outside the lock: stopping joins its thread
    {
      std::lock_guard lock(mu_);
      if (shut_down_) return;
      auto it = peers_.find(member_id);
      if (it != peers_.end() && it->second.address == address) return;
      if (it != peers_.end()) old = std::move(it->second.sender);
      peers_[member_id] = Entry{address, std::make_shared<PeerSender>(*this, member_id, address)};
    }
    if (old) old->stop();
  }

  void remove_peer(uint64_t member_id) override {
    std::shared_ptr<PeerSender> old;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(member_id);
      if (it == peers_.end()) return;
      old = std::move(it->second.sender);
      peers_.erase(it);
    }
    old->stop();
  }

  void send_raft(uint64_t to, std::vector<std::string> messages) override {
    auto sender = find(to);
    if (!sender) {
      report_unreachable(to);
      return;
    }
    sender->enqueue(std::move(messages));
  }

  void send_forward(uint64_t to, std::string frame) override {
    auto sender = find(to);
    if (!sender) {
      report_unreachable(to);
      return;
    }
    std::vector<std::string> frames;
    frames.push_back(std::move(frame));
    sender->write_or_enqueue(std::move(frames), true);
  }

  void queue_forwards(uint64_t to, std::vector<std::string> frames) override {
    auto sender = find(to);
    if (!sender) {
      report_unreachable(to);
      return;
    }
    sender->enqueue(std::move(frames), true);
  }

  bool forwards_on_stream(uint64_t peer) override {
    auto sender = find(peer);
    return sender && sender->forwards_on_stream();
  }

  bool peer_has_feature(uint64_t peer, const std::string& feature) override {
    auto sender = find(peer);
    return sender && sender->has_feature(feature);
  }

  bool raft_stream_open(uint64_t peer) override {
    auto sender = find(peer);
    return sender && sender->stream_open();
  }

  Result<std::string> call(uint64_t to, const std::string& method, const std::string& body) override {
    return call(to, method, body, std::chrono::steady_clock::now() + options_.call_timeout);
  }

  Result<std::string> call(uint64_t to, const std::string& method, const std::string& body,
                           std::chrono::steady_clock::time_point deadline) override {
    auto sender = find(to);
    if (!sender) return make_error("transport.unreachable", "unknown peer " + std::to_string(to));
    return sender->call(method, body, deadline);
  }

  void call_async(uint64_t to, const std::string& method, const std::string& body,
                  std::chrono::steady_clock::time_point deadline,
                  std::function<void(Result<std::string>)> done) override {
    auto sender = find(to);
    if (!sender) {
      done(make_error("transport.unreachable", "unknown peer " + std::to_string(to)));
      return;
    }
    sender->call_async(method, body, deadline, std::move(done));
  }

  int bound_port() const override { return bound_port_; }

  void shutdown() override {
    std::map<uint64_t, Entry> peers;
    {
      std::lock_guard lock(mu_);
      if (shut_down_) return;
      shut_down_ = true;
      peers.swap(peers_);
    }
    for (auto& [id, entry] : peers) entry.sender->stop();
    // Other members' Raft streams never end by themselves, so Shutdown always waits out its deadline
    // before cancelling them: keep it short (it only lets in-flight unary calls, such as a share fetch,
    // finish). It was 2 s, which a SIGTERMed member spent after handing its leadership over.
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(250));
    if (stream_listener_) stream_listener_->shutdown();
  }

  std::shared_ptr<PeerSender> find(uint64_t member_id) {
    std::lock_guard lock(mu_);
    auto it = peers_.find(member_id);
    return it == peers_.end() ? nullptr : it->second.sender;
  }

  void report_unreachable(uint64_t peer) {
    if (handler_.on_unreachable) handler_.on_unreachable(peer);
  }

  const PeerTransportOptions& options() const { return options_; }
  std::shared_ptr<grpc::ChannelCredentials> client_creds() const { return client_creds_; }
  SSL_CTX* stream_client_ctx() const { return stream_tls_ ? stream_tls_->client() : nullptr; }

 private:
  struct Entry {
    std::string address;
    std::shared_ptr<PeerSender> sender;
  };

  PeerTransportOptions options_;
  PeerHandler handler_;
  PeerService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::ChannelCredentials> client_creds_;
  int bound_port_ = 0;
  std::shared_ptr<stream::TlsContexts> stream_tls_;  // null with --insecure-peer
  std::unique_ptr<stream::StreamListener> stream_listener_;

  std::mutex mu_;
  std::map<uint64_t, Entry> peers_;
  bool shut_down_ = false;
};

void PeerSender::enqueue(std::vector<std::string> messages, bool forwards) {
  size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (stream_) {
      if (stream_->write(forwards ? stream::FrameKind::kForward : stream::FrameKind::kRaft, messages)) return;
      stream_ = nullptr;  // broken: the sender thread reconnects when more comes
    } else if (queued_bytes_ + bytes > owner_.options().max_queued_bytes_per_peer) {
      // Raft retransmits; an unbounded queue to a dead peer would only eat memory.
      queue_.clear();
      queued_bytes_ = 0;
    } else {
      queued_bytes_ += bytes;
      queue_.push_back(Queued{std::move(messages), forwards});
      cv_.notify_one();
      return;
    }
  }
  owner_.report_unreachable(id_);
}

peer::RaftBatch PeerSender::new_batch() const {
  peer::RaftBatch batch;
  batch.set_from(owner_.options().self.member_id);
  batch.set_to(id_);
  return batch;
}

void PeerSender::add_frames(peer::RaftBatch& batch, std::vector<std::string>& frames, bool forwards) {
  for (auto& f : frames) {
    if (forwards) {
      batch.add_forwards(std::move(f));
    } else {
      batch.add_messages(std::move(f));
    }
  }
}

void PeerSender::write_or_enqueue(std::vector<std::string> frames, bool forwards) {
  grpc::ClientWriter<peer::RaftBatch>* writer = nullptr;
  bool own_stream = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    own_stream = stream_ != nullptr;
    if (!own_stream && writer_ && !writing_ && !broken_ && queue_.empty()) {
      writing_ = true;
      writer = writer_;
    }
  }
  if (!writer) {
    enqueue(std::move(frames), forwards);  // on the members' own stream, that writes without blocking
    return;
  }
  peer::RaftBatch batch = new_batch();
  add_frames(batch, frames, forwards);
  const bool ok = writer->Write(batch);
  std::lock_guard lock(mu_);
  writing_ = false;
  if (!ok) broken_ = true;
  // The sender waits for the stream to be idle before writing what queued up meanwhile, or before
  // ending a broken or stopped stream.
  if (!queue_.empty() || broken_ || stopping_) cv_.notify_one();
}

void PeerSender::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    if (stream_ctx_) stream_ctx_->TryCancel();
    if (stream_) stream_->close();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void PeerSender::add_metadata(grpc::ClientContext& ctx) const {
  ctx.AddMetadata(kFingerprintHeader, owner_.options().self.cluster_fingerprint);
  ctx.AddMetadata(kFromHeader, std::to_string(owner_.options().self.member_id));
}

bool PeerSender::ensure_channel() {
  std::lock_guard lock(channel_mu_);
  if (!channel_) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(owner_.options().max_message_bytes));
    args.SetMaxSendMessageSize(static_cast<int>(owner_.options().max_message_bytes));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    channel_ = grpc::CreateCustomChannel(address_, owner_.client_creds(), args);
    stub_ = peer::Peer::NewStub(channel_);
    hello_ok_ = false;
  }
  if (hello_ok_) return true;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + owner_.options().call_timeout);
  peer::HelloRequest req;
  const auto& self = owner_.options().self;
  req.set_name(self.name);
  req.set_member_id(self.member_id);
  req.set_cluster_fingerprint(self.cluster_fingerprint);
  req.set_version(self.version);
  peer::HelloResponse resp;
  auto st = stub_->Hello(&ctx, req, &resp);
  hello_ok_ = st.ok() && resp.cluster_fingerprint() == self.cluster_fingerprint && resp.member_id() == id_;
  if (hello_ok_) {
    peer_forwards_ = resp.forwards_on_stream();
    peer_stream_port_ = static_cast<int>(resp.raft_stream_port());
    peer_features_.assign(resp.features().begin(), resp.features().end());
  }
  return hello_ok_;
}

Result<std::string> PeerSender::call(const std::string& method, const std::string& body,
                                     std::chrono::steady_clock::time_point deadline) {
  if (!ensure_channel()) {
    return make_error("transport.refused", "peer " + std::to_string(id_) + " at " + address_ +
                                               " is unreachable or belongs to another cluster");
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(to_system_clock(deadline));
  add_metadata(ctx);
  peer::CallRequest req;
  req.set_from(owner_.options().self.member_id);
  req.set_method(method);
  req.set_body(body);
  peer::CallResponse resp;
  auto st = stub_->Call(&ctx, req, &resp);
  return call_result(id_, st, resp);
}

Result<std::string> PeerSender::call_result(uint64_t id, const grpc::Status& st, peer::CallResponse& resp) {
  if (!st.ok()) {
    if (st.error_code() == grpc::StatusCode::ABORTED && st.error_message().find(": ") != std::string::npos) {
      return make_error("transport.remote", st.error_message());
    }
    return make_error("transport.unreachable",
                      "call to peer " + std::to_string(id) + " failed: " + st.error_message());
  }
  return std::move(*resp.mutable_body());
}

void PeerSender::call_async(const std::string& method, const std::string& body,
                            std::chrono::steady_clock::time_point deadline,
                            std::function<void(Result<std::string>)> done) {
  if (!ensure_channel()) {
    done(make_error("transport.refused", "peer " + std::to_string(id_) + " at " + address_ +
                                             " is unreachable or belongs to another cluster"));
    return;
  }
  struct Call {
    grpc::ClientContext ctx;
    peer::CallRequest req;
    peer::CallResponse resp;
  };
  auto call = std::make_shared<Call>();
  call->ctx.set_deadline(to_system_clock(deadline));
  add_metadata(call->ctx);
  call->req.set_from(owner_.options().self.member_id);
  call->req.set_method(method);
  call->req.set_body(body);
  const uint64_t id = id_;
  stub_->async()->Call(
      &call->ctx, &call->req, &call->resp,
      [call, id, done = std::move(done)](grpc::Status st) { done(call_result(id, st, call->resp)); });
}

void PeerSender::run() {
  auto backoff = std::chrono::milliseconds(50);
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
    }
    if (!ensure_channel()) {
      {
        std::lock_guard lock(mu_);
        queue_.clear();
        queued_bytes_ = 0;
      }
      owner_.report_unreachable(id_);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, backoff, [&] { return stopping_; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    backoff = std::chrono::milliseconds(50);
    if (run_stream()) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      {
        std::lock_guard lock(channel_mu_);
        hello_ok_ = false;  // the peer may have been replaced
      }
      owner_.report_unreachable(id_);
      continue;
    }

    grpc::ClientContext ctx;
    add_metadata(ctx);
    peer::RaftAck ack;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stream_ctx_ = &ctx;
    }
    auto writer = stub_->Raft(&ctx, &ack);
    {
      std::lock_guard lock(mu_);
      writer_ = writer.get();
      broken_ = false;
    }
    for (;;) {
      peer::RaftBatch batch = new_batch();
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || broken_ || (!queue_.empty() && !writing_); });
        if (stopping_ || broken_) break;
        // Coalesce everything queued into one batch: one write, one syscall, under load.
        for (; !queue_.empty(); queue_.pop_front())
          add_frames(batch, queue_.front().frames, queue_.front().forwards);
        queued_bytes_ = 0;
        writing_ = true;
      }
      const bool ok = writer->Write(batch);
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok) broken_ = true;
    }
    {
      // Another thread may still be writing (a stop cancels its write too): the stream outlives it.
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !writing_; });
      writer_ = nullptr;
    }
    writer->WritesDone();
    writer->Finish();
    {
      std::lock_guard lock(mu_);
      stream_ctx_ = nullptr;
      if (stopping_) return;
    }
    {
      std::lock_guard lock(channel_mu_);
      hello_ok_ = false;  // re-check identity after a broken stream: the peer may have been replaced
    }
    owner_.report_unreachable(id_);
  }
}

bool PeerSender::run_stream() {
  int port = 0;
  {
    std::lock_guard lock(channel_mu_);
    port = peer_stream_port_;
  }
  if (port == 0 || !owner_.options().raft_stream) return false;
  const auto& self = owner_.options().self;
  auto conn = stream::StreamConnection::open(
      stream::split_host_port(address_).first, std::to_string(port), owner_.stream_client_ctx(),
      stream::Preamble{self.member_id, id_, self.cluster_fingerprint}, owner_.options().call_timeout,
      owner_.options().max_queued_bytes_per_peer);
  if (!conn) return false;
  std::shared_ptr<stream::StreamConnection> open(std::move(*conn));
  {
    std::lock_guard lock(mu_);
    if (stopping_) return true;
    bool ok = true;
    for (; !queue_.empty() && ok; queue_.pop_front()) {
      const auto& q = queue_.front();
      ok = open->write(q.forwards ? stream::FrameKind::kForward : stream::FrameKind::kRaft, q.frames);
    }
    queue_.clear();
    queued_bytes_ = 0;
    if (!ok) return true;
    stream_ = open;
  }
  while (open->flush(std::chrono::milliseconds(100))) {
    std::lock_guard lock(mu_);
    if (stopping_) break;
  }
  std::lock_guard lock(mu_);
  if (stream_ == open) stream_ = nullptr;
  open->close();
  return true;
}

}  // namespace

Result<std::string> join_call(const std::string& address, const std::optional<TlsFiles>& tls, bool insecure,
                              const std::string& body, std::chrono::milliseconds timeout) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (insecure) {
    if (tls) return make_error("transport.config", "--insecure-peer cannot be combined with peer TLS files");
    creds = grpc::InsecureChannelCredentials();
  } else {
    if (!tls) return make_error("transport.config", "peer TLS files are required unless --insecure-peer");
    auto material = load_tls(*tls);
    if (!material) return material.error();
    grpc::SslCredentialsOptions copts;
    copts.pem_root_certs = material->ca;
    copts.pem_private_key = material->key;
    copts.pem_cert_chain = material->cert;
    creds = grpc::SslCredentials(copts);
  }
  auto stub = peer::Peer::NewStub(grpc::CreateChannel(address, creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  peer::CallRequest req;
  req.set_method("join");
  req.set_body(body);
  peer::CallResponse resp;
  auto st = stub->Join(&ctx, req, &resp);
  if (!st.ok()) {
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE &&
        st.error_message().find(": ") != std::string::npos)
      return make_error("transport.remote", st.error_message());
    return make_error("transport.unreachable",
                      "join request to " + address + " failed: " + st.error_message());
  }
  return std::move(*resp.mutable_body());
}

Result<std::unique_ptr<PeerTransport>> PeerTransport::start(PeerTransportOptions options,
                                                            PeerHandler handler) {
  auto t = std::make_unique<GrpcPeerTransport>(std::move(options), std::move(handler));
  if (auto st = t->start(); !st) return st.error();
  return std::unique_ptr<PeerTransport>(std::move(t));
}

}  // namespace etsecd::transport
