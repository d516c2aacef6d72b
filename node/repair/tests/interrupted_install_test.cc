// Crash consistency of share repair's finish, at the storage level: the new member's store and raft log
// are real RocksDB databases that are closed and reopened between the finish's steps (what a kill -9
// there leaves: every write made so far, none after), then the member's start-up path runs
// (finish_interrupted_install, then the raft core built from the log) and must give a consistent
// member: the store published at the snapshot the log starts after, or an install left for the leader
// to resume. Never a core that believes A is applied beside a store still installing it.

#include "etsecd/repair/interrupted_install.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/raft/node.h"
#include "etsecd/raft/secret_sharer.h"
#include "etsecd/raftlog/rocks_raft_log.h"
#include "etsecd/repair/receiver.h"
#include "etsecd/repair/session.h"
#include "etsecd/shamir/random.h"
#include "etsecd/storage/rocks_backend.h"
#include "fixture.h"

using namespace etsecd;
using namespace etsecd::repair;
using etsecd::repair::testing::all_records;
using etsecd::repair::testing::Fixture;
using etsecd::repair::testing::store_of;
namespace fs = std::filesystem;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

enum class CrashAt { kNone, kThirdChunk, kAfterRaftLog, kAfterStoreFinish };

raft::Membership membership() {
  raft::Membership m;
  for (uint8_t x = 1; x <= 5; ++x) m.members.push_back(raft::Member{x, x, true});
  m.members.push_back(raft::Member{6, 6, false});
  m.threshold = 3;
  m.max_x_used = 6;
  return m;
}

// The new member's data directory: raft log and KV store, both RocksDB, as the member opens them.
struct Disk {
  fs::path dir;
  std::unique_ptr<raftlog::RocksRaftLog> log;
  std::unique_ptr<mvcc::Store> store;

  Disk() {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("etsecd-interrupted-install-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    open();
  }
  ~Disk() {
    close();
    fs::remove_all(dir);
  }
  void open() {
    auto l = raftlog::RocksRaftLog::open((dir / "raft").string());
    REQUIRE_MESSAGE(l.ok(), (l.ok() ? "" : l.error().message));
    log = std::move(*l);
    storage::RocksOptions o;
    o.sync = false;  // as the member runs it
    auto backend = storage::RocksBackend::open((dir / "kv").string(), o);
    REQUIRE(backend.ok());
    auto s = mvcc::Store::open(std::move(*backend));
    REQUIRE(s.ok());
    store = std::move(*s);
  }
  void close() {
    store.reset();
    log.reset();
  }
};

struct World {
  Fixture f = Fixture::make(80, 3, 64, 5, 3, 6);
  std::map<uint64_t, std::unique_ptr<mvcc::Store>> holders;
  Disk disk;
  CrashAt crash_at = CrashAt::kNone;
  int chunks = 0;

  World() {
    for (uint8_t x = 1; x <= 5; ++x) holders[x] = store_of(f, x);
  }

  // One repair stream from holder 1 to the new member; the member's finish stops where crash_at says.
  Result<SessionStats> repair(std::optional<ResumePoint> resume = std::nullopt,
                              std::optional<ResumePoint>* fixed = nullptr) {
    Receiver::Hooks hooks;
    hooks.install_raft = [this](const mvcc::SnapshotPoint&, const std::string& raw) -> Status {
      auto meta = raftlog::decode_snapshot_meta(raw);
      if (!meta) return meta.error();
      if (Status s = disk.log->install_snapshot(*meta); !s) return s;
      if (crash_at == CrashAt::kAfterRaftLog) return make_error("test.crash", "crash before finish_install");
      return Status::Ok();
    };
    Receiver receiver(*disk.store, hooks);
    SessionPlan plan;
    plan.self_x = 1;
    plan.threshold = 3;
    plan.holders = {{2, 2}, {3, 3}, {4, 4}};
    plan.target = Peer{6, 6};
    plan.source = 41;
    plan.resume = resume;
    plan.fixed = [fixed](const ResumePoint& p, const std::string&) {
      if (fixed != nullptr) *fixed = p;
    };
    plan.raft_snapshot = [](const mvcc::SnapshotPoint& p) -> Result<std::string> {
      return raftlog::encode_snapshot_meta(raft::SnapshotMeta{p.applied_index, 2, membership()});
    };
    CallFn call = [&](uint64_t id, const std::string& method,
                      const std::string& body) -> Result<std::string> {
      if (id != 6) return serve_shares(*holders.at(id), bytes_of(body));
      if (method == "repair.chunk" && crash_at == CrashAt::kThirdChunk && ++chunks == 3) {
        return make_error("test.crash", "crash before the third chunk");
      }
      return receiver.handle(method, bytes_of(body));
    };
    SessionOptions o;
    o.max_records = 40;
    return run_session(*holders[1], plan, call, o);
  }

  // The member's start-up after the crash: reopen both databases, complete an interrupted finish, build
  // the raft core from the log with the store's applied index.
  std::unique_ptr<raft::Node> restart(Result<bool>* finished) {
    disk.close();
    disk.open();
    *finished = finish_interrupted_install(*disk.store, disk.log->snapshot_meta().index);
    raft::Config cfg;
    cfg.id = 6;
    cfg.self_x = 6;
    cfg.initial_membership = membership();
    cfg.applied = disk.store->applied_index();
    auto node = raft::Node::create(cfg, *disk.log, *sharer, *rng);
    REQUIRE_MESSAGE(node.ok(), (node.ok() ? "" : node.error().message));
    return std::move(*node);
  }

  std::unique_ptr<raft::SecretSharer> sharer = raft::make_shamir_secret_sharer();
  std::unique_ptr<shamir::RandomSource> rng = shamir::make_deterministic(9);
};

}  // namespace

TEST_CASE(
    "a crash between the raft log's install_snapshot and the store's finish_install is completed on start") {
  World w;
  w.crash_at = CrashAt::kAfterRaftLog;
  REQUIRE_FALSE(w.repair().ok());
  CHECK(w.disk.store->installing());
  CHECK(w.disk.log->snapshot_meta().index == w.f.point.applied_index);

  Result<bool> finished = false;
  auto node = w.restart(&finished);
  REQUIRE(finished.ok());
  CHECK(*finished);
  CHECK_FALSE(w.disk.store->installing());
  CHECK(w.disk.store->snapshot_point() == w.f.point);
  CHECK(all_records(*w.disk.store) == w.f.by_x[6]);
  // The core and the store agree on what is applied: entries after A will be applied, none dropped.
  CHECK(node->status().applied == w.disk.store->applied_index());
  CHECK(node->status().commit == w.f.point.applied_index);

  // A second start finds nothing to do.
  node.reset();
  auto again = w.restart(&finished);
  REQUIRE(finished.ok());
  CHECK_FALSE(*finished);
  CHECK(w.disk.store->snapshot_point() == w.f.point);
}

TEST_CASE("a crash between finish_install and the core's restore needs nothing: both start at the snapshot") {
  World w;
  REQUIRE(w.repair().ok());  // the receiver's finish ran install_raft and finish_install; restore is memory
  Result<bool> finished = false;
  auto node = w.restart(&finished);
  REQUIRE(finished.ok());
  CHECK_FALSE(*finished);
  CHECK_FALSE(w.disk.store->installing());
  CHECK(w.disk.store->snapshot_point() == w.f.point);
  CHECK(all_records(*w.disk.store) == w.f.by_x[6]);
  CHECK(node->status().applied == w.f.point.applied_index);
  CHECK(node->status().commit == w.f.point.applied_index);
}

TEST_CASE("a crash before the finish leaves the install for the leader to resume, never half published") {
  World w;
  w.crash_at = CrashAt::kThirdChunk;
  std::optional<ResumePoint> fixed;
  REQUIRE_FALSE(w.repair(std::nullopt, &fixed).ok());
  Result<bool> finished = true;
  auto node = w.restart(&finished);
  REQUIRE(finished.ok());
  CHECK_FALSE(*finished);
  CHECK(w.disk.store->installing());  // serves nothing: mvcc.repairing
  CHECK(w.disk.store->install_state().started);
  CHECK(w.disk.log->snapshot_meta().index == 0);
  CHECK(node->status().applied == 0);

  // The leader's retry resumes after the persisted cursor and publishes the whole snapshot.
  w.crash_at = CrashAt::kNone;
  auto resumed = w.repair(fixed);
  REQUIRE_MESSAGE(resumed.ok(), (resumed.ok() ? "" : resumed.error().message));
  CHECK(resumed->resumed);
  CHECK(resumed->chunks == (w.f.by_x[6].size() + 39) / 40 - 2);
  CHECK(all_records(*w.disk.store) == w.f.by_x[6]);
  CHECK(w.disk.store->snapshot_point() == w.f.point);
}

TEST_CASE("an install whose log starts elsewhere is not finished on start") {
  World w;
  w.crash_at = CrashAt::kThirdChunk;
  REQUIRE_FALSE(w.repair().ok());
  // The log starting after another index (its own compaction) says nothing about this install.
  REQUIRE(
      w.disk.log->install_snapshot(raft::SnapshotMeta{w.f.point.applied_index - 1, 2, membership()}).ok());
  Result<bool> finished = true;
  auto node = w.restart(&finished);
  REQUIRE(finished.ok());
  CHECK_FALSE(*finished);
  CHECK(w.disk.store->installing());
}
