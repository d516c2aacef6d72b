#pragma once
// The host's part of the replicated membership (raft::Member::context, opaque to the core): an added
// member's name (empty until known) and peer URLs. Every member decodes it to reach the others, also
// after a restart, since the core rebuilds the membership from its log.

#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"

namespace etsecd::server {

struct MemberContext {
  std::string name;
  std::vector<std::string> peer_urls;  // at least one
};

raft::Bytes encode_member_context(const MemberContext& context);
// Errors: server.bad_member_context (not this encoding, or no peer URL).
Result<MemberContext> decode_member_context(const raft::Bytes& bytes);

// Checks a peer URL as MemberAdd/MemberUpdate receive it: http or https, host:port, nothing else.
// Errors: kMemberBadUrls with the offending URL.
Status check_peer_url(const std::string& url);

}  // namespace etsecd::server
