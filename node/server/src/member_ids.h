#pragma once
// Identities derived from flags, identically on every member: member ids, the cluster id, and the
// fingerprint of the settings all members must share.

#include <cstdint>
#include <string>
#include <vector>

#include "etsecd/server/member.h"

namespace etsecd::server {

// SHA-256 over the sorted "name=peer_url" list, the token, k and the requested W (0 = default).
std::string derive_cluster_fingerprint(const std::vector<PeerSpec>& initial_cluster, const std::string& token,
                                       unsigned threshold, unsigned commit_quorum);

}  // namespace etsecd::server
