// Spec defaults and validation; the messages match the CRD's CEL rules word for word.
#include "etsecd/reconcile/cluster_spec.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "etsecd/common/quorum.h"

namespace etsecd::reconcile {

using nlohmann::json;

// The member binary's own rules (etsecd/common/quorum.h): the default W = ceil((n+k)/2) is the one that
// keeps a just-committed value readable with W members up; the minimum is only allowed when asked for.
int default_commit_quorum(int members, int threshold) {
  return static_cast<int>(
      quorum::default_commit_quorum(static_cast<uint32_t>(members), static_cast<uint32_t>(threshold)));
}

bool commit_quorum_allowed(int w, int members, int threshold) {
  return w > 0 && members > 0 && threshold > 0 &&
         quorum::commit_quorum_valid(static_cast<uint32_t>(members), static_cast<uint32_t>(threshold),
                                     static_cast<uint32_t>(w));
}

int effective_commit_quorum(const ClusterSpec& spec, int members) {
  if (spec.commit_quorum && commit_quorum_allowed(*spec.commit_quorum, members, spec.threshold)) {
    return *spec.commit_quorum;
  }
  return default_commit_quorum(members, spec.threshold);
}

FaultTolerance fault_tolerance(int members, int commit_quorum, int threshold) {
  auto non_negative = [](int v) { return std::max(v, 0); };
  return FaultTolerance{non_negative(members - commit_quorum), non_negative(commit_quorum - threshold),
                        non_negative(members - threshold)};
}

namespace {

Error invalid(const std::string& message) { return make_error("spec.invalid", message); }

// Reads an optional field of the given JSON kind; a present field of the wrong kind is an error.
template <class Check>
Status read_field(const json& spec, const char* field, const char* expected, Check is_kind,
                  const std::function<void(const json&)>& store) {
  auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) return Status::Ok();
  if (!is_kind(*it)) return invalid(std::string("spec.") + field + " must be " + expected);
  store(*it);
  return Status::Ok();
}

bool is_int(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }
bool is_string(const json& j) { return j.is_string(); }
bool is_bool(const json& j) { return j.is_boolean(); }
bool is_object(const json& j) { return j.is_object(); }
bool is_array(const json& j) { return j.is_array(); }

// Integers are bounded before narrowing so that 2^40 does not wrap into a legal value.
std::function<void(const json&)> store_int(int& out, bool& out_of_range) {
  return [&out, &out_of_range](const json& j) {
    long long v =
        j.is_number_unsigned()
            ? static_cast<long long>(std::min<unsigned long long>(j.get<unsigned long long>(), 2'000'000))
            : j.get<long long>();
    if (v < -1'000'000 || v > 1'000'000) out_of_range = true;
    out = int(std::clamp<long long>(v, -1'000'000, 1'000'000));
  };
}

}  // namespace

Result<ClusterSpec> parse_cluster_spec(const json& spec_json) {
  if (!spec_json.is_null() && !spec_json.is_object()) return invalid("spec must be an object");
  const json spec = spec_json.is_null() ? json::object() : spec_json;
  ClusterSpec s;
  bool out_of_range = false;
  int commit_quorum = 0;
  bool has_commit_quorum = false;
  std::vector<Status> checks;
  checks.push_back(read_field(spec, "replicas", "an integer", is_int, store_int(s.replicas, out_of_range)));
  checks.push_back(read_field(spec, "threshold", "an integer", is_int, store_int(s.threshold, out_of_range)));
  checks.push_back(read_field(spec, "commitQuorum", "an integer", is_int, [&](const json& j) {
    store_int(commit_quorum, out_of_range)(j);
    has_commit_quorum = true;
  }));
  checks.push_back(read_field(spec, "version", "a string", is_string, [&](const json& j) { s.version = j; }));
  checks.push_back(read_field(spec, "image", "a string", is_string, [&](const json& j) { s.image = j; }));
  checks.push_back(read_field(spec, "zoneTopologyKey", "a string", is_string,
                              [&](const json& j) { s.zone_topology_key = j; }));
  checks.push_back(read_field(spec, "zoneSpreadRequired", "a boolean", is_bool,
                              [&](const json& j) { s.zone_spread_required = j; }));
  checks.push_back(
      read_field(spec, "resources", "an object", is_object, [&](const json& j) { s.resources = j; }));
  checks.push_back(
      read_field(spec, "tolerations", "a list", is_array, [&](const json& j) { s.tolerations = j; }));
  checks.push_back(
      read_field(spec, "nodeSelector", "an object", is_object, [&](const json& j) { s.node_selector = j; }));
  checks.push_back(read_field(spec, "priorityClassName", "a string", is_string,
                              [&](const json& j) { s.priority_class_name = j; }));
  checks.push_back(read_field(spec, "storage", "an object", is_object, [&](const json& storage) {
    if (storage.contains("size")) {
      const json& size = storage.at("size");
      if (size.is_string()) s.storage_size = size.get<std::string>();
      if (is_int(size)) s.storage_size = std::to_string(size.get<long long>());
    }
    if (storage.contains("storageClassName") && storage.at("storageClassName").is_string()) {
      s.storage_class_name = storage.at("storageClassName").get<std::string>();
    }
  }));
  checks.push_back(read_field(spec, "tls", "an object", is_object, [&](const json& tls) {
    if (tls.contains("existingCASecret") && tls.at("existingCASecret").is_string()) {
      s.existing_ca_secret = tls.at("existingCASecret").get<std::string>();
    }
  }));
  for (const Status& c : checks) {
    if (!c) return c.error();
  }
  if (has_commit_quorum) s.commit_quorum = commit_quorum;

  // The same rules, in the same order and words, as the CRD's x-kubernetes-validations.
  if (s.threshold < 2) {
    return invalid("threshold must be at least 2 (with threshold 1 every member would hold whole values)");
  }
  if (s.replicas > kMaxMembers || out_of_range) {
    return invalid("replicas must be at most 255 (share indexes are the non-zero values of one byte)");
  }
  if (s.threshold > s.replicas) {
    return invalid(
        "threshold must not exceed replicas (k shares are needed to rebuild a value, but only replicas "
        "members "
        "hold one)");
  }
  if (s.commit_quorum && !commit_quorum_allowed(*s.commit_quorum, s.replicas, s.threshold)) {
    return invalid("commitQuorum must be between max(floor(replicas/2)+1, threshold) and replicas");
  }
  if (s.zone_topology_key.empty()) return invalid("zoneTopologyKey must not be empty");
  if (s.storage_size.empty()) return invalid("storage.size must not be empty");
  return s;
}

}  // namespace etsecd::reconcile
