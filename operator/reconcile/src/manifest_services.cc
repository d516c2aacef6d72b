// The headless peer Service (stable member DNS names, published before members are Ready so they can
// find each other while bootstrapping) and the client Service (Ready members only).
#include "etsecd/reconcile/manifests.h"
#include "object_meta.h"

namespace etsecd::reconcile {

using nlohmann::json;

namespace {
json port(const char* name, int number) {
  return json{{"name", name}, {"port", number}, {"targetPort", name}, {"protocol", "TCP"}};
}
}  // namespace

json peer_service_manifest(const ClusterNames& names, const Owner& owner) {
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", detail::owned_metadata(names, owner, names.peer_service())},
              {"spec",
               {{"clusterIP", "None"},
                {"publishNotReadyAddresses", true},
                {"selector", detail::label_map(names.selector_labels())},
                {"ports", json::array({port("peer", kPeerPort), port("client", kClientPort)})}}}};
}

json client_service_manifest(const ClusterNames& names, const Owner& owner) {
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", detail::owned_metadata(names, owner, names.client_service())},
              {"spec",
               {{"type", "ClusterIP"},
                {"selector", detail::label_map(names.selector_labels())},
                {"ports", json::array({port("client", kClientPort)})}}}};
}

}  // namespace etsecd::reconcile
