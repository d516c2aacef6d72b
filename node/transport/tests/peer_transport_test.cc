// Real gRPC peers on loopback with real certificates: mutual TLS, identity checks, delivery order.

#include "etsecd/transport/peer_transport.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_pki.h"

namespace fs = std::filesystem;
using namespace etsecd::transport;
using etsecd::transport::testing::TestPki;

namespace {

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, std::string>> got;
  std::vector<std::pair<uint64_t, std::string>> forwards;
  std::vector<std::string> arrivals;  // Raft messages and forwarded frames, in the order handed over
  std::atomic<int> unreachable{0};

  PeerHandler handler() {
    PeerHandler h;
    h.on_raft = [this](uint64_t from, std::vector<std::string> msgs) {
      std::lock_guard lock(mu);
      for (auto& m : msgs) {
        arrivals.push_back(m);
        got.emplace_back(from, std::move(m));
      }
      cv.notify_all();
    };
    h.on_forward = [this](uint64_t from, std::vector<std::string> frames) {
      std::lock_guard lock(mu);
      for (auto& f : frames) {
        arrivals.push_back(f);
        forwards.emplace_back(from, std::move(f));
      }
      cv.notify_all();
    };
    h.on_call = [](uint64_t from, const std::string& method,
                   const std::string& body) -> etsecd::Result<std::string> {
      if (method == "echo") return std::to_string(from) + ":" + body;
      return etsecd::make_error("test.unknown_method", "no method " + method);
    };
    h.on_unreachable = [this](uint64_t) { ++unreachable; };
    return h;
  }

  bool wait_for(size_t n, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return got.size() >= n; });
  }
};

PeerTransportOptions opts(uint64_t id, std::optional<TlsFiles> tls, std::string fp = "cluster-A") {
  PeerTransportOptions o;
  o.self = Identity{"m" + std::to_string(id), id, std::move(fp), "test", {}};
  o.listen_address = "127.0.0.1:0";
  o.tls = std::move(tls);
  o.call_timeout = std::chrono::milliseconds(2000);
  return o;
}

std::unique_ptr<PeerTransport> start(PeerTransportOptions o, Inbox& inbox) {
  auto t = PeerTransport::start(std::move(o), inbox.handler());
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return std::move(t.value());
}

std::string addr(const PeerTransport& t) { return "127.0.0.1:" + std::to_string(t.bound_port()); }

}  // namespace

TEST_CASE("mutual TLS peers exchange raft batches in order and make calls") {
  TestPki pki("a");
  Inbox in1, in2;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  auto o2 = opts(2, pki.leaf("m2"));
  o2.self.features = {"feature-a", "feature-b"};
  auto t2 = start(std::move(o2), in2);
  t1->set_peer(2, addr(*t2));
  t2->set_peer(1, addr(*t1));

  for (int i = 0; i < 100; ++i) t1->send_raft(2, {"msg-" + std::to_string(i)});
  REQUIRE(in2.wait_for(100));
  CHECK(t1->raft_stream_open(2));  // both members have the Raft stream: gRPC's carries nothing
  for (int i = 0; i < 100; ++i) {
    CHECK(in2.got[i].first == 1);
    CHECK(in2.got[i].second == "msg-" + std::to_string(i));
  }

  // Forwarded-request frames share the stream with Raft messages and keep their own order, whether the
  // calling thread may write them (send_forward) or only queue them (queue_forwards); the peer's Hello
  // said it reads them.
  for (int i = 0; i < 50; ++i) {
    if (i % 2 == 0) {
      t1->send_forward(2, "fwd-" + std::to_string(i));
    } else {
      t1->queue_forwards(2, {"fwd-" + std::to_string(i)});
    }
    t1->send_raft(2, {"after-fwd-" + std::to_string(i)});
  }
  REQUIRE(in2.wait_for(150));
  {
    std::unique_lock lock(in2.mu);
    REQUIRE(in2.cv.wait_for(lock, std::chrono::seconds(10), [&] { return in2.forwards.size() >= 50; }));
    for (int i = 0; i < 50; ++i) {
      CHECK(in2.forwards[i].first == 1);
      CHECK(in2.forwards[i].second == "fwd-" + std::to_string(i));
      CHECK(in2.got[100 + i].second == "after-fwd-" + std::to_string(i));
    }
    // A frame never overtakes the Raft messages sent before it (its thread may write it itself only
    // when nothing is queued).
    auto at = [&](const std::string& what) {
      return std::find(in2.arrivals.begin(), in2.arrivals.end(), what) - in2.arrivals.begin();
    };
    for (int i = 1; i < 50; ++i)
      CHECK(at("after-fwd-" + std::to_string(i - 1)) < at("fwd-" + std::to_string(i)));
  }
  CHECK(t1->forwards_on_stream(2));
  CHECK_FALSE(t1->forwards_on_stream(7));  // not a peer
  // The features the peer announced in its Hello, and only those.
  CHECK(t1->peer_has_feature(2, "feature-b"));
  CHECK_FALSE(t1->peer_has_feature(2, "feature-c"));
  CHECK_FALSE(t1->peer_has_feature(7, "feature-a"));

  auto r = t2->call(1, "echo", "hello");
  REQUIRE(r.ok());
  CHECK(*r == "2:hello");
  std::promise<etsecd::Result<std::string>> async_result;
  t2->call_async(1, "echo", "async", std::chrono::steady_clock::now() + std::chrono::seconds(5),
                 [&](etsecd::Result<std::string> got) { async_result.set_value(std::move(got)); });
  auto ar = async_result.get_future().get();
  REQUIRE(ar.ok());
  CHECK(*ar == "2:async");

  auto bad = t2->call(1, "nope", "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "transport.remote");
  CHECK(bad.error().message.find("no method nope") != std::string::npos);

  // A peer that went away is a transport failure, never a remote handler error: gRPC's own connection
  // errors ("failed to connect ...: Connection refused") must not be parsed as a handler's "code: message".
  t1->shutdown();
  auto gone = t2->call(1, "echo", "anyone?");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code != "transport.remote");
}

TEST_CASE(
    "forwarded frames sent from many threads while Raft messages stream all arrive, each thread's in order") {
  // Threads that forward write on the stream themselves when it is idle and queue behind the sender
  // thread otherwise: neither path may drop, duplicate or reorder a thread's frames.
  TestPki pki("fwd");
  Inbox in1, in2;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  auto t2 = start(opts(2, pki.leaf("m2")), in2);
  t1->set_peer(2, addr(*t2));
  constexpr int kThreads = 4, kFrames = 200, kRaft = 400;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kFrames; ++i) t1->send_forward(2, std::to_string(t) + ":" + std::to_string(i));
    });
  }
  for (int i = 0; i < kRaft; ++i) t1->send_raft(2, {"raft-" + std::to_string(i)});
  for (auto& s : senders) s.join();

  REQUIRE(in2.wait_for(kRaft));
  std::unique_lock lock(in2.mu);
  REQUIRE(in2.cv.wait_for(lock, std::chrono::seconds(10),
                          [&] { return in2.forwards.size() >= size_t{kThreads * kFrames}; }));
  CHECK(in2.forwards.size() == size_t{kThreads * kFrames});
  for (int i = 0; i < kRaft; ++i) CHECK(in2.got[i].second == "raft-" + std::to_string(i));
  std::vector<int> next(kThreads, 0);
  for (const auto& [from, frame] : in2.forwards) {
    const auto colon = frame.find(':');
    const int t = std::stoi(frame.substr(0, colon));
    CHECK(std::stoi(frame.substr(colon + 1)) == next[t]);
    ++next[t];
  }
  CHECK(in1.unreachable.load() == 0);
}

TEST_CASE(
    "members with and without the Raft stream (a rolling upgrade) talk both ways; a restarted peer's stream "
    "is used") {
  TestPki pki("mixed");
  Inbox in1, in2;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  auto o2 = opts(2, pki.leaf("m2"));
  o2.raft_stream = false;  // what a member from before the stream does
  auto t2 = start(std::move(o2), in2);
  t1->set_peer(2, addr(*t2));
  t2->set_peer(1, addr(*t1));
  constexpr int kEach = 30;
  for (int i = 0; i < kEach; ++i) {
    t1->send_raft(2, {"to2-" + std::to_string(i)});
    t1->send_forward(2, "fwd2-" + std::to_string(i));
    t2->send_raft(1, {"to1-" + std::to_string(i)});
    t2->send_forward(1, "fwd1-" + std::to_string(i));
  }
  REQUIRE(in1.wait_for(kEach));
  REQUIRE(in2.wait_for(kEach));
  for (auto* in : {&in1, &in2}) {
    std::unique_lock lock(in->mu);
    REQUIRE(in->cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return in->forwards.size() >= size_t{kEach}; }));
  }
  for (int i = 0; i < kEach; ++i) {
    CHECK(in2.got[i].second == "to2-" + std::to_string(i));
    CHECK(in2.forwards[i].second == "fwd2-" + std::to_string(i));
    CHECK(in1.got[i].second == "to1-" + std::to_string(i));
    CHECK(in1.forwards[i].second == "fwd1-" + std::to_string(i));
  }
  CHECK_FALSE(t1->raft_stream_open(2));  // member 2 announced no stream
  CHECK_FALSE(t2->raft_stream_open(1));  // member 2 does not open one

  // Member 2 comes back upgraded on the same peer address: member 1 reconnects, learns the new stream
  // port from its Hello and moves to the stream. What was sent while the old connection broke may be
  // lost (Raft retransmits), so member 1 sends until something arrives on the stream.
  const std::string address2 = addr(*t2);
  t2->shutdown();
  t2.reset();
  Inbox in2b;
  auto o2b = opts(2, pki.leaf("m2"));
  o2b.listen_address = address2;
  auto t2b = start(std::move(o2b), in2b);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!t1->raft_stream_open(2) && std::chrono::steady_clock::now() < give_up) {
    t1->send_raft(2, {"probe"});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(t1->raft_stream_open(2));
  // A probe queued before the stream opened may still be on its way: a marker separates them.
  t1->send_raft(2, {"mark"});
  size_t mark = 0;
  {
    std::unique_lock lock(in2b.mu);
    REQUIRE(in2b.cv.wait_for(lock, std::chrono::seconds(10), [&] {
      auto it =
          std::find_if(in2b.got.begin(), in2b.got.end(), [](const auto& m) { return m.second == "mark"; });
      mark = static_cast<size_t>(it - in2b.got.begin());
      return it != in2b.got.end();
    }));
  }
  for (int i = 0; i < kEach; ++i) t1->send_raft(2, {"s-" + std::to_string(i)});
  REQUIRE(in2b.wait_for(mark + 1 + kEach));
  std::lock_guard lock(in2b.mu);
  for (size_t i = 0; i < mark; ++i) CHECK(in2b.got[i].second == "probe");
  for (int i = 0; i < kEach; ++i) CHECK(in2b.got[mark + 1 + i].second == "s-" + std::to_string(i));
  CHECK(t1->raft_stream_open(2));
}

TEST_CASE("a peer whose certificate comes from another CA is refused") {
  TestPki pki("good"), other("evil");
  Inbox in1, in_evil;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  // The intruder trusts the real CA (so it accepts the member's certificate) but presents its own.
  auto intruder_tls = other.leaf("m2");
  intruder_tls.trusted_ca_file = (pki.dir / "ca.crt").string();
  auto evil = start(opts(2, intruder_tls), in_evil);
  evil->set_peer(1, addr(*t1));
  evil->send_raft(1, {"injected"});
  auto r = evil->call(1, "echo", "x");
  CHECK_FALSE(r.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lock(in1.mu);
  CHECK(in1.got.empty());
}

TEST_CASE("a plaintext client cannot talk to a TLS member") {
  TestPki pki("p");
  Inbox in1, in2;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  auto plain = start(
      [] {
        auto o = opts(2, std::nullopt);
        o.insecure = true;
        return o;
      }(),
      in2);
  plain->set_peer(1, addr(*t1));
  CHECK_FALSE(plain->call(1, "echo", "x").ok());
  plain->send_raft(1, {"plaintext"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lock(in1.mu);
  CHECK(in1.got.empty());
}

TEST_CASE("members with different cluster settings refuse each other") {
  TestPki pki("fp");
  Inbox in1, in2;
  auto t1 = start(opts(1, pki.leaf("m1"), "cluster-A"), in1);
  auto t2 = start(opts(2, pki.leaf("m2"), "cluster-B"), in2);
  t2->set_peer(1, addr(*t1));
  auto r = t2->call(1, "echo", "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "transport.refused");
  t2->send_raft(1, {"x"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lock(in1.mu);
  CHECK(in1.got.empty());
}

TEST_CASE("configuration errors are clear") {
  Inbox in;
  auto no_tls = PeerTransport::start(opts(1, std::nullopt), in.handler());
  REQUIRE_FALSE(no_tls.ok());
  CHECK(no_tls.error().code == "transport.config");

  auto missing =
      PeerTransport::start(opts(1, TlsFiles{"/nonexistent.crt", "/nonexistent.key", "/ca"}), in.handler());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "transport.tls");
  CHECK(missing.error().message.find("/nonexistent.crt") != std::string::npos);

  TestPki pki("cfg");
  auto both = opts(1, pki.leaf("m1"));
  both.insecure = true;
  auto r = PeerTransport::start(both, in.handler());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "transport.config");
}

TEST_CASE("sends to an unknown or dead peer are dropped and reported, not queued forever") {
  TestPki pki("dead");
  Inbox in1;
  auto t1 = start(opts(1, pki.leaf("m1")), in1);
  t1->send_raft(9, {"nobody"});
  CHECK(in1.unreachable.load() >= 1);
  t1->set_peer(2, "127.0.0.1:1");  // nothing listens there
  t1->send_raft(2, {"x"});
  for (int i = 0; i < 50 && in1.unreachable.load() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(in1.unreachable.load() >= 2);
}
