#include "etsecd/reconcile/names.h"

#include <charconv>

namespace etsecd::reconcile {

ClusterNames::ClusterNames(std::string cluster, std::string ns, std::string cluster_domain)
    : cluster_(std::move(cluster)), ns_(std::move(ns)), domain_(std::move(cluster_domain)) {}

std::string ClusterNames::member_pvc(int ordinal) const {
  return data_volume() + "-" + statefulset() + "-" + std::to_string(ordinal);
}

std::optional<int> ClusterNames::ordinal_of(std::string_view member_name) const {
  std::string prefix = cluster_ + "-";
  if (member_name.size() <= prefix.size() || member_name.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  std::string_view digits = member_name.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // "demo-01" is not a StatefulSet pod
  int ordinal = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ordinal);
  if (ec != std::errc() || end != digits.data() + digits.size() || ordinal < 0) return std::nullopt;
  return ordinal;
}

std::string ClusterNames::member_host(int ordinal) const { return host_of(member(ordinal)); }

std::string ClusterNames::host_of(std::string_view member_name) const {
  return std::string(member_name) + "." + peer_service() + "." + ns_ + ".svc." + domain_;
}

std::string ClusterNames::client_service_host() const {
  return client_service() + "." + ns_ + ".svc." + domain_;
}

std::string ClusterNames::peer_url(int ordinal) const {
  return "https://" + member_host(ordinal) + ":" + std::to_string(kPeerPort);
}

std::string ClusterNames::client_url(int ordinal) const {
  return "https://" + member_host(ordinal) + ":" + std::to_string(kClientPort);
}

std::map<std::string, std::string> ClusterNames::selector_labels() const {
  return {{"app.kubernetes.io/name", "etsecd"}, {"app.kubernetes.io/instance", cluster_}};
}

std::map<std::string, std::string> ClusterNames::labels() const {
  auto l = selector_labels();
  l["app.kubernetes.io/managed-by"] = "etsecd-operator";
  l["app.kubernetes.io/part-of"] = "etsecd";
  return l;
}

std::string ClusterNames::selector_string() const {
  std::string out;
  for (const auto& [k, v] : selector_labels()) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace etsecd::reconcile
