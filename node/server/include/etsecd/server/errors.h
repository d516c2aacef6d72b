#pragma once
// Errors of the member runtime that clients see, with etcd's texts where etcd clients match on them
// (clientv3 maps these strings back to typed errors and retries some of them).

#include <optional>

#include "etsecd/mvcc/errors.h"

namespace etsecd::server {

using mvcc::ErrorSpec;
using mvcc::GrpcCode;

// Unavailable, etcd ErrGRPCNoLeader.
inline constexpr ErrorSpec kNoLeader{"server.no_leader", "etcdserver: no leader", GrpcCode::kUnavailable};
// Unavailable, etcd ErrGRPCTimeout.
inline constexpr ErrorSpec kTimeout{"server.timeout", "etcdserver: request timed out",
                                    GrpcCode::kUnavailable};
// Unavailable, etcd ErrGRPCLeaderChanged: the proposal was dropped by a leader change; the client may retry.
inline constexpr ErrorSpec kLeaderChanged{"server.leader_changed", "etcdserver: leader changed",
                                          GrpcCode::kUnavailable};
// Unavailable, etcd ErrGRPCStopped.
inline constexpr ErrorSpec kStopped{"server.stopped", "etcdserver: server stopped", GrpcCode::kUnavailable};
// Unavailable. etsecd-specific: fewer than k members answered with a valid share of a value in time.
inline constexpr ErrorSpec kNotEnoughShares{"server.not_enough_shares",
                                            "etcdserver: not enough members answered to rebuild a value",
                                            GrpcCode::kUnavailable};
// Not for clients: this member is not the leader; the API adapter forwards the request to `leader`.
inline constexpr ErrorSpec kNotLeader{"server.not_leader", "etcdserver: not leader", GrpcCode::kUnavailable};

// --- Membership changes (Cluster and Maintenance.MoveLeader). Texts and codes are etcd's
// (api/v3rpc/rpctypes): clientv3 and etcdctl match on them.
// NotFound, etcd ErrGRPCMemberNotFound.
inline constexpr ErrorSpec kMemberNotFound{"cluster.member_not_found", "etcdserver: member not found",
                                           GrpcCode::kNotFound};
// FailedPrecondition, etcd ErrGRPCMemberExist.
inline constexpr ErrorSpec kMemberExists{"cluster.member_exists", "etcdserver: member ID already exist",
                                         GrpcCode::kFailedPrecondition};
// FailedPrecondition, etcd ErrGRPCPeerURLExist.
inline constexpr ErrorSpec kPeerUrlExists{"cluster.peer_url_exists", "etcdserver: Peer URLs already exists",
                                          GrpcCode::kFailedPrecondition};
// InvalidArgument, etcd ErrGRPCMemberBadURLs.
inline constexpr ErrorSpec kMemberBadUrls{"cluster.bad_urls", "etcdserver: given member URLs are invalid",
                                          GrpcCode::kInvalidArgument};
// FailedPrecondition, etcd ErrGRPCMemberNotLearner.
inline constexpr ErrorSpec kMemberNotLearner{
    "cluster.not_learner", "etcdserver: can only promote a learner member", GrpcCode::kFailedPrecondition};
// FailedPrecondition, etcd ErrGRPCLearnerNotReady: the learner does not yet hold every committed entry.
inline constexpr ErrorSpec kLearnerNotReady{
    "cluster.learner_not_ready", "etcdserver: can only promote a learner member which is in sync with leader",
    GrpcCode::kFailedPrecondition};
// FailedPrecondition, etcd ErrGRPCMemberNotEnoughStarted: the change would leave the cluster unable to
// commit (threshold above the voters, commit quorum out of range, the last voter, or committed values
// left with fewer than k holders among the voters). The detail says which.
inline constexpr ErrorSpec kNotEnoughStarted{
    "cluster.not_enough_started", "etcdserver: re-configuration failed due to not enough started members",
    GrpcCode::kFailedPrecondition};
// FailedPrecondition, etcd ErrGRPCBadLeaderTransferee (unknown member, or a learner).
inline constexpr ErrorSpec kBadLeaderTransferee{
    "cluster.bad_leader_transferee", "etcdserver: bad leader transferee", GrpcCode::kFailedPrecondition};
// FailedPrecondition. etsecd-specific: a voter add would make a member that holds no share count toward
// quorums at once, so members join as learners and are promoted once they hold every committed share.
inline constexpr ErrorSpec kVoterAddRefused{
    "cluster.voter_add_refused",
    "etcdserver: etsecd adds members only as learners: run 'etcdctl member add NAME --learner "
    "--peer-urls=URL', start the member, then 'etcdctl member promote ID' once it caught up",
    GrpcCode::kFailedPrecondition};
// FailedPrecondition. etsecd-specific: a joining member asked for its place before being added.
inline constexpr ErrorSpec kNotAdded{"cluster.not_added",
                                     "etcdserver: no member with this peer URL was added to the cluster; run "
                                     "'etcdctl member add NAME --learner --peer-urls=URL' first",
                                     GrpcCode::kFailedPrecondition};

// FailedPrecondition. etsecd-specific: a member asked for its place with an empty data directory, but the
// cluster already heard from the member with this peer URL, so its Raft state (votes, acknowledged
// entries) and its shares are lost: starting it empty would be unsafe. Answered to the joining member
// only; it refuses to start (exit status kExitMemberDataLost) until it was removed and added again.
inline constexpr ErrorSpec kMemberDataLost{"cluster.member_data_lost",
                                           "etcdserver: the member with this peer URL already ran in this "
                                           "cluster and its data directory is now empty",
                                           GrpcCode::kFailedPrecondition};
// The exit status of etsecd-node when it refused to start because of kMemberDataLost, so that an
// orchestrator (the operator reads the container's last exit code) can tell it from other failures.
inline constexpr int kExitMemberDataLost = 3;

// The gRPC code of a membership error above, if `error` is one.
inline std::optional<GrpcCode> cluster_grpc_code(const Error& error) {
  for (const ErrorSpec* spec : {&kMemberNotFound, &kMemberExists, &kPeerUrlExists, &kMemberBadUrls,
                                &kMemberNotLearner, &kLearnerNotReady, &kNotEnoughStarted,
                                &kBadLeaderTransferee, &kVoterAddRefused, &kNotAdded, &kMemberDataLost}) {
    if (mvcc::is(error, *spec)) return spec->grpc;
  }
  return std::nullopt;
}

}  // namespace etsecd::server
