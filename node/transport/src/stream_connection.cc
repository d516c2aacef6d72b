#include "stream_connection.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "stream_socket.h"
#include "stream_tls.h"

namespace etsecd::transport::stream {

Result<std::unique_ptr<StreamConnection>> StreamConnection::open(const std::string& host,
                                                                 const std::string& port, SSL_CTX* ctx,
                                                                 const Preamble& preamble,
                                                                 std::chrono::milliseconds timeout,
                                                                 size_t max_pending) {
  ignore_sigpipe();
  auto fd = connect_tcp(host, port, timeout);
  if (!fd) return fd.error();
  set_io_timeout(*fd, timeout);
  const std::string hello = encode_preamble(preamble);
  auto refused = [&](const std::string& why, SSL* ssl) -> Error {
    if (ssl) SSL_free(ssl);
    ::close(*fd);
    return make_error("transport.refused", "Raft stream to " + host + ":" + port + ": " + why);
  };
  SSL* ssl = nullptr;
  char answer = 0;
  if (ctx) {
    ssl = SSL_new(ctx);
    if (!ssl) return refused(last_tls_error(), nullptr);
    SSL_set_fd(ssl, *fd);
    // The peer's certificate must name the address we dialled, as gRPC checks on its channels.
    if (is_ip_literal(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set1_host(ssl, host.c_str());
      SSL_set_tlsext_host_name(ssl, host.c_str());
    }
    if (SSL_connect(ssl) != 1) return refused("TLS handshake failed: " + last_tls_error(), ssl);
    if (SSL_write(ssl, hello.data(), static_cast<int>(hello.size())) != static_cast<int>(hello.size()))
      return refused("sending the preamble failed: " + last_tls_error(), ssl);
    // With TLS 1.3 a refused client certificate shows up here, as an alert instead of the answer.
    if (SSL_read(ssl, &answer, 1) != 1)
      return refused("the peer refused this member: " + last_tls_error(), ssl);
    // From now on the peer sends nothing: writes go through a memory BIO, so encrypting never touches
    // the socket and the socket never blocks a writer.
    SSL_set0_wbio(ssl, BIO_new(BIO_s_mem()));
  } else {
    if (::send(*fd, hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size()) ||
        ::recv(*fd, &answer, 1, 0) != 1)
      return refused("the peer refused this member or closed the connection", nullptr);
  }
  if (answer != kAccepted) return refused("unexpected answer to the preamble", ssl);
  set_io_timeout(*fd, std::chrono::milliseconds(0));
  ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<StreamConnection>(new StreamConnection(*fd, ssl, max_pending));
}

StreamConnection::StreamConnection(int fd, SSL* ssl, size_t max_pending)
    : fd_(fd), ssl_(ssl), max_pending_(max_pending) {}

StreamConnection::~StreamConnection() {
  if (ssl_) SSL_free(ssl_);
  ::close(fd_);
}

bool StreamConnection::write(FrameKind kind, const std::vector<std::string>& payloads) {
  std::string plain;
  size_t bytes = 0;
  for (const auto& p : payloads) bytes += p.size() + 5;
  plain.reserve(bytes);
  append_frames(plain, kind, payloads);
  std::lock_guard lock(mu_);
  if (broken_) return false;
  if (ssl_) {
    if (SSL_write(ssl_, plain.data(), static_cast<int>(plain.size())) != static_cast<int>(plain.size())) {
      ERR_clear_error();
      break_locked();
      return false;
    }
    BIO* wbio = SSL_get_wbio(ssl_);
    const size_t pending = BIO_ctrl_pending(wbio);
    const size_t at = out_.size();
    out_.resize(at + pending);
    BIO_read(wbio, out_.data() + at, static_cast<int>(pending));
  } else {
    out_ += plain;
  }
  send_locked();
  if (broken_) return false;
  if (out_.size() - out_pos_ > max_pending_) {
    break_locked();  // Raft retransmits; a peer that takes nothing must not grow this without bound
    return false;
  }
  if (out_pos_ < out_.size()) cv_.notify_one();  // flush() takes over
  return true;
}

void StreamConnection::send_locked() {
  while (out_pos_ < out_.size()) {
    const ssize_t n =
        ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    break_locked();
    return;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
}

void StreamConnection::break_locked() {
  broken_ = true;
  ::shutdown(fd_, SHUT_RDWR);
  cv_.notify_all();
}

bool StreamConnection::flush(std::chrono::milliseconds idle) {
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, idle, [&] { return broken_ || out_pos_ < out_.size(); });
    if (broken_) return false;
  }
  // The peer never speaks after accepting: readable or hung up means it closed (restart, shutdown).
  pollfd p{fd_, POLLOUT | POLLIN | POLLRDHUP, 0};
  const bool pending = [&] {
    std::lock_guard lock(mu_);
    return out_pos_ < out_.size();
  }();
  if (!pending) p.events = POLLIN | POLLRDHUP;
  const int rc = ::poll(&p, 1, pending ? 100 : 0);
  std::lock_guard lock(mu_);
  if (broken_) return false;
  if (rc > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLERR | POLLHUP | POLLNVAL))) {
    break_locked();
    return false;
  }
  if (rc > 0 && (p.revents & POLLOUT)) send_locked();
  return !broken_;
}

void StreamConnection::close() {
  std::lock_guard lock(mu_);
  if (!broken_) break_locked();
}

}  // namespace etsecd::transport::stream
