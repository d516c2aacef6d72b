#pragma once
// A linearizable read a follower forwards to the leader together with its own shares of the values it
// found for that read on its applied state. The leader needs k+1 shares of each value it returns; each
// share it is given here is one it need not fetch from another member (read_path.cc). Shares, like in
// a share fetch, travel only between members over mutual TLS and are never logged.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/wire/share_fetch.h"

namespace etsecd::wire {

// The peer feature (transport Identity::features) of a leader that reads this method.
inline constexpr char kForwardedReadFeature[] = "forward.read_with_shares";
// The forwarded method. It starts with "api." so that a member which does not know it answers with the
// API's "unknown forwarded method" error instead of dropping it.
inline constexpr char kForwardedReadMethod[] = "api.KV.RangeWithShares";

struct GivenShare {
  ValueRef ref;
  std::string share;  // encoded share (etsecd/shamir/share_codec.h)
  friend bool operator==(const GivenShare&, const GivenShare&) = default;
};

struct ForwardedRead {
  std::string request;  // the client's etcdserverpb.RangeRequest, as it arrived
  std::vector<GivenShare> shares;
  friend bool operator==(const ForwardedRead&, const ForwardedRead&) = default;
};

std::string encode_forwarded_read(const ForwardedRead& read);
// Errors: wire.truncated, wire.bad_version, wire.trailing_bytes.
Result<ForwardedRead> decode_forwarded_read(std::span<const uint8_t> bytes);

}  // namespace etsecd::wire
