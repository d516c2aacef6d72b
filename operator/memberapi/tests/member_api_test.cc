// The member API client against a gRPC server started here on 127.0.0.1 with mutual TLS (certificates
// minted by etsecd_pki). The fake services implement only what each case needs; everything else
// answers UNIMPLEMENTED, as the member binary does today for membership changes.
#include "etsecd/memberapi/member_api.h"

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "etsecd/pki/pki.h"

namespace em = etsecd::memberapi;
namespace pki = etsecd::pki;

namespace {

constexpr const char* kServerName = "demo-0.demo-peer.ns.svc.cluster.local";
constexpr std::uint64_t kSelfId = 0xa1;
constexpr std::uint64_t kLeaderId = 0xb2;

struct Pki {
  pki::KeyAndCertificate ca;
  pki::KeyAndCertificate server;
  pki::KeyAndCertificate client;
};

Pki make_pki() {
  auto now = std::chrono::system_clock::now();
  auto ca = pki::create_ca("test-ca", now, std::chrono::hours(24));
  REQUIRE(ca.ok());
  auto server = pki::issue_leaf(*ca, {"demo-0", {kServerName}, {}, true, true, std::chrono::hours(24)}, now);
  REQUIRE(server.ok());
  auto client = pki::issue_leaf(*ca, {"etsecd-operator", {}, {}, false, true, std::chrono::hours(24)}, now);
  REQUIRE(client.ok());
  return {*ca, *server, *client};
}

void add_member(etcdserverpb::Member* m, std::uint64_t id, const std::string& name, bool learner) {
  m->set_id(id);
  m->set_name(name);
  m->add_peerurls("https://" + name + ".demo-peer.ns.svc.cluster.local:2380");
  m->add_clienturls("https://" + name + ".demo-peer.ns.svc.cluster.local:2379");
  m->set_islearner(learner);
}

// What the member binary serves today: MemberList and Status.
class ListOnlyCluster : public etcdserverpb::Cluster::Service {
 public:
  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* resp) override {
    add_member(resp->add_members(), kSelfId, "demo-0", false);
    add_member(resp->add_members(), kLeaderId, "demo-1", false);
    add_member(resp->add_members(), 0xc3, "demo-2", true);
    return grpc::Status::OK;
  }
};

class StatusMaintenance : public etcdserverpb::Maintenance::Service {
 public:
  explicit StatusMaintenance(std::uint64_t self) : self_(self) {}
  grpc::Status Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                      etcdserverpb::StatusResponse* resp) override {
    resp->mutable_header()->set_member_id(self_);
    resp->set_leader(kLeaderId);
    return grpc::Status::OK;
  }

 private:
  std::uint64_t self_;
};

// Membership changes implemented, recording what was asked.
class ChangingCluster : public ListOnlyCluster {
 public:
  grpc::Status MemberAdd(grpc::ServerContext*, const etcdserverpb::MemberAddRequest* req,
                         etcdserverpb::MemberAddResponse* resp) override {
    std::lock_guard lock(mu);
    added_peer_urls.assign(req->peerurls().begin(), req->peerurls().end());
    added_learner = req->islearner();
    add_member(resp->mutable_member(), 0xd4, "", req->islearner());
    add_member(resp->add_members(), kSelfId, "demo-0", false);
    add_member(resp->add_members(), 0xd4, "", req->islearner());
    return grpc::Status::OK;
  }
  grpc::Status MemberPromote(grpc::ServerContext*, const etcdserverpb::MemberPromoteRequest* req,
                             etcdserverpb::MemberPromoteResponse*) override {
    std::lock_guard lock(mu);
    promoted = req->id();
    return grpc::Status::OK;
  }
  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest* req,
                            etcdserverpb::MemberRemoveResponse*) override {
    if (req->id() == 0xdead) return {grpc::StatusCode::NOT_FOUND, "etcdserver: member not found"};
    std::lock_guard lock(mu);
    removed = req->id();
    return grpc::Status::OK;
  }
  std::mutex mu;
  std::vector<std::string> added_peer_urls;
  bool added_learner = false;
  std::uint64_t promoted = 0;
  std::uint64_t removed = 0;
};

class MoveLeaderMaintenance : public StatusMaintenance {
 public:
  using StatusMaintenance::StatusMaintenance;
  grpc::Status MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest* req,
                          etcdserverpb::MoveLeaderResponse*) override {
    target = req->targetid();
    return grpc::Status::OK;
  }
  std::atomic<std::uint64_t> target{0};
};

class LoopbackServer {
 public:
  LoopbackServer(const Pki& p, grpc::Service* cluster, grpc::Service* maintenance) {
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = p.ca.certificate_pem;
    ssl.pem_key_cert_pairs.push_back({p.server.private_key_pem, p.server.certificate_pem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(cluster);
    builder.RegisterService(maintenance);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    REQUIRE(port_ > 0);
  }
  ~LoopbackServer() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2)); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

em::MemberApiOptions options_for(const Pki& p, std::vector<em::Endpoint> endpoints) {
  em::MemberApiOptions o;
  o.endpoints = std::move(endpoints);
  o.tls = {p.ca.certificate_pem, p.client.certificate_pem, p.client.private_key_pem};
  o.call_timeout = std::chrono::milliseconds(3000);
  return o;
}

// A port on which nothing listens: bind, note the port, close.
std::string dead_address() {
  ListOnlyCluster c;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&c);
  auto server = builder.BuildAndStart();
  server->Shutdown();
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace

TEST_CASE("member_list returns members, learners and the leader over mutual TLS") {
  Pki p = make_pki();
  ListOnlyCluster cluster;
  StatusMaintenance maintenance(kSelfId);
  LoopbackServer server(p, &cluster, &maintenance);
  auto client = em::MemberApiClient::create(options_for(p, {{server.address(), kServerName}}));
  REQUIRE(client.ok());
  auto list = (*client)->member_list();
  REQUIRE_MESSAGE(list.ok(), (list.ok() ? "" : list.error().message));
  CHECK(list->available);
  CHECK(list->leader_id == kLeaderId);
  REQUIRE(list->members.size() == 3);
  CHECK(list->members[0].id == kSelfId);
  CHECK(list->members[0].name == "demo-0");
  CHECK(list->members[1].peer_urls ==
        std::vector<std::string>{"https://demo-1.demo-peer.ns.svc.cluster.local:2380"});
  CHECK(list->members[2].is_learner);
  CHECK_FALSE(list->members[0].is_learner);
}

TEST_CASE("membership changes the server does not implement come back as its error") {
  Pki p = make_pki();
  ListOnlyCluster cluster;
  StatusMaintenance maintenance(kLeaderId);
  LoopbackServer server(p, &cluster, &maintenance);
  auto client = em::MemberApiClient::create(options_for(p, {{server.address(), kServerName}}));
  REQUIRE(client.ok());

  auto added = (*client)->member_add({"https://demo-3.demo-peer.ns.svc.cluster.local:2380"}, true);
  REQUIRE_FALSE(added.ok());
  CHECK(added.error().code == "memberapi.unimplemented");
  CHECK(added.error().message.find("MemberAdd at 127.0.0.1:") == 0);

  auto promoted = (*client)->member_promote(0xc3);
  REQUIRE_FALSE(promoted.ok());
  CHECK(promoted.error().code == "memberapi.unimplemented");
  CHECK(promoted.error().message.find("MemberPromote") != std::string::npos);

  auto removed = (*client)->member_remove(0xc3);
  REQUIRE_FALSE(removed.ok());
  CHECK(removed.error().code == "memberapi.unimplemented");

  auto moved = (*client)->move_leader(kLeaderId, kSelfId);
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.error().code == "memberapi.unimplemented");
  CHECK(moved.error().message.find("MoveLeader") != std::string::npos);

  // The channel is still usable afterwards.
  CHECK((*client)->member_list().ok());
}

TEST_CASE("membership changes send the right requests when the server implements them") {
  Pki p = make_pki();
  ChangingCluster cluster;
  MoveLeaderMaintenance maintenance(kLeaderId);
  LoopbackServer server(p, &cluster, &maintenance);
  auto client = em::MemberApiClient::create(options_for(p, {{server.address(), kServerName}}));
  REQUIRE(client.ok());

  auto added = (*client)->member_add({"https://demo-3.demo-peer.ns.svc.cluster.local:2380"}, true);
  REQUIRE(added.ok());
  CHECK(added->id == 0xd4);
  CHECK(added->members.size() == 2);
  {
    std::lock_guard lock(cluster.mu);
    CHECK(cluster.added_learner);
    CHECK(cluster.added_peer_urls ==
          std::vector<std::string>{"https://demo-3.demo-peer.ns.svc.cluster.local:2380"});
  }
  CHECK((*client)->member_promote(0xd4).ok());
  CHECK((*client)->member_remove(0xc3).ok());
  auto missing = (*client)->member_remove(0xdead);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "memberapi.not_found");
  CHECK(missing.error().message.find("member not found") != std::string::npos);
  {
    std::lock_guard lock(cluster.mu);
    CHECK(cluster.promoted == 0xd4);
    CHECK(cluster.removed == 0xc3);
  }
  CHECK((*client)->move_leader(kLeaderId, kSelfId).ok());
  CHECK(maintenance.target == kSelfId);

  // Leadership moved elsewhere meanwhile: no endpoint claims to be that leader.
  auto stale = (*client)->move_leader(0x999, kSelfId);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == "memberapi.leader_not_found");
}

TEST_CASE("a dead endpoint is skipped for reads; all dead is a clear error") {
  Pki p = make_pki();
  ListOnlyCluster cluster;
  StatusMaintenance maintenance(kSelfId);
  LoopbackServer server(p, &cluster, &maintenance);
  std::string dead = dead_address();
  auto client =
      em::MemberApiClient::create(options_for(p, {{dead, kServerName}, {server.address(), kServerName}}));
  REQUIRE(client.ok());
  auto list = (*client)->member_list();
  REQUIRE(list.ok());
  CHECK(list->members.size() == 3);

  auto only_dead = em::MemberApiClient::create(options_for(p, {{dead, kServerName}}));
  REQUIRE(only_dead.ok());
  auto failed = (*only_dead)->member_list();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == "memberapi.unavailable");
  CHECK(failed.error().message.find(dead) != std::string::npos);
  auto observed = em::unavailable_member_list(failed.error());
  CHECK_FALSE(observed.available);
  CHECK(observed.error == failed.error().message);
  CHECK_FALSE((*only_dead)->member_promote(1).ok());
}

TEST_CASE("TLS is verified both ways") {
  Pki p = make_pki();
  ListOnlyCluster cluster;
  StatusMaintenance maintenance(kSelfId);
  LoopbackServer server(p, &cluster, &maintenance);

  SUBCASE("wrong server name") {
    auto client = em::MemberApiClient::create(options_for(p, {{server.address(), "demo-9.other.example"}}));
    REQUIRE(client.ok());
    auto list = (*client)->member_list();
    CHECK_FALSE(list.ok());
  }
  SUBCASE("client certificate from another CA") {
    Pki other = make_pki();
    auto o = options_for(p, {{server.address(), kServerName}});
    o.tls.certificate_pem = other.client.certificate_pem;
    o.tls.private_key_pem = other.client.private_key_pem;
    auto client = em::MemberApiClient::create(o);
    REQUIRE(client.ok());
    CHECK_FALSE((*client)->member_list().ok());
  }
  SUBCASE("server signed by a CA the client does not trust") {
    Pki other = make_pki();
    auto o = options_for(p, {{server.address(), kServerName}});
    o.tls.ca_pem = other.ca.certificate_pem;
    auto client = em::MemberApiClient::create(o);
    REQUIRE(client.ok());
    CHECK_FALSE((*client)->member_list().ok());
  }
}

TEST_CASE("create rejects incomplete options") {
  Pki p = make_pki();
  auto no_endpoints = em::MemberApiClient::create(options_for(p, {}));
  REQUIRE_FALSE(no_endpoints.ok());
  CHECK(no_endpoints.error().code == "memberapi.config");
  auto o = options_for(p, {{"127.0.0.1:1", ""}});
  o.tls.private_key_pem.clear();
  auto no_key = em::MemberApiClient::create(o);
  REQUIRE_FALSE(no_key.ok());
  CHECK(no_key.error().message.find("tls.key") != std::string::npos);
  auto o2 = options_for(p, {{"", ""}});
  CHECK_FALSE(em::MemberApiClient::create(o2).ok());
}
