#pragma once
// The member-to-member share fetch behind every read: "send me your share of value (key, mod_revision)
// for each of these". The answer carries the responder's Raft term and leader, so when the leader
// fetches shares for a linearizable read, the same round trip confirms its leadership (ReadIndex).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::wire {

inline constexpr char kShareFetchMethod[] = "shares.get";
// Announced in Hello by members that serve share fetches sent as frames on the Raft stream (like
// forwarded requests) instead of one peer call each.
inline constexpr char kShareFetchFramesFeature[] = "share_fetch.frames";

struct ValueRef {
  std::string key;
  int64_t mod_revision = 0;
  friend bool operator==(const ValueRef&, const ValueRef&) = default;
  friend auto operator<=>(const ValueRef&, const ValueRef&) = default;
};

struct ShareFetchRequest {
  uint64_t term = 0;         // the asker's term when it is the leader serving a linearizable read, else 0
  std::string read_context;  // identifies the read for the leadership acknowledgement
  uint64_t min_applied = 0;  // answer only once this raft index is applied (the revision exists)
  std::vector<ValueRef> refs;
  friend bool operator==(const ShareFetchRequest&, const ShareFetchRequest&) = default;
};

enum class ShareStatus : uint8_t {
  kOk = 0,
  kNotFound = 1,    // no such put (should not happen for a committed revision)
  kCompacted = 2,   // the revision is compacted on this member
  kCorrupt = 3,     // this member's stored share failed its checksum; no bytes travel
  kNotApplied = 4,  // min_applied was not reached in time
};

struct ShareFetchItem {
  ShareStatus status = ShareStatus::kOk;
  std::string share;  // encoded share (etsecd/shamir/share_codec.h) when kOk
  friend bool operator==(const ShareFetchItem&, const ShareFetchItem&) = default;
};

struct ShareFetchResponse {
  uint64_t term = 0;    // responder's current term
  uint64_t leader = 0;  // responder's current leader (0: none known)
  uint64_t applied = 0;
  std::vector<ShareFetchItem> items;  // one per request ref, same order
  friend bool operator==(const ShareFetchResponse&, const ShareFetchResponse&) = default;
};

std::string encode_share_fetch_request(const ShareFetchRequest& request);
// Errors: wire.truncated, wire.bad_version, wire.trailing_bytes.
Result<ShareFetchRequest> decode_share_fetch_request(std::span<const uint8_t> bytes);

std::string encode_share_fetch_response(const ShareFetchResponse& response);
Result<ShareFetchResponse> decode_share_fetch_response(std::span<const uint8_t> bytes);

}  // namespace etsecd::wire
