#include "stream_listener.h"

#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "stream_socket.h"
#include "stream_tls.h"

namespace etsecd::transport::stream {
namespace {

// Unauthenticated connections cost a thread each until their handshake times out: cap them.
constexpr size_t kMaxStreams = 128;
constexpr size_t kReadChunk = 64 << 10;

}  // namespace

Result<std::unique_ptr<StreamListener>> StreamListener::start(Options options, Deliver deliver) {
  ignore_sigpipe();
  int port = 0;
  auto fd = listen_tcp(options.host, &port);
  if (!fd) return fd.error();
  std::unique_ptr<StreamListener> l(new StreamListener(std::move(options), std::move(deliver), *fd, port));
  l->acceptor_ = std::thread([p = l.get()] { p->accept_loop(); });
  return l;
}

StreamListener::StreamListener(Options options, Deliver deliver, int fd, int port)
    : options_(std::move(options)), deliver_(std::move(deliver)), listen_fd_(fd), port_(port) {}

StreamListener::~StreamListener() {
  shutdown();
  ::close(listen_fd_);
}

void StreamListener::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : streams_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return streams_.empty(); });
}

void StreamListener::accept_loop() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_ || streams_.size() >= kMaxStreams) {
        ::close(fd);
        if (stopping_) return;
        continue;
      }
      streams_.insert(fd);
    }
    std::thread([this, fd] { serve(fd); }).detach();
  }
}

bool StreamListener::open_stream(int fd, SSL* ssl, uint64_t* from, std::string* leftover) {
  set_io_timeout(fd, options_.handshake_timeout);
  if (ssl && SSL_accept(ssl) != 1) return false;  // includes a client certificate from another CA
  std::string in;
  char buf[512];
  while (true) {
    const int n = ssl ? SSL_read(ssl, buf, sizeof(buf)) : static_cast<int>(::recv(fd, buf, sizeof(buf), 0));
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    size_t used = 0;
    auto p = decode_preamble(in, &used);
    if (!p) return false;
    if (!*p) continue;
    if ((*p)->to != options_.self_id || (*p)->cluster_fingerprint != options_.fingerprint) return false;
    *from = (*p)->from;
    *leftover = in.substr(used);
    break;
  }
  const char ok = kAccepted;
  const int sent = ssl ? SSL_write(ssl, &ok, 1) : static_cast<int>(::send(fd, &ok, 1, MSG_NOSIGNAL));
  if (sent != 1) return false;
  set_io_timeout(fd, std::chrono::milliseconds(0));  // an idle stream is fine; keepalive finds dead ones
  detect_dead_peer(fd);
  return true;
}

void StreamListener::serve(int fd) {
  SSL* ssl = nullptr;
  if (options_.ctx) {
    ssl = SSL_new(options_.ctx);
    if (ssl) SSL_set_fd(ssl, fd);
  }
  uint64_t from = 0;
  std::string leftover;
  if ((!options_.ctx || ssl) && open_stream(fd, ssl, &from, &leftover)) {
    FrameDecoder decoder(options_.max_frame_bytes);
    std::vector<Frame> frames;
    std::string chunk(kReadChunk, '\0');
    std::string_view got = leftover;
    while (true) {
      if (!decoder.feed(got, frames)) break;  // a corrupt stream: the peer reconnects
      if (ssl && SSL_has_pending(ssl)) {
        // More records are already here (read ahead): hand them over with these, in one go.
        const int n = SSL_read(ssl, chunk.data(), static_cast<int>(chunk.size()));
        if (n <= 0) break;
        got = std::string_view(chunk.data(), static_cast<size_t>(n));
        continue;
      }
      // Runs of one kind go over together, in order, so Raft messages and forwarded frames keep their
      // relative order while each run still costs one hand-off to the member.
      for (size_t i = 0; i < frames.size();) {
        size_t j = i;
        std::vector<std::string> run;
        for (; j < frames.size() && frames[j].kind == frames[i].kind; ++j)
          run.push_back(std::move(frames[j].payload));
        deliver_(from, frames[i].kind, std::move(run));
        i = j;
      }
      frames.clear();
      const int n = ssl ? SSL_read(ssl, chunk.data(), static_cast<int>(chunk.size()))
                        : static_cast<int>(::recv(fd, chunk.data(), chunk.size(), 0));
      if (n <= 0) break;
      got = std::string_view(chunk.data(), static_cast<size_t>(n));
    }
  }
  ERR_clear_error();
  if (ssl) SSL_free(ssl);
  std::lock_guard lock(mu_);
  streams_.erase(fd);
  ::close(fd);
  cv_.notify_all();
}

}  // namespace etsecd::transport::stream
