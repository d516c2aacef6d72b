#pragma once
// Errors of the member runtime that clients see, with etcd's texts where etcd clients match on them
// (clientv3 maps these strings back to typed errors and retries some of them).

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

}  // namespace etsecd::server
