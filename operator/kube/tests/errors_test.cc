#include "etsecd/kube/errors.h"

#include <doctest/doctest.h>

using namespace etsecd::kube;

// Bodies as kube-apiserver sends them.
TEST_CASE("API server Status objects map to typed errors") {
  auto not_found =
      error_from_response(404, R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":"etsecdclusters.etsecd.io \"c1\" not found","reason":"NotFound",
      "details":{"name":"c1","group":"etsecd.io","kind":"etsecdclusters"},"code":404})J");
  CHECK(error_kind(not_found) == ErrorKind::kNotFound);
  CHECK(not_found.code == "kube.not_found");
  CHECK(not_found.message.find("etsecdclusters.etsecd.io \"c1\" not found") != std::string::npos);

  auto exists = error_from_response(409, R"J({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"services \"peer\" already exists","reason":"AlreadyExists","code":409})J");
  CHECK(error_kind(exists) == ErrorKind::kAlreadyExists);

  auto conflict = error_from_response(409, R"J({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"Operation cannot be fulfilled on leases.coordination.k8s.io \"op\": the object has been modified; please apply your changes to the latest version and try again",
      "reason":"Conflict","code":409})J");
  CHECK(error_kind(conflict) == ErrorKind::kConflict);

  auto forbidden = error_from_response(403, R"J({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"pods is forbidden: User \"system:serviceaccount:op:op\" cannot list resource \"pods\"",
      "reason":"Forbidden","code":403})J");
  CHECK(error_kind(forbidden) == ErrorKind::kForbidden);
  CHECK(forbidden.message.find("cannot list resource") != std::string::npos);

  auto gone = error_from_response(410, R"J({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"The provided continue parameter is too old to display a consistent list result.","reason":"Expired","code":410})J");
  CHECK(error_kind(gone) == ErrorKind::kGone);

  auto timeout = error_from_response(
      504,
      R"J({"kind":"Status","status":"Failure","message":"Timeout: request did not complete within requested timeout","reason":"Timeout","code":504})J");
  CHECK(error_kind(timeout) == ErrorKind::kTimeout);
  CHECK(is_retryable(timeout));
  CHECK_FALSE(is_retryable(not_found));
}

TEST_CASE("Invalid keeps the CEL rule's message and the causes") {
  auto invalid =
      error_from_response(422, R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"EtsecdCluster.etsecd.io \"c1\" is invalid: spec: Invalid value: \"object\": threshold must be between 2 and replicas",
    "reason":"Invalid","details":{"name":"c1","group":"etsecd.io","kind":"EtsecdCluster","causes":[
      {"reason":"FieldValueInvalid","message":"Invalid value: \"object\": threshold must be between 2 and replicas","field":"spec"},
      {"reason":"FieldValueRequired","message":"Required value","field":"spec.version"}]},"code":422})J");
  CHECK(error_kind(invalid) == ErrorKind::kInvalid);
  CHECK(invalid.message.find("threshold must be between 2 and replicas") != std::string::npos);
  CHECK(invalid.message.find("spec.version: Required value") != std::string::npos);
}

TEST_CASE("non-Status bodies and watch ERROR objects") {
  auto html = error_from_response(502, "<html>bad gateway</html>\n");
  CHECK(error_kind(html) == ErrorKind::kServerError);
  CHECK(html.message == "HTTP 502: <html>bad gateway</html>");
  CHECK(error_kind(error_from_response(401, "")) == ErrorKind::kUnauthorized);
  CHECK(error_kind(error_from_response(429, "slow down")) == ErrorKind::kTooManyRequests);

  auto expired =
      error_from_status_object(R"J({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":"too old resource version: 100 (2345)","reason":"Expired","code":410})J");
  CHECK(error_kind(expired) == ErrorKind::kGone);
  // Old servers: a 500 whose message says the version is too old.
  CHECK(
      error_kind(error_from_status_object(
          R"J({"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","code":500})J")) ==
      ErrorKind::kGone);
  CHECK(error_kind(error_from_status_object("not json")) == ErrorKind::kDecode);
  CHECK(error_kind(etsecd::make_error("raft.x", "y")) == ErrorKind::kOther);
}
