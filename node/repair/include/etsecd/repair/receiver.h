#pragma once
// Share repair, the other members' side: a holder answers with its shares of listed records
// (serve_shares), and the member being repaired installs what the leader streams (Receiver).

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/store.h"

namespace etsecd::repair {

// repair.shares. Errors: repair.behind (this member has not applied the snapshot's index yet: ask
// another holder), mvcc errors, wire decode errors.
Result<std::string> serve_shares(const mvcc::Store& store, std::span<const uint8_t> body);

class Receiver {
 public:
  struct Hooks {
    // Called before the store publishes the snapshot: make the raft layer's snapshot meta durable (the
    // raft log then starts after point.applied_index). Must be idempotent (a finish may be retried).
    std::function<Status(const mvcc::SnapshotPoint&, const std::string& raft_snapshot)> install_raft;
    // Called after the store published it: the member may serve and apply again.
    std::function<void(const mvcc::SnapshotPoint&)> published;
  };
  Receiver(mvcc::Store& store, Hooks hooks) : store_(store), hooks_(std::move(hooks)) {}

  // repair.begin, repair.chunk, repair.finish. Errors: repair.unknown_method, mvcc.no_install (a chunk
  // or finish for a snapshot this member is not installing), mvcc errors, wire decode errors.
  Result<std::string> handle(const std::string& method, std::span<const uint8_t> body);

 private:
  mvcc::Store& store_;
  Hooks hooks_;
};

}  // namespace etsecd::repair
