// Step 5: where did members land? One zone or one node holding k or more members means that stealing
// that zone's (or node's) disks reveals every value: condition ZoneLeakRisk. Also reports specs the
// nodes cannot satisfy (no node carries the zone label, fewer nodes than members).
#include <algorithm>
#include <map>
#include <set>

#include "pass.h"

namespace etsecd::reconcile::detail {

namespace {

struct Crowd {
  std::string name;
  int members = 0;
};

Crowd most_crowded(const std::map<std::string, int>& counts) {
  Crowd c;
  for (const auto& [name, n] : counts) {
    if (n > c.members) c = Crowd{name, n};
  }
  return c;
}

void check_nodes(Pass& pass) {
  if (!pass.observed.nodes) return;
  std::set<std::string> zones;
  int schedulable = 0;
  for (const ObservedNode& node : *pass.observed.nodes) {
    if (node.unschedulable) continue;
    ++schedulable;
    if (auto it = node.labels.find(pass.spec.zone_topology_key); it != node.labels.end())
      zones.insert(it->second);
  }
  if (pass.spec.zone_spread_required && zones.empty()) {
    pass.degrade("NoZones", "zone spread is required but no schedulable node has the label " +
                                pass.spec.zone_topology_key +
                                ": members cannot be scheduled (label the nodes, or set zoneTopologyKey or "
                                "zoneSpreadRequired: false)");
    pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(60), "no zones");
  } else if (schedulable < pass.spec.replicas) {
    pass.degrade("InsufficientNodes", std::to_string(schedulable) + " schedulable nodes for " +
                                          std::to_string(pass.spec.replicas) +
                                          " members: members never share a node, so some stay Pending");
  }
}

}  // namespace

void step_placement(Pass& pass) {
  check_nodes(pass);

  std::map<std::string, int> per_zone;
  std::map<std::string, int> per_node;
  int placed = 0;
  for (const MemberRow& m : pass.members) {
    if (!m.pod || m.node.empty()) continue;
    ++placed;
    ++per_node[m.node];
    if (!m.zone.empty()) {
      ++per_zone[m.zone];
    } else if (pass.observed.nodes) {
      ++per_zone["(nodes without " + pass.spec.zone_topology_key + ")"];
    }
  }
  const int k = pass.spec.threshold;
  Crowd zone = most_crowded(per_zone);
  Crowd node = most_crowded(per_node);
  if (zone.members >= k) {
    pass.set_condition("ZoneLeakRisk", true, "ZoneHoldsThreshold",
                       "zone " + zone.name + " holds " + std::to_string(zone.members) + " of " +
                           std::to_string(placed) + " members (threshold " + std::to_string(k) +
                           "): losing that zone's disks to an attacker reveals every value");
  } else if (node.members >= k) {
    pass.set_condition("ZoneLeakRisk", true, "NodeHoldsThreshold",
                       "node " + node.name + " holds " + std::to_string(node.members) +
                           " members (threshold " + std::to_string(k) +
                           "): that node's disks reveal every value");
  } else {
    pass.set_condition("ZoneLeakRisk", false, "SpreadBelowThreshold",
                       placed == 0
                           ? "no member is placed yet"
                           : "every zone and node holds fewer than " + std::to_string(k) + " members");
  }
}

}  // namespace etsecd::reconcile::detail
