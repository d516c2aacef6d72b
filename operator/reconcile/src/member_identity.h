#pragma once
// The share index of a member added with MemberAdd, recovered from its id. The etcd member list has no
// share index field, but etsecd-node derives an added member's id from its first peer URL, the cluster
// token and its share index (server::derive_added_member_id: the first 8 bytes, big-endian, of
// SHA-256("added-member" 0 URL 0 TOKEN 0 decimal-x), 0 read as 1), so the index is the x in 1..255 that
// gives the id.
#include <cstdint>
#include <optional>
#include <string>

namespace etsecd::reconcile::detail {

std::uint64_t added_member_id(const std::string& peer_url, const std::string& token, int share_index);
// nullopt: no share index gives this id (an initial member, or another token or URL).
std::optional<int> added_member_share_index(std::uint64_t id, const std::string& peer_url,
                                            const std::string& token);

}  // namespace etsecd::reconcile::detail
