#pragma once
// What a member started with --initial-cluster-state=existing learns from the cluster when it joins:
// the cluster's identity and settings, its bootstrap (initial) membership, from which it replays the log
// from index 1, and its own id and share index. Sent by a member in answer to a join request, and kept
// in the joiner's data directory (join.state) so a restart does not ask again. No value or share here.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"
#include "etsecd/server/member.h"

namespace etsecd::server {

struct JoinInfo {
  uint64_t cluster_id = 0;
  std::string fingerprint;                // the cluster's settings fingerprint (hex)
  raft::Membership bootstrap;             // the initial membership, as every initial member started
  std::vector<PeerSpec> bootstrap_peers;  // name and peer URL of bootstrap.members[i]
  uint64_t self_id = 0;
  uint8_t self_x = 0;
};

std::string encode_join_info(const JoinInfo& info);
// Errors: server.bad_join_state (not this encoding; the message says which line).
Result<JoinInfo> decode_join_info(const std::string& text);

// Left in a removed member's data directory by wipe_shares(); start() refuses a directory holding it.
inline constexpr char kRemovedTombstone[] = "removed";

// The file in a data directory. Written atomically (temporary file, fsync, rename).
std::string join_state_path(const std::string& data_dir);
Status write_join_state(const std::string& data_dir, const JoinInfo& info);
// Errors: server.bad_join_state; Ok with nullopt-like empty result is not used: callers check existence.
Result<JoinInfo> read_join_state(const std::string& data_dir);

// The ids of every member this member ever received a Raft message or a peer call from ("peers.heard",
// one decimal id a line). A member that sent anything had durable Raft state (votes, acknowledged
// entries) and shares; if it later asks to join with an empty data directory, that state is lost, and
// the answer says so instead of letting it start empty (docs/operations.md, "How a member starts").
std::string heard_peers_path(const std::string& data_dir);
// A missing file is an empty set (a data directory from before the file existed).
Result<std::set<uint64_t>> read_heard_peers(const std::string& data_dir);
// Written atomically (temporary file, fsync, rename).
Status write_heard_peers(const std::string& data_dir, const std::set<uint64_t>& ids);

}  // namespace etsecd::server
