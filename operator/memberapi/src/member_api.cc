// The only translation unit of the member API that sees gRPC and the generated etcd protos.
#include "etsecd/memberapi/member_api.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <utility>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace etsecd::memberapi {
namespace {

std::string grpc_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid_argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline_exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not_found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already_exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission_denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed_precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out_of_range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "data_loss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

Error rpc_error(const std::string& rpc, const Endpoint& endpoint, const grpc::Status& status) {
  std::string message = rpc + " at " + endpoint.address + ": " + grpc_code_name(status.error_code());
  if (!status.error_message().empty()) message += ": " + status.error_message();
  return make_error("memberapi." + grpc_code_name(status.error_code()), std::move(message));
}

reconcile::ObservedMember from_proto(const etcdserverpb::Member& m) {
  reconcile::ObservedMember out;
  out.id = m.id();
  out.name = m.name();
  out.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
  out.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
  out.is_learner = m.islearner();
  return out;
}

template <class Repeated>
std::vector<reconcile::ObservedMember> members_from_proto(const Repeated& members) {
  std::vector<reconcile::ObservedMember> out;
  out.reserve(static_cast<std::size_t>(members.size()));
  for (const auto& m : members) out.push_back(from_proto(m));
  return out;
}

}  // namespace

struct MemberApiClient::Impl {
  MemberApiOptions options;
  std::map<std::size_t, std::shared_ptr<grpc::Channel>> channels;  // by endpoint index, made lazily

  std::shared_ptr<grpc::Channel> channel(std::size_t i) {
    auto it = channels.find(i);
    if (it != channels.end()) return it->second;
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls.ca_pem;
    ssl.pem_cert_chain = options.tls.certificate_pem;
    ssl.pem_private_key = options.tls.private_key_pem;
    grpc::ChannelArguments args;
    if (!options.endpoints[i].server_name.empty()) {
      args.SetSslTargetNameOverride(options.endpoints[i].server_name);
    }
    // Fail fast on a member that is down instead of waiting out the reconnect backoff.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    auto ch = grpc::CreateCustomChannel(options.endpoints[i].address, grpc::SslCredentials(ssl), args);
    channels.emplace(i, ch);
    return ch;
  }

  void prepare(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + options.call_timeout);
  }

  Result<etcdserverpb::StatusResponse> status(std::size_t i) {
    auto stub = etcdserverpb::Maintenance::NewStub(channel(i));
    grpc::ClientContext ctx;
    prepare(ctx);
    etcdserverpb::StatusResponse resp;
    grpc::Status s = stub->Status(&ctx, etcdserverpb::StatusRequest{}, &resp);
    if (!s.ok()) return rpc_error("Status", options.endpoints[i], s);
    return resp;
  }

  // Membership changes are not idempotent, so they go to exactly one member: the first that answers
  // Status. They are never retried on another member after being sent.
  Result<std::size_t> reachable_endpoint() {
    std::string tried;
    for (std::size_t i = 0; i < options.endpoints.size(); ++i) {
      auto st = status(i);
      if (st.ok()) return i;
      tried += (tried.empty() ? "" : "; ") + st.error().message;
    }
    return make_error("memberapi.unavailable", "no member answered: " + tried);
  }
};

MemberApiClient::MemberApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberApiClient::~MemberApiClient() = default;

Result<std::unique_ptr<MemberApiClient>> MemberApiClient::create(MemberApiOptions options) {
  if (options.endpoints.empty()) return make_error("memberapi.config", "no member endpoints to contact");
  for (const Endpoint& e : options.endpoints) {
    if (e.address.empty()) return make_error("memberapi.config", "a member endpoint has no address");
  }
  if (options.tls.ca_pem.empty() || options.tls.certificate_pem.empty() ||
      options.tls.private_key_pem.empty()) {
    return make_error("memberapi.config", "the client TLS identity needs ca.crt, tls.crt and tls.key");
  }
  if (options.call_timeout <= std::chrono::milliseconds(0)) {
    return make_error("memberapi.config", "call timeout must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  return std::unique_ptr<MemberApiClient>(new MemberApiClient(std::move(impl)));
}

Result<reconcile::ObservedMemberList> MemberApiClient::member_list() {
  std::string tried;
  for (std::size_t i = 0; i < impl_->options.endpoints.size(); ++i) {
    const Endpoint& endpoint = impl_->options.endpoints[i];
    auto stub = etcdserverpb::Cluster::NewStub(impl_->channel(i));
    grpc::ClientContext ctx;
    impl_->prepare(ctx);
    etcdserverpb::MemberListResponse resp;
    grpc::Status s = stub->MemberList(&ctx, etcdserverpb::MemberListRequest{}, &resp);
    if (!s.ok()) {
      tried += (tried.empty() ? "" : "; ") + rpc_error("MemberList", endpoint, s).message;
      continue;
    }
    auto st = impl_->status(i);
    if (!st.ok()) {
      tried += (tried.empty() ? "" : "; ") + st.error().message;
      continue;
    }
    reconcile::ObservedMemberList out;
    out.available = true;
    out.leader_id = st->leader();
    out.members = members_from_proto(resp.members());
    return out;
  }
  return make_error("memberapi.unavailable", "member list unreadable: " + tried);
}

Result<AddedMember> MemberApiClient::member_add(const std::vector<std::string>& peer_urls, bool is_learner) {
  if (peer_urls.empty()) return make_error("memberapi.invalid_argument", "MemberAdd needs peer URLs");
  auto i = impl_->reachable_endpoint();
  if (!i.ok()) return i.error();
  etcdserverpb::MemberAddRequest req;
  for (const std::string& url : peer_urls) req.add_peerurls(url);
  req.set_islearner(is_learner);
  auto stub = etcdserverpb::Cluster::NewStub(impl_->channel(*i));
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  etcdserverpb::MemberAddResponse resp;
  grpc::Status s = stub->MemberAdd(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("MemberAdd", impl_->options.endpoints[*i], s);
  AddedMember out;
  out.id = resp.member().id();
  out.members = members_from_proto(resp.members());
  return out;
}

Status MemberApiClient::member_promote(std::uint64_t member_id) {
  auto i = impl_->reachable_endpoint();
  if (!i.ok()) return i.error();
  etcdserverpb::MemberPromoteRequest req;
  req.set_id(member_id);
  auto stub = etcdserverpb::Cluster::NewStub(impl_->channel(*i));
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  etcdserverpb::MemberPromoteResponse resp;
  grpc::Status s = stub->MemberPromote(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("MemberPromote", impl_->options.endpoints[*i], s);
  return Status::Ok();
}

Status MemberApiClient::member_remove(std::uint64_t member_id) {
  auto i = impl_->reachable_endpoint();
  if (!i.ok()) return i.error();
  etcdserverpb::MemberRemoveRequest req;
  req.set_id(member_id);
  auto stub = etcdserverpb::Cluster::NewStub(impl_->channel(*i));
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  etcdserverpb::MemberRemoveResponse resp;
  grpc::Status s = stub->MemberRemove(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("MemberRemove", impl_->options.endpoints[*i], s);
  return Status::Ok();
}

Status MemberApiClient::move_leader(std::uint64_t leader_id, std::uint64_t target_id) {
  std::string tried;
  for (std::size_t i = 0; i < impl_->options.endpoints.size(); ++i) {
    auto st = impl_->status(i);
    if (!st.ok()) {
      tried += (tried.empty() ? "" : "; ") + st.error().message;
      continue;
    }
    if (st->header().member_id() != leader_id) continue;
    etcdserverpb::MoveLeaderRequest req;
    req.set_targetid(target_id);
    auto stub = etcdserverpb::Maintenance::NewStub(impl_->channel(i));
    grpc::ClientContext ctx;
    impl_->prepare(ctx);
    etcdserverpb::MoveLeaderResponse resp;
    grpc::Status s = stub->MoveLeader(&ctx, req, &resp);
    if (!s.ok()) return rpc_error("MoveLeader", impl_->options.endpoints[i], s);
    return Status::Ok();
  }
  return make_error("memberapi.leader_not_found", "no endpoint answered as leader " +
                                                      reconcile::member_id_to_string(leader_id) +
                                                      (tried.empty() ? "" : " (" + tried + ")"));
}

reconcile::ObservedMemberList unavailable_member_list(const Error& error) {
  reconcile::ObservedMemberList out;
  out.available = false;
  out.error = error.message;
  return out;
}

}  // namespace etsecd::memberapi
