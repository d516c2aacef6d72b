#pragma once
// The accepting side of the members' Raft streams: one thread per incoming stream, blocked in read, so
// the kernel wakes the thread that hands frames to the member (no poller in between).

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etsecd/common/result.h"
#include "stream_frames.h"

namespace etsecd::transport::stream {

class StreamListener {
 public:
  // Frames of one kind from one peer, in the order it wrote them; consecutive frames of a kind arrive
  // together.
  using Deliver = std::function<void(uint64_t from, FrameKind kind, std::vector<std::string> payloads)>;

  struct Options {
    std::string host;         // the peer listener's host; the port is chosen by the system
    SSL_CTX* ctx = nullptr;   // null: plaintext (--insecure-peer)
    uint64_t self_id = 0;     // streams addressed to another member are refused
    std::string fingerprint;  // streams from another cluster (or other settings) are refused
    size_t max_frame_bytes = 64 << 20;
    std::chrono::milliseconds handshake_timeout{5000};
  };

  // Errors: transport.listen.
  static Result<std::unique_ptr<StreamListener>> start(Options options, Deliver deliver);
  ~StreamListener();
  int port() const { return port_; }
  // Stops accepting, ends every stream and waits for their threads.
  void shutdown();

 private:
  StreamListener(Options options, Deliver deliver, int fd, int port);
  void accept_loop();
  void serve(int fd);
  bool open_stream(int fd, SSL* ssl, uint64_t* from, std::string* leftover);

  const Options options_;
  const Deliver deliver_;
  const int listen_fd_;
  const int port_;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> streams_;  // open stream sockets, for shutdown
  bool stopping_ = false;
};

}  // namespace etsecd::transport::stream
