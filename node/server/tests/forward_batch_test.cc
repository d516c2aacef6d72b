#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "forward_batch_codec.h"
#include "forward_batch_server.h"
#include "forward_batcher.h"
#include "forward_stream.h"

using namespace etsecd;
using namespace etsecd::server;
using namespace std::chrono_literals;

TEST_CASE("a forwarded batch and its results survive encoding; damaged bytes are errors") {
  std::vector<ForwardedRequest> reqs{{"api.KV.Put", std::string("a\0b", 3), 1500ms},
                                     {"api.KV.Range", "", 0ms}};
  auto back = decode_forward_batch(encode_forward_batch(reqs));
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].method == "api.KV.Put");
  CHECK((*back)[0].body == std::string("a\0b", 3));
  CHECK((*back)[0].time_left == 1500ms);
  CHECK((*back)[1].body.empty());

  std::vector<Result<std::string>> results{std::string("ok"), make_error("server.not_leader", "not leader")};
  auto enc = encode_forward_results(results);
  auto dec = decode_forward_results(enc, 2);
  REQUIRE(dec);
  CHECK(*(*dec)[0] == "ok");
  CHECK((*dec)[1].error().code == "server.not_leader");
  CHECK((*dec)[1].error().message == "not leader");
  CHECK(!decode_forward_results(enc, 3));

  const auto batch = encode_forward_batch(reqs);
  for (size_t cut = 0; cut < batch.size(); ++cut) CHECK(!decode_forward_batch(batch.substr(0, cut)));
  CHECK(!decode_forward_batch(batch + "x"));
  for (size_t cut = 0; cut < enc.size(); ++cut) CHECK(!decode_forward_results(enc.substr(0, cut), 2));
}

TEST_CASE("concurrent callers share calls, each gets its own answer, one failure fails no other") {
  ForwardBatchServer server(64);
  std::atomic<int> calls{0};
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  ForwardBatchServer::Handler handler = [&](const std::string& method, const std::string& body,
                                            ForwardBatchServer::Deadline deadline) -> Result<std::string> {
    int now = ++concurrent;
    int seen = max_concurrent.load();
    while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(5ms);  // like waiting for a commit
    --concurrent;
    if (deadline < std::chrono::steady_clock::now() + 1s) return make_error("test.deadline", "lost deadline");
    if (body == "7") return make_error("mvcc.bad", "request 7 is bad");
    return method + ":" + body;
  };
  ForwardBatcher batcher(
      [&](uint64_t leader, const std::string& body, ForwardBatcher::Deadline) -> Result<std::string> {
        CHECK(leader == 9);
        ++calls;
        return server.serve(body, handler);
      },
      1, 256);

  constexpr int kCallers = 40;
  std::vector<Result<std::string>> got(kCallers, Result<std::string>(std::string()));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      got[i] = batcher.call(9, "api.KV.Put", std::to_string(i), std::chrono::steady_clock::now() + 5s);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCallers; ++i) {
    if (i == 7) {
      REQUIRE(!got[i]);
      CHECK(got[i].error().code == "mvcc.bad");
    } else {
      REQUIRE(got[i]);
      CHECK(*got[i] == "api.KV.Put:" + std::to_string(i));
    }
  }
  CHECK(calls.load() < kCallers);    // coalesced
  CHECK(max_concurrent.load() > 1);  // the leader ran a batch's requests at once
}

TEST_CASE("a caller gives up at its own deadline; a failed call fails only the requests it carried") {
  std::atomic<bool> release{false};
  ForwardBatcher batcher(
      [&](uint64_t, const std::string& body, ForwardBatcher::Deadline) -> Result<std::string> {
        auto reqs = decode_forward_batch(body);
        REQUIRE(reqs);
        if ((*reqs)[0].body == "slow") {
          while (!release) std::this_thread::sleep_for(1ms);
        }
        return make_error("transport.unreachable", "gone");
      },
      1, 256);
  std::thread slow([&] {
    auto r = batcher.call(1, "api.KV.Put", "slow", std::chrono::steady_clock::now() + 10s);
    CHECK(r.error().code == "transport.unreachable");
  });
  std::this_thread::sleep_for(20ms);
  // Queued behind the one call allowed in flight: it times out without ever being sent.
  auto start = std::chrono::steady_clock::now();
  auto r = batcher.call(1, "api.KV.Put", "queued", start + 50ms);
  CHECK(!r);
  CHECK(r.error().code == "server.timeout");
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  release = true;
  slow.join();
  auto after = batcher.call(1, "api.KV.Put", "x", std::chrono::steady_clock::now() + 1s);
  CHECK(after.error().code == "transport.unreachable");
}

TEST_CASE("a batch naming a method that is not a client request is refused per request") {
  ForwardBatchServer server(4);
  auto out =
      server.serve(encode_forward_batch({{"server.ForwardBatch", "", 1000ms}, {"api.KV.Put", "v", 1000ms}}),
                   [](const std::string&, const std::string& body,
                      ForwardBatchServer::Deadline) -> Result<std::string> { return body; });
  REQUIRE(out);
  auto res = decode_forward_results(*out, 2);
  REQUIRE(res);
  CHECK(!(*res)[0]);
  CHECK(*(*res)[1] == "v");
  CHECK(!server.serve("junk", nullptr));
}

TEST_CASE("a forwarded request or result frame survives encoding; damaged frames are errors") {
  const auto req =
      encode_forward_request_frame(0x0102030405060708ULL, {"api.KV.Put", std::string("v\0w", 3), 250ms});
  auto back = decode_forward_frame(req);
  REQUIRE(back);
  CHECK(back->id == 0x0102030405060708ULL);
  CHECK_FALSE(back->is_result);
  CHECK(back->request.method == "api.KV.Put");
  CHECK(back->request.body == std::string("v\0w", 3));
  CHECK(back->request.time_left == 250ms);

  auto ok = decode_forward_frame(encode_forward_result_frame(7, std::string("resp")));
  REQUIRE(ok);
  CHECK(ok->is_result);
  CHECK(ok->id == 7);
  CHECK(*ok->result == "resp");
  const auto err_frame =
      encode_forward_result_frame(8, make_error("server.not_leader", "etcdserver: not leader"));
  auto err = decode_forward_frame(err_frame);
  REQUIRE(err);
  CHECK(err->result.error().code == "server.not_leader");
  CHECK(err->result.error().message == "etcdserver: not leader");

  for (size_t cut = 0; cut < req.size(); ++cut) CHECK(!decode_forward_frame(req.substr(0, cut)));
  for (size_t cut = 0; cut < err_frame.size(); ++cut) CHECK(!decode_forward_frame(err_frame.substr(0, cut)));
  CHECK(!decode_forward_frame(req + "x"));
  std::string unknown_kind = req;
  unknown_kind[8] = 'Z';
  CHECK(!decode_forward_frame(unknown_kind));
  // A request frame holding two requests is not a request frame.
  std::string two =
      req.substr(0, 9) + encode_forward_batch({{"api.KV.Put", "a", 1ms}, {"api.KV.Put", "b", 1ms}});
  CHECK(!decode_forward_frame(two));
}

namespace {
// Records what a ForwardStream sends, as the leader's end of the stream would see it.
struct SentFrames {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, ForwardFrame>> frames;
  ForwardStream::Send send() {
    return [this](uint64_t leader, std::string bytes) {
      auto f = decode_forward_frame(bytes);
      REQUIRE(f);
      std::lock_guard lock(mu);
      frames.emplace_back(leader, std::move(*f));
      cv.notify_all();
    };
  }
  std::pair<uint64_t, ForwardFrame> wait(size_t i) {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return frames.size() > i; }));
    return frames[i];
  }
};
}  // namespace

TEST_CASE("a request forwarded on the stream gets the leader's result, and only from that leader") {
  SentFrames sent;
  ForwardStream fs(sent.send());
  std::promise<Result<std::string>> got;
  std::thread caller(
      [&] { got.set_value(fs.call(3, "api.KV.Put", "body", std::chrono::steady_clock::now() + 5s)); });
  auto [leader, frame] = sent.wait(0);
  CHECK(leader == 3);
  CHECK(frame.request.method == "api.KV.Put");
  CHECK(frame.request.body == "body");
  CHECK(frame.request.time_left > 4s);
  CHECK(frame.request.time_left <= 5s);
  fs.on_result(4, frame.id, std::string("from the wrong member"));    // ignored
  fs.on_result(3, frame.id + 1, std::string("for another request"));  // ignored
  fs.on_result(3, frame.id, std::string("answer"));
  fs.on_result(3, frame.id, std::string("duplicate"));  // ignored
  caller.join();
  auto r = got.get_future().get();
  REQUIRE(r);
  CHECK(*r == "answer");
}

TEST_CASE(
    "forwarded requests fail when their leader is lost, time out at their deadline, and stop with the "
    "member") {
  SentFrames sent;
  ForwardStream fs(sent.send());
  std::promise<Result<std::string>> to3, to5;
  std::thread a(
      [&] { to3.set_value(fs.call(3, "api.KV.Put", "a", std::chrono::steady_clock::now() + 10s)); });
  sent.wait(0);
  std::thread b(
      [&] { to5.set_value(fs.call(5, "api.KV.Put", "b", std::chrono::steady_clock::now() + 10s)); });
  sent.wait(1);
  fs.fail(3, make_error("transport.unreachable", "stream broke"));
  a.join();
  auto ra = to3.get_future().get();
  REQUIRE_FALSE(ra);
  CHECK(ra.error().code == "transport.unreachable");

  const auto start = std::chrono::steady_clock::now();
  auto timed_out = fs.call(5, "api.KV.Put", "c", start + 100ms);
  REQUIRE_FALSE(timed_out);
  CHECK(timed_out.error().code == "server.timeout");
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);

  fs.close(make_error("server.stopped", "stopped"));
  b.join();
  auto rb = to5.get_future().get();
  REQUIRE_FALSE(rb);
  CHECK(rb.error().code == "server.stopped");
  auto after = fs.call(5, "api.KV.Put", "d", std::chrono::steady_clock::now() + 1s);
  REQUIRE_FALSE(after);
  CHECK(after.error().code == "server.stopped");
}

TEST_CASE("an asynchronous request on the stream gets its peer's answer once, or fails, or expires") {
  SentFrames sent;
  ForwardStream fs(sent.send());
  std::mutex mu;
  std::map<std::string, std::vector<Result<std::string>>> got;
  auto record = [&](std::string name) {
    return [&, name](Result<std::string> r) {
      std::lock_guard lock(mu);
      got[name].push_back(std::move(r));
    };
  };
  const auto now = std::chrono::steady_clock::now();
  fs.call_async(2, "shares.get", "fetch", now + 5s, record("answered"));
  fs.call_async(4, "shares.get", "fetch", now + 5s, record("broken"));
  fs.call_async(2, "shares.get", "fetch", now + 50ms, record("expired"));
  fs.call_async(2, "shares.get", "fetch", now - 1ms, record("late"));  // never sent
  auto [to, frame] = sent.wait(0);
  CHECK(to == 2);
  CHECK(frame.request.method == "shares.get");
  CHECK(frame.request.body == "fetch");
  CHECK(sent.wait(2).first == 2);
  fs.on_result(4, frame.id, std::string("from the wrong member"));  // ignored
  fs.on_result(2, frame.id, std::string("shares"));
  fs.on_result(2, frame.id, std::string("duplicate"));  // ignored
  fs.fail(4, make_error("transport.unreachable", "stream broke"));
  std::this_thread::sleep_for(150ms);
  // The expired request is noticed by the next call made after its deadline.
  fs.call_async(2, "shares.get", "fetch", std::chrono::steady_clock::now() + 5s, record("after"));
  fs.close(make_error("server.stopped", "stopped"));
  fs.call_async(2, "shares.get", "fetch", std::chrono::steady_clock::now() + 5s, record("closed"));

  std::lock_guard lock(mu);
  auto one = [&](const std::string& name) -> const Result<std::string>& {
    REQUIRE(got[name].size() == 1);  // each callback runs exactly once
    return got[name][0];
  };
  REQUIRE(one("answered"));
  CHECK(*one("answered") == "shares");
  CHECK(one("broken").error().code == "transport.unreachable");
  CHECK(one("expired").error().code == "server.timeout");
  CHECK(one("late").error().code == "server.timeout");
  CHECK(one("after").error().code == "server.stopped");
  CHECK(one("closed").error().code == "server.stopped");
  CHECK(sent.frames.size() == 4);  // answered, broken, expired, after
}
