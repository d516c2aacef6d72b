// The HTTP client against a real HTTPS server on 127.0.0.1: what goes over the wire for each operation,
// TLS verification and client certificates, token rotation, and watch streams (chunked events, a 410 in
// the middle, cancellation) driven through the informer.

#include <doctest/doctest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "etsecd/kube/client.h"
#include "etsecd/kube/client_adapters.h"
#include "etsecd/kube/errors.h"
#include "etsecd/kube/informer.h"
#include "etsecd/kube/work_queue.h"
#include "loopback_tls_server.h"

using namespace etsecd::kube;
using namespace etsecd::kube::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const TestPki& pki() {
  static const TestPki p = TestPki::make();
  return p;
}

Config config_for(const LoopbackTlsServer& server, const std::string& token = "tok-1") {
  Config c;
  c.server = server.url();
  c.ca_pem = pki().ca_pem;
  c.bearer_token = token;
  c.source = "test";
  return c;
}

std::unique_ptr<Client> client_for(const Config& config) {
  ClientOptions options;
  options.request_timeout = 10s;
  auto client = Client::create(config, options);
  REQUIRE(client.ok());
  return std::move(*client);
}

std::string status_json(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

}  // namespace

TEST_CASE("server-side apply sends the right method, path, headers and body") {
  LoopbackTlsServer server(pki(), [](const RecordedRequest& r, Responder& out) {
    json reply = json::parse(r.body);
    reply["metadata"]["resourceVersion"] = "501";
    out.respond(200, reply.dump());
  });
  auto client = client_for(config_for(server));
  json sts = {{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", {{"name", "c1"}, {"namespace", "db"}}},
              {"spec", {{"replicas", 5}}}};
  auto applied =
      client->apply(resources::stateful_sets(), "db", sts, ApplyOptions{"etsecd-operator", true, false, ""});
  REQUIRE(applied.ok());
  CHECK((*applied)["metadata"]["resourceVersion"] == "501");
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "PATCH");
  CHECK(r.target == "/apis/apps/v1/namespaces/db/statefulsets/c1?fieldManager=etsecd-operator&force=true");
  CHECK(r.header("content-type") == "application/apply-patch+yaml");
  CHECK(r.header("authorization") == "Bearer tok-1");
  CHECK(r.header("accept") == "application/json");
  CHECK(r.header("user-agent") == "etsecd-operator/0.1");
  CHECK(json::parse(r.body) == sts);
  CHECK_FALSE(r.client_certificate);
}

TEST_CASE("every verb reaches the server as built, and API errors come back typed") {
  LoopbackTlsServer server(pki(), [](const RecordedRequest& r, Responder& out) {
    if (r.method == "GET" && r.target.find("/missing") != std::string::npos) {
      out.respond(404, status_json(404, "NotFound", "etsecdclusters.etsecd.io \"missing\" not found"));
    } else if (r.method == "POST") {
      out.respond(422, status_json(422, "Invalid",
                                   "EtsecdCluster.etsecd.io \"bad\" is invalid: spec: Invalid value: "
                                   "\"object\": threshold must be between 2 and replicas"));
    } else if (r.method == "PUT") {
      out.respond(409, status_json(409, "Conflict", "the object has been modified"));
    } else if (r.method == "DELETE") {
      out.respond(200, R"({"kind":"Status","status":"Success"})");
    } else {
      out.respond(200, R"({"kind":"EtsecdCluster","metadata":{"name":"c1"}})");
    }
  });
  auto client = client_for(config_for(server));
  auto cr = resources::etsecd_clusters();

  auto missing = client->get(cr, "db", "missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(error_kind(missing.error()) == ErrorKind::kNotFound);

  auto invalid = client->create(
      cr, "db",
      json{{"apiVersion", "etsecd.io/v1alpha1"}, {"kind", "EtsecdCluster"}, {"metadata", {{"name", "bad"}}}});
  REQUIRE_FALSE(invalid.ok());
  CHECK(error_kind(invalid.error()) == ErrorKind::kInvalid);
  CHECK(invalid.error().message.find("threshold must be between 2 and replicas") != std::string::npos);

  auto conflict =
      client->update_status(cr, "db", json{{"metadata", {{"name", "c1"}, {"resourceVersion", "3"}}}});
  REQUIRE_FALSE(conflict.ok());
  CHECK(error_kind(conflict.error()) == ErrorKind::kConflict);

  DeleteOptions del;
  del.propagation_policy = "Foreground";
  CHECK(client->remove(cr, "db", "c1", del).ok());
  CHECK(
      client->patch_status(cr, "db", "c1", PatchType::kMerge, json{{"status", {{"phase", "Running"}}}}).ok());
  CHECK(client->get(cr, "db", "c1").ok());

  auto requests = server.requests();
  REQUIRE(requests.size() == 6);
  CHECK(requests[1].target == "/apis/etsecd.io/v1alpha1/namespaces/db/etsecdclusters");
  CHECK(requests[2].target == "/apis/etsecd.io/v1alpha1/namespaces/db/etsecdclusters/c1/status");
  CHECK(requests[3].method == "DELETE");
  CHECK(json::parse(requests[3].body)["propagationPolicy"] == "Foreground");
  CHECK(requests[4].method == "PATCH");
  CHECK(requests[4].header("content-type") == "application/merge-patch+json");
  CHECK(requests[4].target == "/apis/etsecd.io/v1alpha1/namespaces/db/etsecdclusters/c1/status");
}

TEST_CASE("list_all follows continue tokens") {
  LoopbackTlsServer server(pki(), [](const RecordedRequest& r, Responder& out) {
    if (r.target.find("continue=") == std::string::npos) {
      out.respond(
          200,
          R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"t+1"},"items":[{"metadata":{"name":"a"}}]})");
    } else {
      out.respond(
          200,
          R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"b"}}]})");
    }
  });
  auto client = client_for(config_for(server));
  ListOptions options;
  options.limit = 1;
  options.label_selector = "app=etsecd";
  auto all = client->list_all(resources::pods(), "db", options);
  REQUIRE(all.ok());
  CHECK((*all)["items"].size() == 2);
  CHECK((*all)["metadata"]["resourceVersion"] == "9");
  CHECK_FALSE((*all)["metadata"].contains("continue"));
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].target == "/api/v1/namespaces/db/pods?labelSelector=app%3Detsecd&limit=1");
  CHECK(requests[1].target == "/api/v1/namespaces/db/pods?labelSelector=app%3Detsecd&limit=1&continue=t%2B1");
}

TEST_CASE("TLS: an unknown CA or a wrong server name fails; client certificates are presented") {
  LoopbackTlsServer server(pki(), [](const RecordedRequest&, Responder& out) { out.respond(200, "{}"); });
  Config wrong_ca = config_for(server);
  wrong_ca.ca_pem = TestPki::make().ca_pem;
  auto untrusted = client_for(wrong_ca)->get(resources::namespaces(), "", "default");
  REQUIRE_FALSE(untrusted.ok());
  CHECK(error_kind(untrusted.error()) == ErrorKind::kTransport);
  CHECK(server.requests().empty());  // nothing was sent to an unverified server

  TestPki other_name = TestPki::make("DNS:kubernetes.default.svc");
  LoopbackTlsServer misnamed(other_name,
                             [](const RecordedRequest&, Responder& out) { out.respond(200, "{}"); });
  Config c = config_for(misnamed);
  c.ca_pem = other_name.ca_pem;
  auto mismatch = client_for(c)->get(resources::namespaces(), "", "default");
  REQUIRE_FALSE(mismatch.ok());
  CHECK(misnamed.requests().empty());
  c.insecure_skip_tls_verify = true;  // only when the kubeconfig says so
  CHECK(client_for(c)->get(resources::namespaces(), "", "default").ok());

  LoopbackTlsServer mtls(
      pki(), [](const RecordedRequest&, Responder& out) { out.respond(200, "{}"); }, true);
  Config with_cert = config_for(mtls, "");
  auto without = client_for(with_cert)->get(resources::namespaces(), "", "default");
  CHECK_FALSE(without.ok());
  with_cert.client_cert_pem = pki().client_cert_pem;
  with_cert.client_key_pem = pki().client_key_pem;
  REQUIRE(client_for(with_cert)->get(resources::namespaces(), "", "default").ok());
  auto requests = mtls.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].client_certificate);
  CHECK(requests[0].header("authorization").empty());

  Config mismatched = with_cert;
  mismatched.client_key_pem = TestPki::make().client_key_pem;
  auto refused = Client::create(mismatched);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("does not match") != std::string::npos);
  Config bad_ca = with_cert;
  bad_ca.ca_pem = "not a certificate";
  CHECK_FALSE(Client::create(bad_ca).ok());
}

TEST_CASE("a rotated token file is re-read after a 401") {
  std::string dir_template = (std::filesystem::temp_directory_path() / "etsecd-token-XXXXXX").string();
  REQUIRE(mkdtemp(dir_template.data()) != nullptr);
  std::filesystem::path token_path = std::filesystem::path(dir_template) / "token";
  std::ofstream(token_path) << "old\n";
  LoopbackTlsServer server(pki(), [](const RecordedRequest& r, Responder& out) {
    if (r.header("authorization") != "Bearer new") {
      out.respond(401, status_json(401, "Unauthorized", "Unauthorized"));
    } else {
      out.respond(200, "{}");
    }
  });
  Config c = config_for(server, "");
  c.token_file = token_path.string();
  auto client = client_for(c);
  std::ofstream(token_path) << "new\n";  // the kubelet rotated it
  CHECK(client->get(resources::namespaces(), "", "default").ok());
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("authorization") == "Bearer old");
  CHECK(requests[1].header("authorization") == "Bearer new");
  std::filesystem::remove_all(dir_template);
}

TEST_CASE("watch: events split across chunks arrive in order; a 410 ERROR ends the watch as Gone") {
  const std::string added =
      R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"m-0","namespace":"db","resourceVersion":"11"}}})";
  const std::string bookmark =
      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"15"}}})";
  const std::string gone =
      R"({"type":"ERROR","object":)" + status_json(410, "Expired", "too old resource version: 15 (40)") + "}";
  LoopbackTlsServer server(pki(), [&](const RecordedRequest&, Responder& out) {
    out.begin_chunked(200);
    std::string stream = added + "\n" + bookmark + "\n" + gone + "\n";
    // Pieces that cut through the middle of lines.
    for (std::size_t i = 0; i < stream.size(); i += 37) {
      out.chunk(stream.substr(i, 37));
      std::this_thread::sleep_for(1ms);
    }
    out.end_chunked();
  });
  auto client = client_for(config_for(server));
  std::vector<WatchEvent> events;
  WatchOptions options;
  options.resource_version = "10";
  auto status = client->watch(resources::pods(), "db", options, [&](const WatchEvent& e) {
    events.push_back(e);
    return true;
  });
  REQUIRE_FALSE(status.ok());
  CHECK(error_kind(status.error()) == ErrorKind::kGone);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == WatchEventType::kAdded);
  CHECK(resource_version_of(events[1].object) == "15");
  CHECK(events[2].type == WatchEventType::kError);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(
      requests[0].target ==
      "/api/v1/namespaces/db/pods?watch=true&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=300");
}

TEST_CASE("informer over HTTPS: list, watch, 410 in the middle of the stream, relist, resume; stop cancels") {
  std::atomic<int> lists{0};
  std::atomic<bool> release_last_watch{false};
  LoopbackTlsServer server(pki(), [&](const RecordedRequest& r, Responder& out) {
    bool watch = r.target.find("watch=true") != std::string::npos;
    if (!watch) {
      int n = ++lists;
      if (n == 1) {
        out.respond(200, R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[
          {"metadata":{"name":"m-0","namespace":"db","resourceVersion":"5","ownerReferences":[{"kind":"EtsecdCluster","name":"c1","controller":true}]}},
          {"metadata":{"name":"m-1","namespace":"db","resourceVersion":"6"}}]})");
      } else {
        out.respond(200, R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"40"},"items":[
          {"metadata":{"name":"m-0","namespace":"db","resourceVersion":"12","ownerReferences":[{"kind":"EtsecdCluster","name":"c1","controller":true}]}},
          {"metadata":{"name":"m-2","namespace":"db","resourceVersion":"33"}}]})");
      }
      return;
    }
    out.begin_chunked(200);
    if (r.target.find("resourceVersion=10") != std::string::npos) {
      out.chunk(
          R"({"type":"MODIFIED","object":{"metadata":{"name":"m-0","namespace":"db","resourceVersion":"12",)");
      std::this_thread::sleep_for(5ms);
      out.chunk(R"("ownerReferences":[{"kind":"EtsecdCluster","name":"c1","controller":true}]}}})"
                "\n");
      out.chunk(R"({"type":"ERROR","object":)" +
                status_json(410, "Expired", "too old resource version: 12 (40)") + "}\n");
      out.end_chunked();
      return;
    }
    // The watch after the relist: stays open until the client goes away.
    while (!release_last_watch && out.chunk("\n")) std::this_thread::sleep_for(20ms);
  });
  auto client = client_for(config_for(server));
  auto source = std::make_shared<ClientListerWatcher>(*client, resources::pods(), "db");
  WorkQueue queue;
  InformerOptions options;
  options.backoff = BackoffPolicy{5ms, 50ms, 2.0, 0.0};
  Informer informer(source, options, enqueue_controller_key(queue, "EtsecdCluster"));
  StopSignal stop;
  std::thread runner([&] { informer.run(stop); });
  for (int i = 0; i < 1000 && server.requests().size() < 4; ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(50ms);
  auto started = std::chrono::steady_clock::now();
  stop.stop();
  runner.join();
  CHECK(std::chrono::steady_clock::now() - started < 5s);  // the blocked watch was cancelled
  release_last_watch = true;

  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].target == "/api/v1/namespaces/db/pods?limit=500");
  CHECK(requests[1].target.find("watch=true&allowWatchBookmarks=true&resourceVersion=10") !=
        std::string::npos);
  CHECK(requests[2].target == "/api/v1/namespaces/db/pods?limit=500");  // relist after 410
  CHECK(requests[3].target.find("resourceVersion=40") != std::string::npos);
  CHECK(informer.relists() == 1);
  CHECK(informer.get("db/m-1") == std::nullopt);
  CHECK(informer.get("db/m-2").has_value());
  CHECK(resource_version_of(*informer.get("db/m-0")) == "12");
  CHECK(queue.depth() == 1);
  CHECK(*queue.get() == "db/c1");
}

TEST_CASE("Lease store and event sink over HTTPS") {
  LoopbackTlsServer server(pki(), [](const RecordedRequest& r, Responder& out) {
    if (r.method == "GET") {
      out.respond(404,
                  status_json(404, "NotFound", "leases.coordination.k8s.io \"etsecd-operator\" not found"));
    } else if (r.method == "PUT") {
      out.respond(409, status_json(409, "Conflict", "the object has been modified"));
    } else {
      json body = json::parse(r.body);
      body["metadata"]["resourceVersion"] = "1";
      out.respond(201, body.dump());
    }
  });
  auto client = client_for(config_for(server));
  ClientLeaseStore store(*client, "etsecd-system", "etsecd-operator");
  auto none = store.get();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  LeaseRecord record{"op-a", 15, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z", 0};
  auto created = store.create(record);
  REQUIRE(created.ok());
  CHECK(created->record == record);
  CHECK(created->resource_version == "1");
  auto conflict = store.update(record, "1");
  REQUIRE_FALSE(conflict.ok());
  CHECK(error_kind(conflict.error()) == ErrorKind::kConflict);

  ClientEventSink sink(*client);
  EventRecorder recorder(sink, "etsecd-operator", "op-a");
  ObjectReference ref{"etsecd.io/v1alpha1", "EtsecdCluster", "db", "c1", "u1", ""};
  REQUIRE(recorder.record(ref, EventType::kWarning, "ZoneLeakRisk", "zone a holds 3 members").ok());

  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].target == "/apis/coordination.k8s.io/v1/namespaces/etsecd-system/leases/etsecd-operator");
  CHECK(requests[1].method == "POST");
  CHECK(json::parse(requests[1].body)["spec"]["holderIdentity"] == "op-a");
  CHECK(requests[2].method == "PUT");
  CHECK(json::parse(requests[2].body)["metadata"]["resourceVersion"] == "1");
  CHECK(requests[3].target == "/api/v1/namespaces/db/events");
  CHECK(json::parse(requests[3].body)["involvedObject"]["name"] == "c1");
}

TEST_CASE("a watch left early drops the connection instead of hanging") {
  std::atomic<bool> client_gone{false};
  LoopbackTlsServer server(pki(), [&](const RecordedRequest&, Responder& out) {
    out.begin_chunked(200);
    auto start = std::chrono::steady_clock::now();
    for (int rv = 1; std::chrono::steady_clock::now() - start < 10s; ++rv) {
      std::string event = R"({"type":"ADDED","object":{"metadata":{"name":"p)" + std::to_string(rv) +
                          R"(","namespace":"db","resourceVersion":")" + std::to_string(rv) + "\"}}}\n";
      if (!out.chunk(event)) {
        client_gone = true;
        return;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  auto client = client_for(config_for(server));
  int seen = 0;
  auto started = std::chrono::steady_clock::now();
  auto status =
      client->watch(resources::pods(), "db", WatchOptions{}, [&](const WatchEvent&) { return ++seen < 3; });
  CHECK(status.ok());
  CHECK(seen == 3);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  for (int i = 0; i < 500 && !client_gone; ++i) std::this_thread::sleep_for(10ms);
  CHECK(client_gone);
}
