#include "etsecd/kube/request.h"

#include <doctest/doctest.h>

#include "etsecd/kube/errors.h"

using namespace etsecd::kube;
using nlohmann::json;

TEST_CASE("core and group APIs, namespaced and cluster-scoped paths") {
  CHECK(*collection_path(resources::pods(), "ns1") == "/api/v1/namespaces/ns1/pods");
  CHECK(*collection_path(resources::pods(), "") == "/api/v1/pods");  // all namespaces
  CHECK(*collection_path(resources::nodes(), "ignored") == "/api/v1/nodes");
  CHECK(*collection_path(resources::stateful_sets(), "db") == "/apis/apps/v1/namespaces/db/statefulsets");
  CHECK(*object_path(resources::etsecd_clusters(), "db", "c1", "status") ==
        "/apis/etsecd.io/v1alpha1/namespaces/db/etsecdclusters/c1/status");
  CHECK(*object_path(resources::custom_resource_definitions(), "", "etsecdclusters.etsecd.io") ==
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/etsecdclusters.etsecd.io");
  CHECK(*object_path(resources::leases(), "kube-system", "etsecd-operator") ==
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/etsecd-operator");
}

TEST_CASE("names that would escape their path segment are rejected") {
  for (const char* bad : {"", ".", "..", "a/b", "../secrets"}) {
    auto path = object_path(resources::pods(), "ns", bad);
    REQUIRE_FALSE(path.ok());
    CHECK(error_kind(path.error()) == ErrorKind::kBadRequest);
  }
  CHECK_FALSE(object_path(resources::pods(), "", "p").ok());  // namespaced needs a namespace
  CHECK_FALSE(collection_path(resources::pods(), "a/b").ok());
  CHECK(*object_path(resources::pods(), "ns", "a:b%") == "/api/v1/namespaces/ns/pods/a%3Ab%25");
}

TEST_CASE("list query parameters are escaped") {
  ListOptions o;
  o.label_selector = "app.kubernetes.io/name=etsecd,tier in (a b)";
  o.field_selector = "status.phase!=Running";
  o.resource_version = "12";
  o.resource_version_match = "NotOlderThan";
  o.limit = 50;
  o.continue_token = "eyJ2Ijoi+/=";
  auto r = list_request(resources::pods(), "ns", o);
  REQUIRE(r.ok());
  CHECK(r->method == "GET");
  CHECK(r->target() ==
        "/api/v1/namespaces/ns/pods?labelSelector=app.kubernetes.io%2Fname%3Detsecd%2Ctier%20in%20%28a%20b%29"
        "&fieldSelector=status.phase%21%3DRunning&resourceVersion=12&resourceVersionMatch=NotOlderThan"
        "&limit=50&continue=eyJ2Ijoi%2B%2F%3D");
  CHECK(list_request(resources::pods(), "ns", {})->target() == "/api/v1/namespaces/ns/pods");
  o.limit = -1;
  CHECK_FALSE(list_request(resources::pods(), "ns", o).ok());
}

TEST_CASE("watch request") {
  WatchOptions o;
  o.resource_version = "100";
  o.label_selector = "a=b";
  o.timeout_seconds = 290;
  auto r = watch_request(resources::etsecd_clusters(), "", o);
  REQUIRE(r.ok());
  CHECK(r->watch);
  CHECK(r->target() ==
        "/apis/etsecd.io/v1alpha1/etsecdclusters?watch=true&allowWatchBookmarks=true&resourceVersion=100"
        "&labelSelector=a%3Db&timeoutSeconds=290");
  o.allow_bookmarks = false;
  o.timeout_seconds = 0;
  o.resource_version.clear();
  o.label_selector.clear();
  CHECK(watch_request(resources::pods(), "x", o)->target() == "/api/v1/namespaces/x/pods?watch=true");
}

TEST_CASE("create, replace and status update") {
  json svc = {
      {"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "peer"}, {"namespace", "db"}}}};
  auto c = create_request(resources::services(), "", svc, {"etsecd-operator", true});
  REQUIRE(c.ok());
  CHECK(c->method == "POST");
  CHECK(c->target() == "/api/v1/namespaces/db/services?fieldManager=etsecd-operator&dryRun=All");
  CHECK(c->content_type == "application/json");
  CHECK(json::parse(c->body) == svc);
  auto mismatch = create_request(resources::services(), "other", svc, {});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().message.find("does not match") != std::string::npos);

  auto s = replace_request(resources::etsecd_clusters(), "db",
                           json{{"metadata", {{"name", "c1"}, {"resourceVersion", "7"}}}}, {}, "status");
  REQUIRE(s.ok());
  CHECK(s->method == "PUT");
  CHECK(s->target() == "/apis/etsecd.io/v1alpha1/namespaces/db/etsecdclusters/c1/status");
  CHECK_FALSE(replace_request(resources::pods(), "db", json{{"metadata", json::object()}}, {}).ok());
}

TEST_CASE("delete with propagation policy and preconditions") {
  DeleteOptions o;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "u-1";
  o.precondition_resource_version = "42";
  o.grace_period_seconds = 0;
  auto r = delete_request(resources::stateful_sets(), "db", "c1", o);
  REQUIRE(r.ok());
  CHECK(r->method == "DELETE");
  CHECK(r->target() == "/apis/apps/v1/namespaces/db/statefulsets/c1");
  json body = json::parse(r->body);
  CHECK(body["kind"] == "DeleteOptions");
  CHECK(body["propagationPolicy"] == "Foreground");
  CHECK(body["preconditions"]["uid"] == "u-1");
  CHECK(body["preconditions"]["resourceVersion"] == "42");
  CHECK(body["gracePeriodSeconds"] == 0);
  o.propagation_policy = "Sometimes";
  CHECK_FALSE(delete_request(resources::stateful_sets(), "db", "c1", o).ok());
}

TEST_CASE("server-side apply") {
  json sts = {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"metadata", {{"name", "c1"}}}};
  ApplyOptions o{"etsecd-operator", true, false, ""};
  auto r = apply_request(resources::stateful_sets(), "db", "c1", sts, o);
  REQUIRE(r.ok());
  CHECK(r->method == "PATCH");
  CHECK(r->content_type == "application/apply-patch+yaml");
  CHECK(r->target() == "/apis/apps/v1/namespaces/db/statefulsets/c1?fieldManager=etsecd-operator&force=true");
  CHECK(json::parse(r->body) == sts);
  o.subresource = "status";
  o.force = false;
  CHECK(apply_request(resources::stateful_sets(), "db", "c1", sts, o)->target() ==
        "/apis/apps/v1/namespaces/db/statefulsets/c1/status?fieldManager=etsecd-operator");
  CHECK_FALSE(apply_request(resources::stateful_sets(), "db", "c1", sts, ApplyOptions{}).ok());  // no manager
  CHECK_FALSE(apply_request(resources::stateful_sets(), "db", "c2", sts, o).ok());  // name mismatch
  CHECK_FALSE(
      apply_request(resources::stateful_sets(), "db", "c1", json{{"metadata", {{"name", "c1"}}}}, o).ok());
}

TEST_CASE("merge, strategic and JSON patches") {
  auto m = patch_request(resources::pods(), "ns", "p", PatchType::kMerge, json{{"a", 1}}, {"mgr", false, ""});
  REQUIRE(m.ok());
  CHECK(m->content_type == "application/merge-patch+json");
  CHECK(m->target() == "/api/v1/namespaces/ns/pods/p?fieldManager=mgr");
  auto s = patch_request(resources::pods(), "ns", "p", PatchType::kStrategicMerge, json::object(), {});
  CHECK(s->content_type == "application/strategic-merge-patch+json");
  json ops = json::array({{{"op", "replace"}, {"path", "/spec/replicas"}, {"value", 3}}});
  auto j =
      patch_request(resources::etsecd_clusters(), "ns", "c", PatchType::kJson, ops, {"", false, "scale"});
  REQUIRE(j.ok());
  CHECK(j->content_type == "application/json-patch+json");
  CHECK(j->target() == "/apis/etsecd.io/v1alpha1/namespaces/ns/etsecdclusters/c/scale");
  CHECK_FALSE(patch_request(resources::pods(), "ns", "p", PatchType::kJson, json::object(), {}).ok());
  CHECK_FALSE(patch_request(resources::pods(), "ns", "p", PatchType::kMerge, ops, {}).ok());
}

TEST_CASE("percent encoding keeps only unreserved characters") {
  CHECK(percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(percent_encode("a b/c?d&e=f#") == "a%20b%2Fc%3Fd%26e%3Df%23");
  CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
}
