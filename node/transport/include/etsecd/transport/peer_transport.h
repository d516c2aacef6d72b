#pragma once
// Member-to-member transport: gRPC with mutual TLS. Everything it carries is opaque bytes, so this header
// keeps gRPC and protobuf out of the rest of the member (they live in src/ only).
//
// Delivery is best-effort and ordered per peer: Raft tolerates loss, so a send to an unreachable peer is
// dropped (and reported) rather than buffered without bound.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::transport {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
};

struct Identity {
  std::string name;
  uint64_t member_id = 0;
  std::string cluster_fingerprint;  // raw bytes; members with different fingerprints refuse each other
  std::string version;
  // Announced to peers in Hello: features of the member's own protocol that peers may use with it.
  std::vector<std::string> features;
};

struct PeerTransportOptions {
  Identity self;
  std::string listen_address;                   // host:port
  std::optional<TlsFiles> tls;                  // required unless insecure
  bool insecure = false;                        // plaintext, for tests only; refused if tls is also set
  size_t max_queued_bytes_per_peer = 64 << 20;  // beyond this, sends are dropped and reported
  size_t max_message_bytes = 64 << 20;
  std::chrono::milliseconds call_timeout{5000};
  // Listen for, announce and open the members' own Raft stream (docs/architecture.md). False: Raft
  // messages and forwarded frames go over gRPC only, as members before the stream did.
  bool raft_stream = true;
};

// Callbacks into the member. They run on transport threads: implementations hand work to the member's
// own loop and return quickly.
struct PeerHandler {
  // A batch of Raft messages from `from`, in the order it sent them.
  std::function<void(uint64_t from, std::vector<std::string> messages)> on_raft;
  // Forwarded client requests or their results from `from` (PeerTransport::send_forward), in order.
  std::function<void(uint64_t from, std::vector<std::string> frames)> on_forward;
  // A peer's request/response call (share fetch, repair); errors become the caller's error.
  std::function<Result<std::string>(uint64_t from, const std::string& method, const std::string& body)>
      on_call;
  // A joining member's request (see join_call); no fingerprint check, mutual TLS only.
  std::function<Result<std::string>(const std::string& body)> on_join;
  // A peer could not be reached or its stream broke (Raft's ReportUnreachable).
  std::function<void(uint64_t peer)> on_unreachable;
};

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;

  // Binds the listener and starts serving. Errors: transport.tls (unreadable or invalid certificates),
  // transport.listen (address in use or invalid), transport.config.
  static Result<std::unique_ptr<PeerTransport>> start(PeerTransportOptions options, PeerHandler handler);

  // Adds or updates the address of a peer (host:port). Connections are made lazily, on first send.
  virtual void set_peer(uint64_t member_id, const std::string& address) = 0;
  virtual void remove_peer(uint64_t member_id) = 0;

  // Queues Raft messages for `to`; never blocks on the network.
  virtual void send_raft(uint64_t to, std::vector<std::string> messages) = 0;

  // Sends one forwarded-request frame on `to`'s Raft stream, behind the Raft messages queued before it.
  // When the stream is idle the calling thread writes the frame itself (no hand-off to the sender
  // thread), so it may block while the peer's flow-control window is full: never call it from the loop.
  virtual void send_forward(uint64_t to, std::string frame) = 0;
  // send_forward for several frames that always leaves the write to the sender thread (one batch): never
  // blocks, so the loop may call it.
  virtual void queue_forwards(uint64_t to, std::vector<std::string> frames) = 0;
  // Whether `peer` said (in its latest Hello) that it reads frames sent with send_forward; false while
  // not yet known.
  virtual bool forwards_on_stream(uint64_t peer) = 0;
  // Whether `peer` announced `feature` (Identity::features) in its latest Hello; false while not yet known.
  virtual bool peer_has_feature(uint64_t peer, const std::string& feature) = 0;
  // Whether Raft messages to `peer` currently travel on the members' own stream (not gRPC's).
  virtual bool raft_stream_open(uint64_t peer) = 0;

  // A blocking request/response call to one peer with the configured timeout. Errors: transport.unreachable,
  // transport.refused (fingerprint or identity mismatch), transport.remote (the handler's error message).
  virtual Result<std::string> call(uint64_t to, const std::string& method, const std::string& body) = 0;
  // The same with the caller's deadline. The calling thread waits on the call itself, so the answer
  // reaches it without a hand-off through a transport thread (forwarded client requests use this).
  virtual Result<std::string> call(uint64_t to, const std::string& method, const std::string& body,
                                   std::chrono::steady_clock::time_point deadline) = 0;

  // The same call without blocking: `done` runs once, on a transport thread, and must not block.
  // Used to fan a read's share fetch out to every member at once.
  virtual void call_async(uint64_t to, const std::string& method, const std::string& body,
                          std::chrono::steady_clock::time_point deadline,
                          std::function<void(Result<std::string>)> done) = 0;

  // The port actually bound (useful with port 0 in tests).
  virtual int bound_port() const = 0;

  virtual void shutdown() = 0;
};

// Asks the member listening at `address` (host:port) to answer a joining member's request, before this
// process knows the cluster's fingerprint or its own member id: a one-off connection with the same mutual
// TLS (or --insecure-peer) settings as the transport. Errors: transport.tls, transport.config,
// transport.unreachable, transport.remote (the handler's error, "code: message").
Result<std::string> join_call(const std::string& address, const std::optional<TlsFiles>& tls, bool insecure,
                              const std::string& body, std::chrono::milliseconds timeout);

}  // namespace etsecd::transport
