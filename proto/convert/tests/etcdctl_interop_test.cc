// Real etcdctl (Debian etcd-client, API v3) against our protos, conversion and error texts. The server
// here is a test fixture, not the product: one member whose "shares" are the whole values (k = 1), so
// the wire layer can be checked end to end without the replication layer. The node's own gRPC server
// is built on the same pieces.

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/mvcc/value_compare.h"
#include "etsecd/proto/kv_convert.h"

using namespace etsecd;
namespace pb = etcdserverpb;

namespace {

std::vector<std::string> values_of(const std::vector<const mvcc::KeyValue*>& kvs) {
  std::vector<std::string> out;
  for (const auto* kv : kvs) out.push_back(kv->share);
  return out;
}

class OneMemberKv final : public pb::KV::Service {
 public:
  grpc::Status Range(grpc::ServerContext*, const pb::RangeRequest* req, pb::RangeResponse* resp) override {
    if (Status s = mvcc::check_request_size(req->ByteSizeLong()); !s) return proto::to_grpc_status(s.error());
    auto result = store_->range(proto::to_range_op(*req));
    if (!result) return proto::to_grpc_status(result.error());
    return done(
        proto::fill_range_response(*result, values_of(proto::kvs_needing_values(*result)), header_, resp));
  }
  grpc::Status Put(grpc::ServerContext*, const pb::PutRequest* req, pb::PutResponse* resp) override {
    auto applied = propose(req->ByteSizeLong(), proto::from_put(*req));
    if (!applied) return proto::to_grpc_status(applied.error());
    return done(
        proto::fill_put_response(*applied, values_of(proto::kvs_needing_values(*applied)), header_, resp));
  }
  grpc::Status DeleteRange(grpc::ServerContext*, const pb::DeleteRangeRequest* req,
                           pb::DeleteRangeResponse* resp) override {
    auto applied = propose(req->ByteSizeLong(), proto::from_delete_range(*req));
    if (!applied) return proto::to_grpc_status(applied.error());
    return done(proto::fill_delete_range_response(*applied, values_of(proto::kvs_needing_values(*applied)),
                                                  header_, resp));
  }
  grpc::Status Txn(grpc::ServerContext*, const pb::TxnRequest* req, pb::TxnResponse* resp) override {
    auto applied = propose(req->ByteSizeLong(), proto::from_txn(*req));
    if (!applied) return proto::to_grpc_status(applied.error());
    return done(
        proto::fill_txn_response(*applied, values_of(proto::kvs_needing_values(*applied)), header_, resp));
  }
  grpc::Status Compact(grpc::ServerContext*, const pb::CompactionRequest* req,
                       pb::CompactionResponse* resp) override {
    auto applied = propose(req->ByteSizeLong(), proto::from_compaction(*req));
    if (!applied) return proto::to_grpc_status(applied.error());
    return done(proto::fill_compaction_response(*applied, header_, resp));
  }

 private:
  static grpc::Status done(const Status& s) {
    return s ? grpc::Status::OK : proto::to_grpc_status(s.error());
  }

  Result<mvcc::ApplyResult> propose(size_t request_bytes, Result<proto::ProposedRequest> proposed) {
    if (Status s = mvcc::check_request_size(request_bytes); !s) return s.error();
    if (!proposed) return proposed.error();
    if (Status s = mvcc::validate_operation(proposed->op); !s) return s.error();
    std::lock_guard lock(mu_);  // one "raft log": entries applied one at a time, in order
    auto reader = [this](std::string_view key,
                         std::string_view end) -> Result<std::vector<mvcc::ObservedValue>> {
      mvcc::RangeOp op;
      op.key = std::string(key);
      op.range_end = std::string(end);
      auto r = store_->range(op);
      if (!r) return r.error();
      std::vector<mvcc::ObservedValue> out;
      for (const auto& kv : r->kvs) out.push_back({{kv.key, kv.mod_revision}, kv.share});
      return out;
    };
    if (Status s = mvcc::decide_value_compares(proposed->op, proposed->compare_operands, reader); !s) {
      return s.error();
    }
    return store_->apply(store_->applied_index() + 1, proposed->op, proposed->values);
  }

  std::mutex mu_;
  std::unique_ptr<mvcc::Store> store_ = mvcc::Store::open(std::make_unique<mvcc::MemoryBackend>()).value();
  proto::HeaderFields header_{0x1234, 0x42, 1};
};

struct Server {
  OneMemberKv service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  Server() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    REQUIRE(port > 0);
  }
  ~Server() { server->Shutdown(); }
};

// Runs etcdctl with the given arguments (shell-quoted by the caller) and returns stdout+stderr.
std::string etcdctl(const Server& s, const std::string& args, const std::string& stdin_file = "") {
  std::string cmd = "ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:" + std::to_string(s.port) +
                    " --dial-timeout=5s --command-timeout=10s " + args;
  if (!stdin_file.empty()) cmd += " < " + stdin_file;
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// etcdctl prints clientv3's retry warnings (JSON log lines) before its own "Error: ..." line.
std::string error_line(const std::string& out) {
  size_t pos = out.rfind("Error: ");
  return pos == std::string::npos ? out : out.substr(pos);
}

std::string write_temp(const std::string& name, const std::string& content) {
  auto path =
      std::filesystem::temp_directory_path() / ("etsecd-interop-" + std::to_string(getpid()) + "-" + name);
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return path.string();
}

}  // namespace

TEST_CASE("etcdctl put, get, txn, del and compaction work against our wire layer") {
  REQUIRE_MESSAGE(std::system("command -v etcdctl >/dev/null 2>&1") == 0,
                  "etcdctl (Debian etcd-client) is required");
  Server s;

  CHECK(etcdctl(s, "put foo bar") == "OK\n");  // revision 2
  CHECK(etcdctl(s, "get foo") == "foo\nbar\n");
  CHECK(etcdctl(s, "put foo baz --prev-kv") == "OK\nfoo\nbar\n");  // revision 3
  CHECK(etcdctl(s, "get foo --rev=2") == "foo\nbar\n");
  CHECK(etcdctl(s, "get foo -w fields").find("\"Revision\" : 3") != std::string::npos);

  CHECK(etcdctl(s, "put p/1 one") == "OK\n");  // 4
  CHECK(etcdctl(s, "put p/2 two") == "OK\n");  // 5
  CHECK(etcdctl(s, "get p/ --prefix") == "p/1\none\np/2\ntwo\n");
  CHECK(etcdctl(s, "get p/ --prefix --limit=1") == "p/1\none\n");
  CHECK(etcdctl(s, "get p/ --prefix --keys-only") == "p/1\n\np/2\n\n");
  std::string fields = etcdctl(s, "get p/ --prefix --limit=1 -w fields");  // etcdctl 3.4 has no --count-only
  CHECK(fields.find("\"Count\" : 2") != std::string::npos);
  CHECK(fields.find("\"More\" : true") != std::string::npos);
  CHECK(etcdctl(s, "get p/ --prefix --order=DESCEND --sort-by=MODIFY --limit=1") == "p/2\ntwo\n");
  CHECK(etcdctl(s, "get p/1 --from-key") == "p/1\none\np/2\ntwo\n");

  // etcdctl txn reads compares, success ops and failure ops, each block ending with an empty line.
  std::string txn_ok = write_temp("txn-ok", "value(\"foo\") = \"baz\"\n\nput foo qux\n\nput foo nope\n\n");
  CHECK(etcdctl(s, "txn", txn_ok) == "SUCCESS\n\nOK\n");  // 6
  CHECK(etcdctl(s, "get foo --print-value-only") == "qux\n");
  std::string txn_fail = write_temp("txn-fail", "mod(\"foo\") = \"2\"\n\nput foo never\n\nget foo\n\n");
  CHECK(etcdctl(s, "txn", txn_fail) == "FAILURE\n\nfoo\nqux\n");

  CHECK(etcdctl(s, "del p/ --prefix") == "2\n");  // 7
  CHECK(etcdctl(s, "get p/ --prefix").empty());

  CHECK(etcdctl(s, "compaction 3") == "compacted revision 3\n");
  CHECK(error_line(etcdctl(s, "get foo --rev=2")) ==
        "Error: etcdserver: mvcc: required revision has been compacted\n");
  CHECK(error_line(etcdctl(s, "get foo --rev=99")) ==
        "Error: etcdserver: mvcc: required revision is a future revision\n");
  CHECK(etcdctl(s, "get foo --rev=3") == "foo\nbaz\n");

  std::string big = write_temp("big", std::string(1536 * 1024, 'x'));
  CHECK(error_line(etcdctl(s, "put big", big)) == "Error: etcdserver: request is too large\n");
  CHECK(etcdctl(s, "get big").empty());

  for (const char* f : {"txn-ok", "txn-fail", "big"}) {
    std::filesystem::remove(std::filesystem::temp_directory_path() /
                            ("etsecd-interop-" + std::to_string(getpid()) + "-" + f));
  }
}
