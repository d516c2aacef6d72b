// Our etcdserverpb/mvccpb must encode exactly as etcd's: same field numbers, names and types, same
// service and method names (they form the gRPC paths). The expectations are transcribed from etcd's
// api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto (v3.4/3.5).

#include <doctest/doctest.h>
#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "etcdserverpb/rpc.pb.h"
#include "mvccpb/kv.pb.h"

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

namespace {

struct Field {
  const char* name;
  int number;
  FieldDescriptor::Type type;
  bool repeated = false;
};

using T = FieldDescriptor;

void expect_message(const std::string& full_name, const std::vector<Field>& fields) {
  CAPTURE(full_name);
  const Descriptor* d = DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
  REQUIRE(d != nullptr);
  CHECK(d->field_count() == static_cast<int>(fields.size()));
  for (const Field& f : fields) {
    CAPTURE(f.name);
    const FieldDescriptor* fd = d->FindFieldByName(f.name);
    REQUIRE(fd != nullptr);
    CHECK(fd->number() == f.number);
    CHECK(fd->type() == f.type);
    CHECK(fd->is_repeated() == f.repeated);
  }
}

}  // namespace

TEST_CASE("mvccpb messages match etcd's") {
  expect_message("mvccpb.KeyValue", {{"key", 1, T::TYPE_BYTES},
                                     {"create_revision", 2, T::TYPE_INT64},
                                     {"mod_revision", 3, T::TYPE_INT64},
                                     {"version", 4, T::TYPE_INT64},
                                     {"value", 5, T::TYPE_BYTES},
                                     {"lease", 6, T::TYPE_INT64}});
  expect_message("mvccpb.Event",
                 {{"type", 1, T::TYPE_ENUM}, {"kv", 2, T::TYPE_MESSAGE}, {"prev_kv", 3, T::TYPE_MESSAGE}});
}

TEST_CASE("KV messages match etcd's") {
  expect_message("etcdserverpb.ResponseHeader", {{"cluster_id", 1, T::TYPE_UINT64},
                                                 {"member_id", 2, T::TYPE_UINT64},
                                                 {"revision", 3, T::TYPE_INT64},
                                                 {"raft_term", 4, T::TYPE_UINT64}});
  expect_message("etcdserverpb.RangeRequest", {{"key", 1, T::TYPE_BYTES},
                                               {"range_end", 2, T::TYPE_BYTES},
                                               {"limit", 3, T::TYPE_INT64},
                                               {"revision", 4, T::TYPE_INT64},
                                               {"sort_order", 5, T::TYPE_ENUM},
                                               {"sort_target", 6, T::TYPE_ENUM},
                                               {"serializable", 7, T::TYPE_BOOL},
                                               {"keys_only", 8, T::TYPE_BOOL},
                                               {"count_only", 9, T::TYPE_BOOL},
                                               {"min_mod_revision", 10, T::TYPE_INT64},
                                               {"max_mod_revision", 11, T::TYPE_INT64},
                                               {"min_create_revision", 12, T::TYPE_INT64},
                                               {"max_create_revision", 13, T::TYPE_INT64}});
  expect_message("etcdserverpb.RangeResponse", {{"header", 1, T::TYPE_MESSAGE},
                                                {"kvs", 2, T::TYPE_MESSAGE, true},
                                                {"more", 3, T::TYPE_BOOL},
                                                {"count", 4, T::TYPE_INT64}});
  expect_message("etcdserverpb.PutRequest", {{"key", 1, T::TYPE_BYTES},
                                             {"value", 2, T::TYPE_BYTES},
                                             {"lease", 3, T::TYPE_INT64},
                                             {"prev_kv", 4, T::TYPE_BOOL},
                                             {"ignore_value", 5, T::TYPE_BOOL},
                                             {"ignore_lease", 6, T::TYPE_BOOL}});
  expect_message("etcdserverpb.PutResponse",
                 {{"header", 1, T::TYPE_MESSAGE}, {"prev_kv", 2, T::TYPE_MESSAGE}});
  expect_message("etcdserverpb.DeleteRangeRequest",
                 {{"key", 1, T::TYPE_BYTES}, {"range_end", 2, T::TYPE_BYTES}, {"prev_kv", 3, T::TYPE_BOOL}});
  expect_message("etcdserverpb.DeleteRangeResponse", {{"header", 1, T::TYPE_MESSAGE},
                                                      {"deleted", 2, T::TYPE_INT64},
                                                      {"prev_kvs", 3, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.RequestOp", {{"request_range", 1, T::TYPE_MESSAGE},
                                            {"request_put", 2, T::TYPE_MESSAGE},
                                            {"request_delete_range", 3, T::TYPE_MESSAGE},
                                            {"request_txn", 4, T::TYPE_MESSAGE}});
  expect_message("etcdserverpb.ResponseOp", {{"response_range", 1, T::TYPE_MESSAGE},
                                             {"response_put", 2, T::TYPE_MESSAGE},
                                             {"response_delete_range", 3, T::TYPE_MESSAGE},
                                             {"response_txn", 4, T::TYPE_MESSAGE}});
  expect_message("etcdserverpb.Compare", {{"result", 1, T::TYPE_ENUM},
                                          {"target", 2, T::TYPE_ENUM},
                                          {"key", 3, T::TYPE_BYTES},
                                          {"version", 4, T::TYPE_INT64},
                                          {"create_revision", 5, T::TYPE_INT64},
                                          {"mod_revision", 6, T::TYPE_INT64},
                                          {"value", 7, T::TYPE_BYTES},
                                          {"lease", 8, T::TYPE_INT64},
                                          {"range_end", 64, T::TYPE_BYTES}});
  expect_message("etcdserverpb.TxnRequest", {{"compare", 1, T::TYPE_MESSAGE, true},
                                             {"success", 2, T::TYPE_MESSAGE, true},
                                             {"failure", 3, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.TxnResponse", {{"header", 1, T::TYPE_MESSAGE},
                                              {"succeeded", 2, T::TYPE_BOOL},
                                              {"responses", 3, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.CompactionRequest",
                 {{"revision", 1, T::TYPE_INT64}, {"physical", 2, T::TYPE_BOOL}});
  expect_message("etcdserverpb.CompactionResponse", {{"header", 1, T::TYPE_MESSAGE}});
}

TEST_CASE("Cluster and Maintenance messages match etcd's") {
  expect_message("etcdserverpb.Member", {{"ID", 1, T::TYPE_UINT64},
                                         {"name", 2, T::TYPE_STRING},
                                         {"peerURLs", 3, T::TYPE_STRING, true},
                                         {"clientURLs", 4, T::TYPE_STRING, true},
                                         {"isLearner", 5, T::TYPE_BOOL}});
  expect_message("etcdserverpb.MemberAddRequest",
                 {{"peerURLs", 1, T::TYPE_STRING, true}, {"isLearner", 2, T::TYPE_BOOL}});
  expect_message("etcdserverpb.MemberAddResponse", {{"header", 1, T::TYPE_MESSAGE},
                                                    {"member", 2, T::TYPE_MESSAGE},
                                                    {"members", 3, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.MemberRemoveRequest", {{"ID", 1, T::TYPE_UINT64}});
  expect_message("etcdserverpb.MemberUpdateRequest",
                 {{"ID", 1, T::TYPE_UINT64}, {"peerURLs", 2, T::TYPE_STRING, true}});
  expect_message("etcdserverpb.MemberListRequest", {{"linearizable", 1, T::TYPE_BOOL}});
  expect_message("etcdserverpb.MemberListResponse",
                 {{"header", 1, T::TYPE_MESSAGE}, {"members", 2, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.MemberPromoteRequest", {{"ID", 1, T::TYPE_UINT64}});
  expect_message("etcdserverpb.StatusRequest", {});
  expect_message("etcdserverpb.StatusResponse", {{"header", 1, T::TYPE_MESSAGE},
                                                 {"version", 2, T::TYPE_STRING},
                                                 {"dbSize", 3, T::TYPE_INT64},
                                                 {"leader", 4, T::TYPE_UINT64},
                                                 {"raftIndex", 5, T::TYPE_UINT64},
                                                 {"raftTerm", 6, T::TYPE_UINT64},
                                                 {"raftAppliedIndex", 7, T::TYPE_UINT64},
                                                 {"errors", 8, T::TYPE_STRING, true},
                                                 {"dbSizeInUse", 9, T::TYPE_INT64},
                                                 {"isLearner", 10, T::TYPE_BOOL}});
  expect_message("etcdserverpb.AlarmRequest",
                 {{"action", 1, T::TYPE_ENUM}, {"memberID", 2, T::TYPE_UINT64}, {"alarm", 3, T::TYPE_ENUM}});
  expect_message("etcdserverpb.AlarmResponse",
                 {{"header", 1, T::TYPE_MESSAGE}, {"alarms", 2, T::TYPE_MESSAGE, true}});
  expect_message("etcdserverpb.MoveLeaderRequest", {{"targetID", 1, T::TYPE_UINT64}});
}

TEST_CASE("enum values match etcd's") {
  using etcdserverpb::Compare;
  using etcdserverpb::RangeRequest;
  CHECK(RangeRequest::DESCEND == 2);
  CHECK(RangeRequest::VALUE == 4);
  CHECK(Compare::NOT_EQUAL == 3);
  CHECK(Compare::LEASE == 4);
  CHECK(etcdserverpb::CORRUPT == 2);
  CHECK(mvccpb::Event::DELETE == 1);
}

TEST_CASE("gRPC paths are etcd's") {
  CHECK(std::string(etcdserverpb::KV::service_full_name()) == "etcdserverpb.KV");
  CHECK(std::string(etcdserverpb::Cluster::service_full_name()) == "etcdserverpb.Cluster");
  CHECK(std::string(etcdserverpb::Maintenance::service_full_name()) == "etcdserverpb.Maintenance");
  const auto* kv = DescriptorPool::generated_pool()->FindServiceByName("etcdserverpb.KV");
  REQUIRE(kv != nullptr);
  std::vector<std::string> methods;
  for (int i = 0; i < kv->method_count(); ++i) methods.push_back(kv->method(i)->name());
  CHECK(methods == std::vector<std::string>{"Range", "Put", "DeleteRange", "Txn", "Compact"});
  const auto* cluster = DescriptorPool::generated_pool()->FindServiceByName("etcdserverpb.Cluster");
  REQUIRE(cluster != nullptr);
  CHECK(cluster->FindMethodByName("MemberList") != nullptr);
  CHECK(cluster->FindMethodByName("MemberPromote") != nullptr);
}

TEST_CASE("bytes on the wire are what an etcd client sends") {
  etcdserverpb::PutRequest put;
  put.set_key("foo");
  put.set_value("bar");
  put.set_prev_kv(true);
  CHECK(put.SerializeAsString() == std::string("\x0a\x03"
                                               "foo"
                                               "\x12\x03"
                                               "bar"
                                               "\x20\x01"));
  etcdserverpb::Compare cmp;
  cmp.set_key("k");
  cmp.set_range_end("l");
  cmp.set_mod_revision(5);
  // Tag 64, wire type 2 is the two-byte varint 0x82 0x04.
  CHECK(cmp.SerializeAsString() == std::string("\x1a\x01k\x30\x05\x82\x04\x01l", 9));
}
