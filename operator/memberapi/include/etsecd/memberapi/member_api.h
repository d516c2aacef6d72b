#pragma once
// Client of an etsecd cluster's etcd-compatible Cluster and Maintenance APIs (gRPC over mutual TLS),
// used by the operator to read the member list and to make membership changes. gRPC stays inside
// member_api.cc. Thread-compatible: one client per reconcile pass.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/reconcile/observed_state.h"

namespace etsecd::memberapi {

// The client's identity: the `<cluster>-client-tls` Secret's ca.crt, tls.crt and tls.key.
struct ClientTls {
  std::string ca_pem;
  std::string certificate_pem;
  std::string private_key_pem;
};

// Where one member answers. The operator dials pod IPs (cluster DNS may not resolve where it runs) and
// checks the server certificate against the member's DNS name, which its certificate carries.
struct Endpoint {
  std::string address;      // "10.1.2.3:2379" or "[::1]:2379"
  std::string server_name;  // name expected in the server certificate; "" = the address's host
};

struct MemberApiOptions {
  std::vector<Endpoint> endpoints;  // tried in order until one answers
  ClientTls tls;
  std::chrono::milliseconds call_timeout{5000};
};

struct AddedMember {
  std::uint64_t id = 0;
  std::vector<reconcile::ObservedMember> members;  // the member list after the change
};

class MemberApiClient {
 public:
  // Fails (code "memberapi.config") without endpoints or with an incomplete TLS identity.
  static Result<std::unique_ptr<MemberApiClient>> create(MemberApiOptions options);
  ~MemberApiClient();
  MemberApiClient(const MemberApiClient&) = delete;
  MemberApiClient& operator=(const MemberApiClient&) = delete;

  // Cluster.MemberList plus Maintenance.Status from the same member (for the leader id). The first
  // endpoint that answers both wins; the error names every endpoint tried.
  Result<reconcile::ObservedMemberList> member_list();
  // Cluster.MemberAdd.
  Result<AddedMember> member_add(const std::vector<std::string>& peer_urls, bool is_learner);
  Status member_promote(std::uint64_t member_id);
  Status member_remove(std::uint64_t member_id);
  // Maintenance.MoveLeader, sent to the endpoint whose Status reports it is leader_id.
  Status move_leader(std::uint64_t leader_id, std::uint64_t target_id);

 private:
  struct Impl;
  explicit MemberApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ObservedMemberList{available=false, error=...} for an error, so the reconciler sees why.
reconcile::ObservedMemberList unavailable_member_list(const Error& error);

}  // namespace etsecd::memberapi
