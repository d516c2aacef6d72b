#include "etsecd/raftlog/rocks_raft_log.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <random>

using namespace etsecd;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("etsecd-raftlog-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
};

raft::Entry entry(uint64_t index, uint64_t term, uint8_t fill = 1) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.metadata = {static_cast<uint8_t>(index), fill};
  e.shares = {raft::Bytes(10, fill), raft::Bytes(3, static_cast<uint8_t>(fill + 1))};
  return e;
}

std::unique_ptr<raftlog::RocksRaftLog> open(const TempDir& d) {
  auto log = raftlog::RocksRaftLog::open(d.path.string());
  REQUIRE_MESSAGE(log.ok(), (log.ok() ? "" : log.error().message));
  return std::move(log.value());
}

}  // namespace

TEST_CASE("appends, suffix replacement and reopening keep the log exact") {
  TempDir d;
  {
    auto log = open(d);
    CHECK(log->empty());
    CHECK(log->first_index() == 1);
    CHECK(log->last_index() == 0);
    REQUIRE(log->persist(raft::HardState{1, 2, 0}, {entry(1, 1), entry(2, 1), entry(3, 1)}, {}).ok());
    // A new leader's entries replace the suffix from index 2.
    REQUIRE(log->persist(raft::HardState{2, 3, 1}, {entry(2, 2, 7)}, {}).ok());
    CHECK(log->last_index() == 2);
    CHECK(*log->term(2) == 2);
  }
  auto log = open(d);
  CHECK_FALSE(log->empty());
  CHECK(log->hard_state() == raft::HardState{2, 3, 1});
  CHECK(log->last_index() == 2);
  auto es = log->entries(1, 3, 1 << 20);
  REQUIRE(es.ok());
  REQUIRE(es->size() == 2);
  CHECK((*es)[0] == entry(1, 1));
  CHECK((*es)[1] == entry(2, 2, 7));
  CHECK(log->term(3).error().code == "raft.unavailable");
  CHECK(log->entries(2, 4, 100).error().code == "raft.unavailable");
}

TEST_CASE("gaps are refused and byte limits return at least one entry") {
  TempDir d;
  auto log = open(d);
  REQUIRE(log->persist(std::nullopt, {entry(1, 1), entry(2, 1)}, {}).ok());
  auto gap = log->persist(std::nullopt, {entry(5, 1)}, {});
  REQUIRE_FALSE(gap.ok());
  CHECK(gap.error().code == "raftlog.log_gap");
  auto one = log->entries(1, 3, 1);
  REQUIRE(one.ok());
  CHECK(one->size() == 1);
}

TEST_CASE("share repairs overwrite one share of one entry") {
  TempDir d;
  auto log = open(d);
  REQUIRE(log->persist(std::nullopt, {entry(1, 1), entry(2, 1)}, {}).ok());
  REQUIRE(log->persist(std::nullopt, {}, {raft::ShareRepair{2, 1, 1, raft::Bytes{9, 9}}}).ok());
  auto e = log->entries(2, 3, 1 << 20);
  REQUIRE(e.ok());
  CHECK((*e)[0].shares[1] == raft::Bytes{9, 9});
  CHECK((*e)[0].shares[0] == raft::Bytes(10, 1));
  CHECK_FALSE(log->persist(std::nullopt, {}, {raft::ShareRepair{2, 5, 0, {1}}}).ok());  // wrong term
}

TEST_CASE("compaction keeps the snapshot term and membership across reopen") {
  TempDir d;
  raft::Membership m{{{1, 1, true, {}}, {2, 2, true, {}}, {3, 3, true, {}}}, 2, 0, 3};
  {
    auto log = open(d);
    std::vector<raft::Entry> es;
    for (uint64_t i = 1; i <= 10; ++i) es.push_back(entry(i, i < 5 ? 1 : 2));
    REQUIRE(log->persist(raft::HardState{2, 1, 10}, es, {}).ok());
    REQUIRE(log->compact(6, m).ok());
    CHECK(log->first_index() == 7);
    CHECK(*log->term(6) == 2);
    CHECK(log->term(5).error().code == "raft.compacted");
    CHECK(log->entries(6, 8, 1 << 20).error().code == "raft.compacted");
  }
  auto log = open(d);
  CHECK(log->first_index() == 7);
  CHECK(log->last_index() == 10);
  CHECK(log->snapshot_meta().membership == m);
  CHECK(log->snapshot_meta().term == 2);
  auto es = log->entries(7, 11, 1 << 20);
  REQUIRE(es.ok());
  CHECK(es->size() == 4);
}

TEST_CASE("installing a repair snapshot drops every entry, keeps term and vote, and survives reopen") {
  TempDir d;
  raft::Membership m{{{1, 1, true, {}}, {2, 2, true, {}}, {4, 4, false, {}}}, 2, 0, 3};
  raft::SnapshotMeta meta{500, 3, m};
  {
    auto log = open(d);
    std::vector<raft::Entry> es;
    for (uint64_t i = 1; i <= 20; ++i) es.push_back(entry(i, 1));
    REQUIRE(log->persist(raft::HardState{3, 2, 15}, es, {}).ok());
    REQUIRE(log->install_snapshot(meta).ok());
    CHECK(log->first_index() == 501);
    CHECK(log->last_index() == 500);
    CHECK(*log->term(500) == 3);
    CHECK(log->entries(20, 21, 1 << 20).error().code == "raft.compacted");
    CHECK(log->hard_state().commit == 500);
    // The log continues right after the snapshot; an append before it is refused.
    REQUIRE(log->persist(std::nullopt, {entry(501, 3)}, {}).ok());
    CHECK(log->persist(std::nullopt, {entry(500, 3)}, {}).error().code == "raftlog.compacted");
    // A retried install (a repeated repair finish) changes nothing: entries appended since then stay.
    REQUIRE(log->install_snapshot(meta).ok());
    CHECK(log->last_index() == 501);
    REQUIRE(log->persist(std::nullopt, {entry(501, 3, 7)}, {}).ok());
  }
  auto log = open(d);
  CHECK(log->first_index() == 501);
  CHECK(log->last_index() == 501);
  CHECK(log->snapshot_meta().membership == m);
  CHECK(log->hard_state().term == 3);
  CHECK(log->hard_state().vote == 2);
  CHECK(log->hard_state().commit == 500);
  auto es = log->entries(501, 502, 1 << 20);
  REQUIRE(es.ok());
  CHECK(es->front().shares[0] == raft::Bytes(10, 7));
}

TEST_CASE("reads without a reopen (served from recent entries) match reads after one") {
  TempDir d;
  std::vector<raft::Entry> expect;
  {
    auto log = open(d);
    std::vector<raft::Entry> es;
    for (uint64_t i = 1; i <= 5000; ++i) es.push_back(entry(i, 1, static_cast<uint8_t>(i)));
    REQUIRE(log->persist(raft::HardState{1, 1, 0}, es, {}).ok());
    // Beyond what is kept in memory: the oldest entries still come back, now from RocksDB.
    auto old = log->entries(1, 3, 1 << 20);
    REQUIRE(old.ok());
    CHECK((*old)[1] == entry(2, 1, 2));
    REQUIRE(log->persist(raft::HardState{2, 1, 0},
                         {entry(4999, 2, 50), entry(5000, 2, 51), entry(5001, 2, 52)}, {})
                .ok());
    REQUIRE(log->persist(raft::HardState{3, 1, 0}, {entry(5000, 3, 60)}, {}).ok());
    REQUIRE(log->persist(std::nullopt, {}, {raft::ShareRepair{4999, 2, 0, raft::Bytes{7, 7, 7}}}).ok());
    REQUIRE(log->compact(4990, raft::Membership{{{1, 1, true}}, 1, 0, 1}).ok());
    CHECK(log->entries(4990, 4992, 1 << 20).error().code == "raft.compacted");
    auto one = log->entries(4991, 5001, 1);
    REQUIRE(one.ok());
    CHECK(one->size() == 1);
    auto hot = log->entries(4991, 5001, 1 << 20);
    REQUIRE(hot.ok());
    REQUIRE(hot->size() == 10);
    CHECK(hot->back() == entry(5000, 3, 60));
    CHECK((*hot)[8].shares[0] == raft::Bytes{7, 7, 7});
    CHECK((*hot)[8].term == 2);
    expect = std::move(*hot);
  }
  auto log = open(d);
  auto cold = log->entries(4991, 5001, 1 << 20);
  REQUIRE(cold.ok());
  CHECK(*cold == expect);
}

TEST_CASE("only entries, repairs, term and vote are fsynced; a commit-only hard state is written without") {
  const raft::HardState stored{3, 2, 10};
  CHECK(raftlog::need_sync(std::nullopt, {entry(11, 3)}, {}, stored));
  CHECK(raftlog::need_sync(std::nullopt, {}, {raft::ShareRepair{5, 3, 0, {1}}}, stored));
  CHECK(raftlog::need_sync(raft::HardState{4, 0, 10}, {}, {}, stored));
  CHECK(raftlog::need_sync(raft::HardState{3, 1, 10}, {}, {}, stored));
  CHECK(raftlog::need_sync(raft::HardState{3, 2, 12}, {entry(11, 3)}, {}, stored));
  CHECK_FALSE(raftlog::need_sync(raft::HardState{3, 2, 12}, {}, {}, stored));
  CHECK_FALSE(raftlog::need_sync(std::nullopt, {}, {}, stored));

  TempDir d;
  {
    auto log = open(d);
    REQUIRE(log->persist(raft::HardState{3, 2, 0}, {entry(1, 3), entry(2, 3)}, {}).ok());
    REQUIRE(log->persist(raft::HardState{3, 2, 2}, {}, {}).ok());
    CHECK(log->hard_state() == raft::HardState{3, 2, 2});
  }
  CHECK(open(d)->hard_state() == raft::HardState{3, 2, 2});  // written, just not flushed to the disk
}

TEST_CASE("an unopenable directory gives a clear error") {
  auto log = raftlog::RocksRaftLog::open("/proc/etsecd-cannot-create-here");
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == "raftlog.open");
}
