#pragma once
// A digest of the settings every member of one cluster must agree on. Members exchange it in the peer
// handshake and refuse to form a cluster with a member whose fingerprint differs, so a typo in one
// member's --initial-cluster or --threshold cannot split values across incompatible polynomials.

#include <cstdint>
#include <string>
#include <vector>

#include "etsecd/config/config.h"

namespace etsecd::config {

// Lowercase hex SHA-256 of a length-prefixed encoding of: the initial members sorted by name, each
// with its peer URL and share index (the index is part of it because two members with the same set but
// a different order would hand out the same x twice), the cluster token, k and W. Independent of the
// order of flags and of anything member-local (name, data dir, listen URLs, TLS files).
// Encoding: "etsecd-cluster-fingerprint-v1", then each field as "<decimal length>:<bytes>": the member
// count, then name, peer URL (Url::str()) and share index per member, then token, k and W.
std::string cluster_fingerprint(const std::vector<InitialMember>& initial_cluster, const std::string& token,
                                std::uint32_t threshold, std::uint32_t commit_quorum);
std::string cluster_fingerprint(const Config& config);

}  // namespace etsecd::config
