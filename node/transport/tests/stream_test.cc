// The members' own Raft stream on loopback with real certificates: framing, mutual TLS, identity checks,
// order across writer threads, a peer that goes away and one that stops reading.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "stream_connection.h"
#include "stream_frames.h"
#include "stream_listener.h"
#include "stream_tls.h"
#include "test_pki.h"

using namespace etsecd::transport;
using namespace etsecd::transport::stream;
using etsecd::transport::testing::TestPki;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<TlsContexts> contexts(const TlsFiles& f) {
  auto c = TlsContexts::make(slurp(f.cert_file), slurp(f.key_file), slurp(f.trusted_ca_file));
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

struct Received {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<FrameKind, std::string>> frames;
  std::vector<uint64_t> from;
  size_t deliveries = 0;

  StreamListener::Deliver deliver() {
    return [this](uint64_t f, FrameKind kind, std::vector<std::string> payloads) {
      std::lock_guard lock(mu);
      ++deliveries;
      for (auto& p : payloads) {
        frames.emplace_back(kind, std::move(p));
        from.push_back(f);
      }
      cv.notify_all();
    };
  }
  bool wait_for(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return frames.size() >= n; });
  }
  size_t count() {
    std::lock_guard lock(mu);
    return frames.size();
  }
};

std::unique_ptr<StreamListener> listen(SSL_CTX* ctx, Received& r, uint64_t self = 2,
                                       std::string fp = "fp-A") {
  StreamListener::Options o;
  o.host = "127.0.0.1";
  o.ctx = ctx;
  o.self_id = self;
  o.fingerprint = std::move(fp);
  o.max_frame_bytes = 1 << 20;
  o.handshake_timeout = std::chrono::milliseconds(2000);
  auto l = StreamListener::start(std::move(o), r.deliver());
  REQUIRE_MESSAGE(l.ok(), (l.ok() ? "" : l.error().message));
  return std::move(*l);
}

etsecd::Result<std::unique_ptr<StreamConnection>> dial(const StreamListener& l, SSL_CTX* ctx, uint64_t to = 2,
                                                       std::string fp = "fp-A",
                                                       size_t max_pending = 64 << 20) {
  return StreamConnection::open("127.0.0.1", std::to_string(l.port()), ctx, Preamble{1, to, std::move(fp)},
                                std::chrono::milliseconds(2000), max_pending);
}

}  // namespace

TEST_CASE("the frame decoder returns whole frames in order, however the bytes are split") {
  std::string bytes;
  append_frames(bytes, FrameKind::kRaft, {"a", "", std::string(1000, 'x')});
  append_frames(bytes, FrameKind::kForward, {"fwd"});
  for (size_t piece : {size_t{1}, size_t{3}, size_t{7}, bytes.size()}) {
    FrameDecoder d(1 << 20);
    std::vector<Frame> out;
    for (size_t at = 0; at < bytes.size(); at += piece)
      REQUIRE(d.feed(std::string_view(bytes).substr(at, piece), out));
    REQUIRE(out.size() == 4);
    CHECK(out[0].payload == "a");
    CHECK(out[1].payload.empty());
    CHECK(out[2].payload == std::string(1000, 'x'));
    CHECK(out[3].kind == FrameKind::kForward);
    CHECK(out[3].payload == "fwd");
    CHECK(d.buffered() == 0);
  }
  FrameDecoder small(10);
  std::vector<Frame> out;
  std::string big;
  append_frames(big, FrameKind::kRaft, {std::string(11, 'y')});
  CHECK_FALSE(small.feed(big, out));
  FrameDecoder kinds(10);
  CHECK_FALSE(kinds.feed(std::string("\0\0\0\1\x09z", 6), out));

  const std::string pre = encode_preamble(Preamble{7, 9, "fingerprint"});
  size_t used = 0;
  auto partial = decode_preamble(std::string_view(pre).substr(0, pre.size() - 1), &used);
  REQUIRE(partial.ok());
  CHECK_FALSE(partial->has_value());
  auto whole = decode_preamble(pre + "rest", &used);
  REQUIRE(whole.ok());
  REQUIRE(whole->has_value());
  CHECK((*whole)->from == 7);
  CHECK((*whole)->to == 9);
  CHECK((*whole)->cluster_fingerprint == "fingerprint");
  CHECK(used == pre.size());
  CHECK_FALSE(decode_preamble("GET / HTTP/1.1\r\n", &used).ok());
}

TEST_CASE("frames written by several threads over mutual TLS arrive whole, each thread's in order") {
  TestPki pki("stream");
  auto server = contexts(pki.leaf("m2"));
  auto client = contexts(pki.leaf("m1"));
  Received r;
  auto l = listen(server->server(), r);
  auto c = dial(*l, client->client());
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  constexpr int kThreads = 4, kFrames = 500;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kFrames; ++i) {
        // Some frames are large, so the socket sometimes takes only part and flush() finishes the rest.
        std::string body =
            std::to_string(t) + ":" + std::to_string(i) + ":" + std::string(i % 50 == 0 ? 200000 : 10, 'v');
        REQUIRE((*c)->write(t % 2 ? FrameKind::kForward : FrameKind::kRaft, {body}));
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done && (*c)->flush(std::chrono::milliseconds(20))) {
    }
  });
  for (auto& w : writers) w.join();
  REQUIRE(r.wait_for(kThreads * kFrames));
  done = true;
  flusher.join();
  std::lock_guard lock(r.mu);
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < r.frames.size(); ++i) {
    const auto& [kind, body] = r.frames[i];
    CHECK(r.from[i] == 1);
    const int t = std::stoi(body.substr(0, body.find(':')));
    CHECK((kind == FrameKind::kForward) == (t % 2 == 1));
    const auto rest = body.substr(body.find(':') + 1);
    CHECK(std::stoi(rest.substr(0, rest.find(':'))) == next[t]);
    ++next[t];
  }
}

TEST_CASE("the stream refuses a certificate from another CA, another cluster, another member and plaintext") {
  TestPki pki("streamgood"), other("streamevil");
  auto server = contexts(pki.leaf("m2"));
  Received r;
  auto l = listen(server->server(), r);

  // Trusts the real CA, so it accepts the listener's certificate, but presents one from its own CA.
  auto intruder_files = other.leaf("m1");
  intruder_files.trusted_ca_file = (pki.dir / "ca.crt").string();
  auto intruder = contexts(intruder_files);
  auto refused = dial(*l, intruder->client());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "transport.refused");

  // Does not trust the listener's CA.
  auto stranger = contexts(other.leaf("m3"));
  CHECK_FALSE(dial(*l, stranger->client()).ok());

  auto member = contexts(pki.leaf("m1"));
  auto wrong_cluster = dial(*l, member->client(), 2, "fp-B");
  REQUIRE_FALSE(wrong_cluster.ok());
  CHECK(wrong_cluster.error().code == "transport.refused");
  CHECK_FALSE(dial(*l, member->client(), 3).ok());  // addressed to another member
  CHECK_FALSE(dial(*l, nullptr).ok());              // plaintext to a TLS listener

  auto good = dial(*l, member->client());
  REQUIRE(good.ok());
  REQUIRE((*good)->write(FrameKind::kRaft, {"only", "these", "three"}));
  REQUIRE(r.wait_for(3));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard lock(r.mu);
  CHECK(r.frames.size() == 3);
  CHECK(r.deliveries == 1);  // one write's frames reach the member together
}

TEST_CASE("a listener that goes away breaks the stream, and one that stops reading breaks it at the bound") {
  TestPki pki("streamgone");
  auto server = contexts(pki.leaf("m2"));
  auto client = contexts(pki.leaf("m1"));
  {
    Received r;
    auto l = listen(server->server(), r);
    auto c = dial(*l, client->client());
    REQUIRE(c.ok());
    REQUIRE((*c)->write(FrameKind::kRaft, {"hello"}));
    REQUIRE(r.wait_for(1));
    l->shutdown();
    bool alive = true;
    for (int i = 0; i < 50 && alive; ++i) alive = (*c)->flush(std::chrono::milliseconds(20));
    CHECK_FALSE(alive);
    CHECK_FALSE((*c)->write(FrameKind::kRaft, {"lost"}));
  }
  {
    // The member behind this listener never returns from its hand-over: nothing more is read.
    std::mutex stuck;
    std::unique_lock hold(stuck);
    std::atomic<int> delivered{0};
    StreamListener::Options o;
    o.host = "127.0.0.1";
    o.ctx = server->server();
    o.self_id = 2;
    o.fingerprint = "fp-A";
    auto l = StreamListener::start(std::move(o), [&](uint64_t, FrameKind, std::vector<std::string>) {
      ++delivered;
      std::lock_guard wait(stuck);
    });
    REQUIRE(l.ok());
    auto c = dial(**l, client->client(), 2, "fp-A", 1 << 20);
    REQUIRE(c.ok());
    const std::string chunk(64 << 10, 'z');
    int written = 0;
    while (written < 100000 && (*c)->write(FrameKind::kRaft, {chunk})) ++written;
    CHECK(written < 100000);  // the kernel's buffers plus 1 MiB, then the write fails instead of queueing
    CHECK_FALSE((*c)->flush(std::chrono::milliseconds(1)));
    hold.unlock();
    (*l)->shutdown();
    CHECK(delivered.load() >= 1);
  }
}
