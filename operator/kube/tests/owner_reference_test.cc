#include "etsecd/kube/owner_reference.h"

#include <doctest/doctest.h>

#include "etsecd/kube/errors.h"
#include "etsecd/kube/informer.h"

using namespace etsecd::kube;
using nlohmann::json;

namespace {
const json kCluster = {{"apiVersion", "etsecd.io/v1alpha1"},
                       {"kind", "EtsecdCluster"},
                       {"metadata", {{"name", "c1"}, {"namespace", "db"}, {"uid", "u-1"}}}};
}

TEST_CASE("controller references for owned objects") {
  auto ref = controller_reference(kCluster);
  REQUIRE(ref.ok());
  CHECK(*ref == json{{"apiVersion", "etsecd.io/v1alpha1"},
                     {"kind", "EtsecdCluster"},
                     {"name", "c1"},
                     {"uid", "u-1"},
                     {"controller", true},
                     {"blockOwnerDeletion", true}});
  json no_uid = kCluster;
  no_uid["metadata"].erase("uid");
  CHECK_FALSE(controller_reference(no_uid).ok());

  json sts = {{"metadata", {{"name", "c1"}, {"namespace", "db"}}}};
  REQUIRE(set_controller_reference(sts, kCluster).ok());
  REQUIRE(set_controller_reference(sts, kCluster).ok());  // idempotent
  CHECK(sts["metadata"]["ownerReferences"].size() == 1);
  CHECK(*controller_owner_key(sts, "EtsecdCluster") == "db/c1");

  json other = kCluster;
  other["metadata"]["uid"] = "u-2";
  other["metadata"]["name"] = "c2";
  auto refused = set_controller_reference(sts, other);
  REQUIRE_FALSE(refused.ok());
  CHECK(error_kind(refused.error()) == ErrorKind::kConflict);
}
