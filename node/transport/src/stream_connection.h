#pragma once
// The opening side of one member-to-member Raft stream. Any thread may write frames: they are encrypted
// and handed to the kernel on the calling thread without ever blocking it (the member loop writes its
// Raft messages itself, with no hand-off to a sender thread). Whatever the socket cannot take at once
// waits in memory, bounded, for flush() on the owner's thread.

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "stream_frames.h"

namespace etsecd::transport::stream {

class StreamConnection {
 public:
  // Connects, completes the TLS handshake (ctx null: plaintext, for --insecure-peer), verifies the
  // peer's certificate for `host`, sends the preamble and waits for the peer to accept it, all within
  // `timeout`. Errors: transport.unreachable, transport.refused (TLS or preamble refused).
  static Result<std::unique_ptr<StreamConnection>> open(const std::string& host, const std::string& port,
                                                        SSL_CTX* ctx, const Preamble& preamble,
                                                        std::chrono::milliseconds timeout,
                                                        size_t max_pending);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Writes the frames, or fails (false) once the connection is broken or closed; never blocks on the
  // network. More than max_pending bytes the socket has not taken breaks the connection.
  bool write(FrameKind kind, const std::vector<std::string>& payloads);
  // Waits up to `idle` for bytes to send, sends what the socket takes, and notices a peer that closed.
  // Returns false once the connection is broken or closed.
  bool flush(std::chrono::milliseconds idle);
  // Ends the connection; writes fail from now on and flush() returns at once.
  void close();

 private:
  StreamConnection(int fd, SSL* ssl, size_t max_pending);
  void send_locked();
  void break_locked();

  const int fd_;
  SSL* const ssl_;  // null for plaintext
  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;  // bytes for the socket (ciphertext), from out_pos_
  size_t out_pos_ = 0;
  bool broken_ = false;
};

}  // namespace etsecd::transport::stream
