#include "etsecd/storage/rocks_backend.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/store.h"

using namespace etsecd;
using namespace etsecd::mvcc;
using etsecd::storage::RocksBackend;
using etsecd::storage::RocksOptions;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "etsecd-storage-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

std::unique_ptr<Store> open_store(const fs::path& dir, bool sync = true) {
  auto backend = RocksBackend::open(dir.string(), RocksOptions{sync, true});
  REQUIRE_MESSAGE(backend.ok(), (backend.ok() ? "" : backend.error().message));
  auto store = Store::open(std::move(backend).value());
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store).value();
}

Result<ApplyResult> put(Store& store, const std::string& key, const std::string& share) {
  PutOp p;
  p.key = key;
  p.value_slot = 0;
  std::vector<std::string> shares{share};
  return store.apply(store.applied_index() + 1, Operation{p}, shares);
}

std::vector<KeyValue> all(const Store& store, int64_t rev = 0) {
  RangeOp op;
  op.key = std::string(1, '\0');
  op.range_end = std::string(1, '\0');
  op.revision = rev;
  auto r = store.range(op);
  REQUIRE(r.ok());
  return r->kvs;
}

std::string read_all_files(const fs::path& dir) {
  std::string everything;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    FILE* f = std::fopen(entry.path().c_str(), "rb");
    REQUIRE(f != nullptr);
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) everything.append(buf, n);
    std::fclose(f);
  }
  return everything;
}

}  // namespace

TEST_CASE("record encodings round-trip and reject garbage") {
  RecordKey key{std::string("a\0b", 3), Revision{5, 2}};
  auto decoded_key = storage::decode_record_key(storage::encode_record_key(key));
  REQUIRE(decoded_key.ok());
  CHECK(decoded_key.value() == key);
  Record record{false, 3, 2, 0, std::string("\x00\xff", 2)};
  auto decoded = storage::decode_record(storage::encode_record(record));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == record);
  CHECK_FALSE(storage::decode_record("short").ok());
  CHECK_FALSE(storage::decode_record_key(std::string(25, '\xff')).ok());
  // One key's revisions sort by revision in RocksDB's bytewise order.
  CHECK(storage::encode_record_key({"k", {2, 0}}) < storage::encode_record_key({"k", {10, 0}}));
  CHECK(storage::encode_record_key({"k", {2, 1}}) < storage::encode_record_key({"k", {3, 0}}));
}

TEST_CASE("the store survives close and reopen with index, revisions and compaction rebuilt") {
  TempDir dir;
  {
    auto store = open_store(dir.path);
    REQUIRE(put(*store, "a", "a2").ok());
    REQUIRE(put(*store, "b", "b3").ok());
    REQUIRE(put(*store, "a", "a4").ok());
    REQUIRE(store->apply(store->applied_index() + 1, Operation{DeleteRangeOp{"b", "", false}}, {}).ok());
    REQUIRE(store->apply(store->applied_index() + 1, Operation{CompactOp{3, false}}, {}).ok());
    REQUIRE(store->apply_noop(store->applied_index() + 1).ok());
  }
  auto store = open_store(dir.path);
  CHECK(store->applied_index() == 6);
  CHECK(store->current_revision() == 5);
  CHECK(store->compact_revision() == 3);
  auto now = all(*store);
  REQUIRE(now.size() == 1);
  CHECK(now[0] == KeyValue{"a", 2, 4, 2, 0, "a4"});
  auto at3 = all(*store, 3);
  REQUIRE(at3.size() == 2);
  CHECK(at3[1].share == "b3");
  RangeOp old;
  old.key = "a";
  old.revision = 2;
  CHECK(is(store->range(old).error(), kCompacted));
  REQUIRE(put(*store, "c", "c6").ok());
  CHECK(store->current_revision() == 6);
}

TEST_CASE("member data holds exactly the given share bytes and never the value they came from") {
  TempDir dir;
  // Stand-in for the codec: what matters here is that the store persists what it is given, verbatim,
  // and has no path by which anything else (such as the value) could reach the disk.
  const std::string value = "PLAINTEXT-VALUE-7f3a9c";
  const std::string pad =
      "\x13\x57\x9b\xdf\x24\x68\xac\xe0\x31\x75\xb9\xfd\x42\x86\xca\x0e\x53\x97\xdb\x1f\x64\xa8";
  std::string share(value.size(), '\0');
  for (size_t i = 0; i < value.size(); ++i) share[i] = static_cast<char>(value[i] ^ pad[i]);
  {
    auto store = open_store(dir.path);
    REQUIRE(put(*store, "secret", share).ok());
  }
  {
    auto backend = RocksBackend::open(dir.path.string());
    REQUIRE(backend.ok());
    int records = 0;
    REQUIRE(backend.value()
                ->scan([&](const RecordKey& key, const Record& record) {
                  ++records;
                  CHECK(key.key == "secret");
                  CHECK(record.share == share);
                  return Status::Ok();
                })
                .ok());
    CHECK(records == 1);
  }
  std::string disk = read_all_files(dir.path);
  CHECK(disk.find(value) == std::string::npos);
  CHECK(disk.find(share) != std::string::npos);  // stored uncompressed, byte for byte
}

TEST_CASE("a kill -9 at any moment leaves the applied index and the data in step") {
  TempDir dir;
  std::mt19937 rng(7);
  uint64_t previous = 0;
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Writer: every entry i puts key "k<i>" with share "s<i>", one synced batch each, until killed.
      // It reports once it has applied something, so the kill lands mid-stream even on a loaded machine.
      close(ready[0]);
      auto backend = RocksBackend::open(dir.path.string());
      if (!backend.ok()) _exit(2);
      auto store = Store::open(std::move(backend).value());
      if (!store.ok()) _exit(3);
      for (uint64_t n = 0;; ++n) {
        uint64_t i = store.value()->applied_index() + 1;
        PutOp p;
        p.key = "k" + std::to_string(i);
        p.value_slot = 0;
        std::vector<std::string> shares{"s" + std::to_string(i)};
        if (!store.value()->apply(i, Operation{p}, shares).ok()) _exit(4);
        if (n == 0 && write(ready[1], "r", 1) != 1) _exit(5);
      }
    }
    close(ready[1]);
    char byte = 0;
    REQUIRE(read(ready[0], &byte, 1) == 1);
    close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    auto store = open_store(dir.path);
    uint64_t applied = store->applied_index();
    CHECK(applied > previous);  // every round applied (and synced) at least one entry before the kill
    previous = applied;
    CHECK(store->current_revision() == static_cast<int64_t>(applied) + 1);
    auto kvs = all(*store);
    CHECK(kvs.size() == applied);
    for (const auto& kv : kvs) {
      uint64_t i = std::stoull(kv.key.substr(1));
      CHECK(i <= applied);
      CHECK(kv.share == "s" + std::to_string(i));
      CHECK(kv.mod_revision == static_cast<int64_t>(i) + 1);
    }
  }
}

TEST_CASE("without per-batch fsync, sync() reports the durable applied index") {
  TempDir dir;
  {
    auto store = open_store(dir.path, /*sync=*/false);
    for (int i = 0; i < 20; ++i) REQUIRE(put(*store, "k" + std::to_string(i), "s").ok());
    auto durable = store->sync();
    REQUIRE(durable.ok());
    CHECK(durable.value() == 20);
  }
  auto store = open_store(dir.path);
  CHECK(store->applied_index() == 20);
  CHECK(all(*store).size() == 20);
}

TEST_CASE("a directory that is not an MVCC store is refused with a clear error") {
  TempDir dir;
  auto missing = RocksBackend::open((dir.path / "absent").string(), RocksOptions{true, false});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "storage.open");
}

TEST_CASE("a snapshot install interrupted by a restart resumes after its persisted cursor") {
  TempDir dir;
  const SnapshotPoint target{40, 30, 5};
  auto record = [](int i) {
    return std::pair<RecordKey, Record>{RecordKey{"k" + std::to_string(100 + i), {6 + i, 0}},
                                        Record{false, 6 + i, 1, 0, "share-" + std::to_string(i)}};
  };
  {
    auto store = open_store(dir.path);
    REQUIRE(put(*store, "old", "old-share").ok());  // wiped by the install
    REQUIRE(store->begin_install(7, target).ok());
    REQUIRE(store->install_chunk({record(0), record(1)}).ok());
    REQUIRE(store->install_chunk({record(2)}).ok());
  }
  {
    auto store = open_store(dir.path);
    const InstallState st = store->install_state();
    CHECK(st.active);
    CHECK(st.source == 7);
    CHECK(st.target == target);
    CHECK(st.started);
    CHECK(st.cursor == record(2).first);
    RangeOp op;
    op.key = "k100";
    CHECK(store->range(op).error().code == "mvcc.repairing");
    REQUIRE(store->install_chunk({record(3), record(4)}).ok());
    REQUIRE(store->finish_install().ok());
  }
  auto store = open_store(dir.path);
  CHECK_FALSE(store->install_state().active);
  CHECK(store->applied_index() == 40);
  CHECK(store->current_revision() == 30);
  CHECK(store->compact_revision() == 5);
  auto kvs = all(*store);
  REQUIRE(kvs.size() == 5);
  CHECK(kvs[0].key == "k100");
  CHECK(kvs[4].share == "share-4");
}

namespace {
// Scans every record; one key's revisions must come in order.
std::map<RecordKey, Record> scan_all(RocksBackend& backend) {
  std::map<RecordKey, Record> scanned;
  std::map<std::string, int64_t> last_rev;
  REQUIRE(backend
              .scan([&](const RecordKey& rk, const Record& r) {
                CHECK(rk.rev.main > last_rev[rk.key]);
                last_rev[rk.key] = rk.rev.main;
                scanned[rk] = r;
                return Status::Ok();
              })
              .ok());
  return scanned;
}
}  // namespace

TEST_CASE("every record comes back by scan and by point reads, across keys that prefix each other") {
  // The kv family's memtable is hashed on the user key: scans must still see every record, and one
  // key's revisions in order, whether the records sit in the memtable or were recovered from the WAL.
  TempDir dir;
  std::map<RecordKey, Record> written;
  const std::vector<std::string> keys{"a", "ab", "abc", std::string("a\0", 2), std::string(300, 'k'), "z"};
  {
    auto backend = RocksBackend::open(dir.path.string(), RocksOptions{false, true});
    REQUIRE(backend.ok());
    int64_t rev = 1;
    for (int round = 0; round < 3; ++round) {
      WriteSet ws;
      for (const auto& k : keys) {
        RecordKey rk{k, Revision{rev++, 0}};
        Record r{false, 1, round + 1, 0, k + "#" + std::to_string(round)};
        ws.puts.emplace_back(rk, r);
        written[rk] = r;
      }
      ws.meta.applied_index = static_cast<uint64_t>(round + 1);
      REQUIRE((*backend)->commit(ws).ok());
    }
    for (const auto& [rk, r] : written) {
      auto share = (*backend)->read_share(rk);
      REQUIRE(share.ok());
      CHECK(*share == r.share);
    }
    CHECK(is((*backend)->read_share(RecordKey{"ab", Revision{1, 0}}).error(), kCorrupt));
    CHECK(scan_all(**backend) == written);  // from the memtable
    REQUIRE((*backend)->sync().ok());
  }
  auto backend = RocksBackend::open(dir.path.string(), RocksOptions{false, true});
  REQUIRE(backend.ok());
  CHECK(scan_all(**backend) == written);  // from the files RocksDB flushed when it reopened
  std::vector<RecordKey> wanted;
  for (const auto& [rk, r] : written) wanted.push_back(rk);
  auto shares = (*backend)->read_shares(wanted);
  REQUIRE(shares.ok());
  REQUIRE(shares->size() == wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) CHECK((*shares)[i] == written[wanted[i]].share);
}
