// gather_values against an in-memory transport whose peers answer, fail, lie or stay silent: which peers
// a read asks, and that it still rebuilds every value when the first ones fall short.

#include "value_gatherer.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "etsecd/mvcc/errors.h"
#include "etsecd/server/errors.h"
#include "etsecd/shamir/random.h"
#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::server {
namespace {

using namespace std::chrono_literals;

enum class Behaviour { kAnswer, kFail, kSilent, kWrongShare };

// Peers 1..n at x = 1..n; this member is x = n + 1. Answers come from a thread per call, as gRPC's do.
class FakePeers final : public transport::PeerTransport {
 public:
  FakePeers(unsigned k, size_t peers, const std::string& secret) {
    std::vector<uint8_t> xs;
    for (size_t i = 1; i <= peers + 1; ++i) xs.push_back(static_cast<uint8_t>(i));
    auto rng = shamir::make_deterministic(7);
    auto shares =
        shamir::split({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()}, k, xs, *rng);
    REQUIRE(shares.ok());
    for (const auto& s : *shares) {
      auto bytes = shamir::encode_share(s, k);
      encoded_.emplace_back(bytes.begin(), bytes.end());
      // The same member's share altered: it decodes (its checksum matches) but lies off the polynomial.
      shamir::Share wrong = s;
      wrong.y[0] ^= 0x5a;
      bytes = shamir::encode_share(wrong, k);
      wrong_.emplace_back(bytes.begin(), bytes.end());
    }
  }
  ~FakePeers() override {
    {
      std::lock_guard lock(mu_);
      for (auto& done : silent_) done(make_error("transport.unreachable", "test over"));
      silent_.clear();
    }
    for (auto& t : threads_) t.join();
  }

  const std::string& share_of(size_t x) const { return encoded_[x - 1]; }
  const std::string& wrong_share_of(size_t x) const { return wrong_[x - 1]; }
  void set(uint64_t peer, Behaviour b) { behaviour_[peer] = b; }
  std::set<uint64_t> asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

  void call_async(uint64_t to, const std::string&, const std::string& body,
                  std::chrono::steady_clock::time_point,
                  std::function<void(Result<std::string>)> done) override {
    auto req = wire::decode_share_fetch_request({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    REQUIRE(req.ok());
    const Behaviour b = behaviour_.count(to) ? behaviour_[to] : Behaviour::kAnswer;
    std::lock_guard lock(mu_);
    asked_.insert(to);
    if (b == Behaviour::kSilent) {
      silent_.push_back(std::move(done));
      return;
    }
    wire::ShareFetchResponse resp;
    for (size_t i = 0; i < req->refs.size(); ++i) {
      resp.items.push_back(wire::ShareFetchItem{wire::ShareStatus::kOk,
                                                b == Behaviour::kWrongShare ? wrong_[to - 1] : share_of(to)});
    }
    threads_.emplace_back([b, resp, done = std::move(done)] {
      if (b == Behaviour::kFail) {
        done(make_error("transport.unreachable", "peer down"));
      } else {
        done(wire::encode_share_fetch_response(resp));
      }
    });
  }

  void set_peer(uint64_t, const std::string&) override {}
  void remove_peer(uint64_t) override {}
  void send_raft(uint64_t, std::vector<std::string>) override {}
  void send_forward(uint64_t, std::string) override {}
  void queue_forwards(uint64_t, std::vector<std::string>) override {}
  bool forwards_on_stream(uint64_t) override { return false; }
  bool peer_has_feature(uint64_t, const std::string&) override { return false; }
  bool raft_stream_open(uint64_t) override { return false; }
  Result<std::string> call(uint64_t, const std::string&, const std::string&) override {
    return make_error("transport.unreachable", "not used");
  }
  Result<std::string> call(uint64_t, const std::string&, const std::string&,
                           std::chrono::steady_clock::time_point) override {
    return make_error("transport.unreachable", "not used");
  }
  int bound_port() const override { return 0; }
  void shutdown() override {}

 private:
  std::vector<std::string> encoded_;
  std::vector<std::string> wrong_;
  std::map<uint64_t, Behaviour> behaviour_;
  std::mutex mu_;
  std::set<uint64_t> asked_;
  std::vector<std::function<void(Result<std::string>)>> silent_;
  std::vector<std::thread> threads_;
};

// The member sends share fetches as peer calls or as stream frames; either way through this.
ShareFetchCall call_via(FakePeers& peers) {
  return [&peers](uint64_t peer, const std::string& body, Deadline deadline,
                  std::function<void(Result<std::string>)> done) {
    peers.call_async(peer, wire::kShareFetchMethod, body, deadline, std::move(done));
  };
}

struct Read {
  GatherPlan plan;
  std::vector<std::string> corrupt_reports;
  GatherObserver observer;

  Read(const FakePeers& peers, unsigned k, size_t peer_count) {
    plan.request.refs.push_back(wire::ValueRef{"key", 7});
    plan.own.push_back(wire::ShareFetchItem{wire::ShareStatus::kOk, peers.share_of(peer_count + 1)});
    for (uint64_t p = 1; p <= peer_count; ++p) plan.peers.push_back(p);
    plan.threshold = k;
    plan.deadline = std::chrono::steady_clock::now() + 10s;
    // Only what a case sets up may make the read ask more peers, never a slow (sanitized, loaded) run.
    plan.ask_rest_after = 10s;
    observer.on_corrupt = [this](uint64_t member, int64_t, const char* why) {
      corrupt_reports.push_back(std::to_string(member) + " " + why);
    };
  }
};

const std::string kSecret = "the value of key at revision 7";

// Gathers, expects the value back after all 4 peers were asked, and returns how long that took.
std::chrono::steady_clock::duration rebuilt_asking_all_four(FakePeers& peers, Read& read) {
  const auto start = std::chrono::steady_clock::now();
  auto values = gather_values(call_via(peers), read.plan, read.observer);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(values.ok());
  CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
  CHECK(peers.asked() == std::set<uint64_t>{1, 2, 3, 4});
  return took;
}

TEST_CASE("a read asks only enough peers for k+1 shares when they all answer") {
  FakePeers peers(3, 4, kSecret);
  Read read(peers, 3, 4);
  auto values = gather_values(call_via(peers), read.plan, read.observer);
  REQUIRE(values.ok());
  CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
  CHECK(peers.asked() == std::set<uint64_t>{1, 2, 3});
  CHECK(read.corrupt_reports.empty());
}

TEST_CASE("the first wave is at least min_peers, and everyone when asked to") {
  FakePeers peers(2, 6, kSecret);
  SUBCASE("min_peers") {
    Read read(peers, 2, 6);
    read.plan.min_peers = 3;
    auto values = gather_values(call_via(peers), read.plan, read.observer);
    REQUIRE(values.ok());
    CHECK(peers.asked() == std::set<uint64_t>{1, 2, 3});
  }
  SUBCASE("ask_rest_after zero") {
    Read read(peers, 2, 6);
    read.plan.ask_rest_after = 0us;
    auto values = gather_values(call_via(peers), read.plan, read.observer);
    REQUIRE(values.ok());
    CHECK(peers.asked().size() == 6);
  }
}

TEST_CASE("without its own share a member asks one peer more") {
  FakePeers peers(3, 4, kSecret);
  Read read(peers, 3, 4);
  read.plan.own[0] = wire::ShareFetchItem{wire::ShareStatus::kNotFound, ""};
  auto values = gather_values(call_via(peers), read.plan, read.observer);
  REQUIRE(values.ok());
  CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
  CHECK(peers.asked().size() == 4);
}

TEST_CASE("shares a forwarding follower sent along count, and it is not asked again") {
  FakePeers peers(3, 4, kSecret);
  Read read(peers, 3, 4);
  // Member 4 forwarded the read with its share: it leaves the peers to ask.
  read.plan.peers = {1, 2, 3};
  read.plan.given_by = 4;
  SUBCASE("a matching share saves one peer") {
    read.plan.given.push_back(wire::ShareFetchItem{wire::ShareStatus::kOk, peers.share_of(4)});
    auto values = gather_values(call_via(peers), read.plan, read.observer);
    REQUIRE(values.ok());
    CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
    CHECK(peers.asked() == std::set<uint64_t>{1, 2});
    CHECK(read.corrupt_reports.empty());
  }
  SUBCASE("without a share of that revision the read asks as many peers as before") {
    read.plan.given.push_back(wire::ShareFetchItem{wire::ShareStatus::kNotFound, ""});
    auto values = gather_values(call_via(peers), read.plan, read.observer);
    REQUIRE(values.ok());
    CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
    CHECK(peers.asked() == std::set<uint64_t>{1, 2, 3});
  }
  SUBCASE("a lying given share is singled out like a peer's") {
    read.plan.given.push_back(wire::ShareFetchItem{wire::ShareStatus::kOk, peers.wrong_share_of(4)});
    read.plan.verify_grace = 10s;
    auto values = gather_values(call_via(peers), read.plan, read.observer);
    REQUIRE(values.ok());
    CHECK(values->at(wire::ValueRef{"key", 7}) == kSecret);
    CHECK(peers.asked() == std::set<uint64_t>{1, 2, 3});
    REQUIRE_FALSE(read.corrupt_reports.empty());
    CHECK(read.corrupt_reports.back() == "4 inconsistent share");
  }
}

TEST_CASE("a failed peer in the first wave makes the read ask the rest at once") {
  FakePeers peers(3, 4, kSecret);
  peers.set(2, Behaviour::kFail);
  Read read(peers, 3, 4);
  CHECK(rebuilt_asking_all_four(peers, read) < 5s);
}

TEST_CASE("a silent peer in the first wave costs ask_rest_after, not the deadline") {
  FakePeers peers(3, 4, kSecret);
  peers.set(1, Behaviour::kSilent);
  peers.set(3, Behaviour::kSilent);
  Read read(peers, 3, 4);
  read.plan.ask_rest_after = 5ms;
  read.plan.verify_grace = 5ms;
  CHECK(rebuilt_asking_all_four(peers, read) < 5s);
}

TEST_CASE("a lying peer in the first wave is singled out with the rest's shares") {
  FakePeers peers(3, 4, kSecret);
  peers.set(2, Behaviour::kWrongShare);
  Read read(peers, 3, 4);
  read.plan.verify_grace = 10s;
  rebuilt_asking_all_four(peers, read);
  REQUIRE_FALSE(read.corrupt_reports.empty());
  CHECK(read.corrupt_reports.back() == "2 inconsistent share");
}

TEST_CASE("too few members answering is an error naming the shortfall") {
  FakePeers peers(3, 4, kSecret);
  for (uint64_t p = 1; p <= 3; ++p) peers.set(p, Behaviour::kFail);
  Read read(peers, 3, 4);
  auto values = gather_values(call_via(peers), read.plan, read.observer);
  REQUIRE_FALSE(values.ok());
  CHECK(mvcc::is(values.error(), kNotEnoughShares));
  CHECK(values.error().message.find("2 valid shares of 3 needed") != std::string::npos);
  CHECK(peers.asked().size() == 4);
}

}  // namespace
}  // namespace etsecd::server
