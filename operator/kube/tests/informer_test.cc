#include "etsecd/kube/informer.h"

#include <doctest/doctest.h>

#include <deque>
#include <thread>

#include "etsecd/kube/errors.h"
#include "etsecd/kube/work_queue.h"

using namespace etsecd::kube;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json pod(const std::string& name, const std::string& rv, const std::string& owner = "") {
  json p = {{"metadata", {{"name", name}, {"namespace", "db"}, {"resourceVersion", rv}}}};
  if (!owner.empty()) {
    p["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "etsecd.io/v1alpha1"},
                                                     {"kind", "EtsecdCluster"},
                                                     {"name", owner},
                                                     {"controller", true}}});
  }
  return p;
}

// A scripted API: each list() pops the next page (or error); each watch() replays the next script of
// events and then ends with the script's status. When the scripts run out, watch blocks until stopped.
class ScriptedSource final : public ListerWatcher {
 public:
  struct WatchScript {
    std::vector<WatchEvent> events;
    etsecd::Status end;
  };
  std::deque<etsecd::Result<json>> lists;
  std::deque<WatchScript> watches;
  std::vector<ListOptions> list_calls;
  std::vector<WatchOptions> watch_calls;
  std::mutex mu;

  etsecd::Result<json> list(const ListOptions& options) override {
    std::lock_guard lock(mu);
    list_calls.push_back(options);
    if (lists.empty()) return make_kube_error(ErrorKind::kTransport, "no more scripted lists");
    auto r = std::move(lists.front());
    lists.pop_front();
    return r;
  }
  etsecd::Status watch(const WatchOptions& options, const std::function<bool(const WatchEvent&)>& on_event,
                       StopSignal& stop) override {
    WatchScript script;
    bool have = false;
    {
      std::lock_guard lock(mu);
      watch_calls.push_back(options);
      if (!watches.empty()) {
        script = std::move(watches.front());
        watches.pop_front();
        have = true;
      }
    }
    if (!have) {
      while (!stop.wait_for(10ms)) {
      }
      return make_kube_error(ErrorKind::kCancelled, "stopped");
    }
    for (const auto& e : script.events) {
      if (!on_event(e)) return etsecd::Status::Ok();
    }
    return script.end;
  }
};

json list_of(std::vector<json> items, const std::string& rv, const std::string& cont = "") {
  json l = {
      {"apiVersion", "v1"}, {"kind", "PodList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", items}};
  if (!cont.empty()) l["metadata"]["continue"] = cont;
  return l;
}

}  // namespace

TEST_CASE("informer: paged list, watch, 410 relist with deletes noticed, keys queued") {
  auto source = std::make_shared<ScriptedSource>();
  source->lists.push_back(list_of({pod("m-0", "10", "c1")}, "50", "page2"));
  source->lists.push_back(list_of({pod("m-1", "11", "c1")}, "50"));
  source->watches.push_back({{{WatchEventType::kModified, pod("m-0", "60", "c1")},
                              {WatchEventType::kBookmark, json{{"metadata", {{"resourceVersion", "70"}}}}}},
                             etsecd::Status::Ok()});
  source->watches.push_back({{{WatchEventType::kError, json{{"kind", "Status"},
                                                            {"code", 410},
                                                            {"reason", "Expired"},
                                                            {"message", "too old resource version"}}}},
                             etsecd::Status::Ok()});
  // While the watch was broken, m-1 was deleted and m-2 created.
  source->lists.push_back(list_of({pod("m-0", "60", "c1"), pod("m-2", "90", "c2")}, "95"));

  WorkQueue queue;
  std::vector<std::string> deleted;
  InformerHandlers handlers = enqueue_controller_key(queue, "EtsecdCluster");
  auto on_delete = handlers.on_delete;
  handlers.on_delete = [&](const json& o) {
    deleted.push_back(object_key(o));
    on_delete(o);
  };
  InformerOptions options;
  options.page_size = 1;
  options.backoff = BackoffPolicy{1ms, 5ms, 2.0, 0.0};
  std::vector<std::string> errors;
  options.on_error = [&](const etsecd::Error& e) { errors.push_back(e.code); };
  Informer informer(source, options, handlers);

  StopSignal stop;
  std::thread runner([&] { informer.run(stop); });
  REQUIRE(informer.wait_for_sync(stop));
  // Wait for the scripts to be used up (the third watch blocks).
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard lock(source->mu);
      if (source->watch_calls.size() == 3) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  stop.stop();
  runner.join();

  REQUIRE(source->list_calls.size() == 3);
  CHECK(source->list_calls[0].limit == 1);
  CHECK(source->list_calls[1].continue_token == "page2");
  CHECK(source->list_calls[2].continue_token.empty());
  REQUIRE(source->watch_calls.size() == 3);
  CHECK(source->watch_calls[0].resource_version == "50");
  CHECK(source->watch_calls[0].allow_bookmarks);
  CHECK(source->watch_calls[1].resource_version == "70");  // resumed from the bookmark
  CHECK(source->watch_calls[2].resource_version == "95");  // after the relist

  CHECK(informer.size() == 2);
  CHECK(informer.get("db/m-1") == std::nullopt);
  REQUIRE(informer.get("db/m-2"));
  CHECK((*informer.get("db/m-2"))["kind"] == "Pod");  // filled in from the list kind
  CHECK(informer.resource_version() == "95");
  CHECK(informer.relists() == 1);
  CHECK(deleted == std::vector<std::string>{"db/m-1"});
  CHECK(errors == std::vector<std::string>{"kube.gone"});
  // c1 and c2 were queued, each once however often its pods changed.
  CHECK(queue.depth() == 2);
  auto a = queue.get();
  auto b = queue.get();
  CHECK(((*a == "db/c1" && *b == "db/c2") || (*a == "db/c2" && *b == "db/c1")));
}

TEST_CASE("informer: list errors are retried with backoff until a list succeeds") {
  auto source = std::make_shared<ScriptedSource>();
  source->lists.push_back(make_kube_error(ErrorKind::kForbidden, "pods is forbidden"));
  source->lists.push_back(make_kube_error(ErrorKind::kTransport, "connection refused"));
  source->lists.push_back(list_of({}, "5"));
  WorkQueue queue;
  InformerOptions options;
  options.backoff = BackoffPolicy{1ms, 5ms, 2.0, 0.0};
  Informer informer(source, options, enqueue_object_key(queue));
  StopSignal stop;
  std::thread runner([&] { informer.run(stop); });
  CHECK(informer.wait_for_sync(stop));
  stop.stop();
  runner.join();
  CHECK(informer.size() == 0);
  CHECK(source->list_calls.size() == 3);
}

TEST_CASE("controller owner keys") {
  CHECK(*controller_owner_key(pod("m-0", "1", "c1"), "EtsecdCluster") == "db/c1");
  CHECK_FALSE(controller_owner_key(pod("m-0", "1", "c1"), "StatefulSet"));
  CHECK_FALSE(controller_owner_key(pod("m-0", "1"), "EtsecdCluster"));
  json not_controller = pod("m-0", "1", "c1");
  not_controller["metadata"]["ownerReferences"][0]["controller"] = false;
  CHECK_FALSE(controller_owner_key(not_controller, "EtsecdCluster"));
}
