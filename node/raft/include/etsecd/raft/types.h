#pragma once
// The data the Raft core exchanges with its host: log entries, hard state, messages and membership.
// Values never appear here in plaintext: an entry carries only the shares of the member that holds it.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace etsecd::raft {

using Bytes = std::vector<uint8_t>;
using MemberId = uint64_t;

inline constexpr MemberId kNoMember = 0;
inline constexpr uint64_t kNoIndex = std::numeric_limits<uint64_t>::max();

enum class EntryType : uint8_t {
  kNormal = 0,      // metadata from the layer above plus one share per value
  kNoOp = 1,        // appended by every new leader once its uncommitted suffix is resolved
  kConfChange = 2,  // metadata = encode_conf_change() (conf_change.h): plaintext, no values
};

// One log entry as stored by one member. `metadata` (keys, op type, ...) is plaintext and identical on
// every member; `shares` holds this member's encoded share of each value, in proposal order, so two
// members' copies of the same (index, term) differ exactly in `shares`.
struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  EntryType type = EntryType::kNormal;
  Bytes metadata;
  std::vector<Bytes> shares;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// What must be durable before any message of the same Ready is sent.
struct HardState {
  uint64_t term = 0;
  MemberId vote = kNoMember;
  uint64_t commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

struct Member {
  MemberId id = kNoMember;
  uint8_t x = 0;      // share index, 1..255, unique for the lifetime of the cluster, never reused
  bool voter = true;  // false: a learner (gets shares, never votes, counts toward no quorum)
  // Opaque to the core (the host's name and peer URLs): part of the replicated membership, so the host
  // knows every member's address after a restart. Empty for initial members (the host knows them).
  Bytes context{};  // (a default initializer, so Member{id, x, voter} stays warning-free)
  friend bool operator==(const Member&, const Member&) = default;
};

// The replicated configuration. `commit_quorum_override` = 0 means "use the default for the current
// voter count"; `max_x_used` lets later members get a share index nobody ever had (issue 4).
struct Membership {
  std::vector<Member> members;
  unsigned threshold = 0;
  unsigned commit_quorum_override = 0;
  uint8_t max_x_used = 0;
  friend bool operator==(const Membership&, const Membership&) = default;
};

// Where the log starts after compaction (issue 4: each member's snapshot holds only its own shares).
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  Membership membership;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

enum class MessageType : uint8_t {
  kPreVote,
  kPreVoteResp,
  kVote,
  kVoteResp,
  kAppend,      // index/log_term: previous entry; entries carry the recipient's shares only
  kAppendResp,  // accept: (index, log_term) now matches; reject: index = rejected prev index,
                // (reject_hint, log_term) = the member's best guess of a matching entry
  kHeartbeat,   // context: read-index context, if any
  kHeartbeatResp,
  kShareFetch,      // leader asks a holder for its shares of entries index..fetch_last
  kShareFetchResp,  // share_items: the holder's own shares, each tagged with (index, term);
                    // index: the holder's first stored index (it compacted everything before it)
  kShareRepair,     // leader sends a member a rebuilt share to replace one it reported corrupt
  kTimeoutNow,      // leadership transfer: the leader tells an up-to-date voter to campaign at once
};

// Context of the kVote (and kVoteResp) of a campaign started by kTimeoutNow: voters grant it even within
// their leader lease (CheckQuorum), because the current leader asked for it (as etcd's campaignTransfer).
inline constexpr char kCampaignTransferContext[] = "CampaignTransfer";

const char* to_string(MessageType type);

// The shares one member holds for one entry, tagged so the receiver can check log identity.
// `corrupt_values` lists value positions whose stored share failed its checksum (no bytes travel).
struct ShareItem {
  uint64_t index = 0;
  uint64_t term = 0;
  std::vector<Bytes> shares;  // empty entries for corrupt positions
  std::vector<uint32_t> corrupt_values;
  friend bool operator==(const ShareItem&, const ShareItem&) = default;
};

struct Message {
  MessageType type = MessageType::kHeartbeat;
  MemberId from = kNoMember;
  MemberId to = kNoMember;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;  // appended: the follower's best guess of a matching index
  uint64_t fetch_last = 0;
  std::vector<Entry> entries;
  std::vector<ShareItem> share_items;
  Bytes context;
  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace etsecd::raft
