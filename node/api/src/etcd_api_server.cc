// gRPC services KV, Maintenance and Cluster over a Member. Each handler either serves locally or, when
// this member is a follower and the request needs the leader, forwards the serialized request to the
// leader (peer method "api.<Service>.<Method>") and returns the leader's serialized response.
// Put, DeleteRange and Txn use gRPC's callback API: the handler proposes (leader) or forwards on the
// Raft stream (follower) and returns, and the call is answered from the callback that sees the
// outcome, so no thread waits on a write (a waiting thread's wake-up per request was a large share of
// a follower's CPU under load).

#include "etsecd/api/etcd_api_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "etsecd/common/thread_pool.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/proto/kv_convert.h"
#include "etsecd/server/errors.h"
#include "pending_calls.h"

namespace etsecd::api {
namespace {

using server::Deadline;

constexpr auto kDefaultRequestTimeout = std::chrono::seconds(10);
constexpr size_t kGrpcOverheadBytes = 512 * 1024;  // etcd allows this much beyond --max-request-bytes
constexpr size_t kBlockingThreads = 256;           // as many as the sync server's pollers were

grpc::Status to_status(const Error& error) {
  // The member's own errors (no leader, timeouts, not enough shares) and transport failures are all
  // "try again" conditions for etcd clients; the rest map as the MVCC layer says.
  if (auto code = server::cluster_grpc_code(error)) {
    return grpc::Status(static_cast<grpc::StatusCode>(*code), error.message);
  }
  if (error.code.rfind("server.", 0) == 0 || error.code.rfind("transport.", 0) == 0) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, error.message);
  }
  return proto::to_grpc_status(error);
}

server::WriteRequest to_write(proto::ProposedRequest p) {
  return server::WriteRequest{std::move(p.op), std::move(p.values), std::move(p.compare_operands)};
}

// The rebuilt values in the order the fill_* functions consume them.
Result<std::vector<std::string>> ordered_values(const std::vector<const mvcc::KeyValue*>& kvs,
                                                const server::ValueMap& values) {
  std::vector<std::string> out;
  out.reserve(kvs.size());
  for (const auto* kv : kvs) {
    auto it = values.find(wire::ValueRef{kv->key, kv->mod_revision});
    if (it == values.end())
      return make_error("api.internal", "etcdserver: internal: a value was not rebuilt");
    out.push_back(it->second);
  }
  return out;
}

// Errors from the leader come back as "code: message" inside a transport.remote error.
Error remote_error(const Error& error) {
  if (error.code != "transport.remote") return error;
  auto sep = error.message.find(": ");
  if (sep == std::string::npos) return error;
  return make_error(error.message.substr(0, sep), error.message.substr(sep + 2));
}

Deadline deadline_of(const grpc::ServerContextBase* ctx) {
  const auto now_sys = std::chrono::system_clock::now();
  const auto now = std::chrono::steady_clock::now();
  auto d = ctx->deadline();
  if (d <= now_sys || d - now_sys > std::chrono::hours(1)) return now + kDefaultRequestTimeout;
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d - now_sys);
}

Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("api.tls", std::string("cannot read ") + what + " '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void fill_header(etcdserverpb::ResponseHeader* header, const server::MemberStatus& st) {
  header->set_cluster_id(st.cluster_id);
  header->set_member_id(st.id);
  header->set_revision(st.revision);
  header->set_raft_term(st.term);
}

void fill_member(etcdserverpb::Member* out, const server::MemberInfo& info) {
  out->set_id(info.id);
  out->set_name(info.name);
  for (const auto& u : info.peer_urls) out->add_peerurls(u);
  if (info.peer_urls.empty() && !info.peer_url.empty()) out->add_peerurls(info.peer_url);
  for (const auto& u : info.client_urls) out->add_clienturls(u);
  out->set_islearner(!info.voter);
}

// MemberList and the member lists in membership-change responses: unreachable members are asked for
// their client URLs only briefly, so a listing stays quick while a new member is not started yet.
template <class Members>
void fill_members(Members* out, server::Member& member, Deadline deadline) {
  const auto bounded = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(2));
  for (const auto& info : member.members(bounded)) fill_member(out->Add(), info);
}

// The handlers, callable both from gRPC and for requests forwarded by followers.
class Handlers {
 public:
  Handlers(server::Member& member, size_t max_request_bytes)
      : member_(member), max_request_bytes_(max_request_bytes) {}

  Status range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* resp, Deadline deadline) {
    return fill_range(member_.range(proto::to_range_op(req), req.serializable(), deadline), resp);
  }

  Status put(const etcdserverpb::PutRequest& req, etcdserverpb::PutResponse* resp, Deadline deadline) {
    return write(req, proto::from_put(req), resp, deadline, &proto::fill_put_response);
  }

  Status delete_range(const etcdserverpb::DeleteRangeRequest& req, etcdserverpb::DeleteRangeResponse* resp,
                      Deadline deadline) {
    return write(req, proto::from_delete_range(req), resp, deadline, &proto::fill_delete_range_response);
  }

  Status txn(const etcdserverpb::TxnRequest& req, etcdserverpb::TxnResponse* resp, Deadline deadline) {
    return write(req, proto::from_txn(req), resp, deadline, &proto::fill_txn_response);
  }

  Status compact(const etcdserverpb::CompactionRequest& req, etcdserverpb::CompactionResponse* resp,
                 Deadline deadline) {
    auto r = member_.write(to_write(proto::from_compaction(req)), deadline);
    if (!r) return r.error();
    return proto::fill_compaction_response(r->result, header(), resp);
  }

  Status member_add(const etcdserverpb::MemberAddRequest& req, etcdserverpb::MemberAddResponse* resp,
                    Deadline deadline) {
    std::vector<std::string> urls(req.peerurls().begin(), req.peerurls().end());
    auto added = member_.add_member(urls, req.islearner(), deadline);
    if (!added) return added.error();
    fill_header(resp->mutable_header(), member_.status());
    fill_member(resp->mutable_member(), *added);
    fill_members(resp->mutable_members(), member_, deadline);
    return Status::Ok();
  }

  Status member_remove(const etcdserverpb::MemberRemoveRequest& req, etcdserverpb::MemberRemoveResponse* resp,
                       Deadline deadline) {
    if (auto st = member_.remove_member(req.id(), deadline); !st) return st;
    fill_header(resp->mutable_header(), member_.status());
    fill_members(resp->mutable_members(), member_, deadline);
    return Status::Ok();
  }

  Status member_update(const etcdserverpb::MemberUpdateRequest& req, etcdserverpb::MemberUpdateResponse* resp,
                       Deadline deadline) {
    std::vector<std::string> urls(req.peerurls().begin(), req.peerurls().end());
    if (auto st = member_.update_member(req.id(), urls, deadline); !st) return st;
    fill_header(resp->mutable_header(), member_.status());
    fill_members(resp->mutable_members(), member_, deadline);
    return Status::Ok();
  }

  Status member_promote(const etcdserverpb::MemberPromoteRequest& req,
                        etcdserverpb::MemberPromoteResponse* resp, Deadline deadline) {
    if (auto st = member_.promote_member(req.id(), deadline); !st) return st;
    fill_header(resp->mutable_header(), member_.status());
    fill_members(resp->mutable_members(), member_, deadline);
    return Status::Ok();
  }

  Status move_leader(const etcdserverpb::MoveLeaderRequest& req, etcdserverpb::MoveLeaderResponse* resp,
                     Deadline deadline) {
    if (auto st = member_.move_leader(req.targetid(), deadline); !st) return st;
    fill_header(resp->mutable_header(), member_.status());
    return Status::Ok();
  }

  // Serves a request forwarded by a follower: the same handlers, never forwarded again.
  Result<std::string> forwarded(const std::string& method, const std::string& body, Deadline deadline,
                                const server::GivenShares* given) {
    if (method == "api.KV.Range" && given != nullptr) {
      etcdserverpb::RangeRequest req;
      if (!req.ParseFromString(body)) return make_error("api.malformed", "malformed forwarded request");
      etcdserverpb::RangeResponse resp;
      if (auto st = fill_range(member_.range(proto::to_range_op(req), *given, deadline), &resp); !st)
        return st.error();
      return resp.SerializeAsString();
    }
    if (method == "api.KV.Range")
      return run<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse>(body, deadline, &Handlers::range);
    if (method == "api.KV.Put")
      return run<etcdserverpb::PutRequest, etcdserverpb::PutResponse>(body, deadline, &Handlers::put);
    if (method == "api.KV.DeleteRange") {
      return run<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse>(
          body, deadline, &Handlers::delete_range);
    }
    if (method == "api.KV.Txn")
      return run<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>(body, deadline, &Handlers::txn);
    if (method == "api.KV.Compact") {
      return run<etcdserverpb::CompactionRequest, etcdserverpb::CompactionResponse>(body, deadline,
                                                                                    &Handlers::compact);
    }
    if (method == "api.Cluster.MemberAdd") {
      return run<etcdserverpb::MemberAddRequest, etcdserverpb::MemberAddResponse>(body, deadline,
                                                                                  &Handlers::member_add);
    }
    if (method == "api.Cluster.MemberRemove") {
      return run<etcdserverpb::MemberRemoveRequest, etcdserverpb::MemberRemoveResponse>(
          body, deadline, &Handlers::member_remove);
    }
    if (method == "api.Cluster.MemberUpdate") {
      return run<etcdserverpb::MemberUpdateRequest, etcdserverpb::MemberUpdateResponse>(
          body, deadline, &Handlers::member_update);
    }
    if (method == "api.Cluster.MemberPromote") {
      return run<etcdserverpb::MemberPromoteRequest, etcdserverpb::MemberPromoteResponse>(
          body, deadline, &Handlers::member_promote);
    }
    if (method == "api.Maintenance.MoveLeader") {
      return run<etcdserverpb::MoveLeaderRequest, etcdserverpb::MoveLeaderResponse>(body, deadline,
                                                                                    &Handlers::move_leader);
    }
    return make_error("api.unknown_method", "unknown forwarded method '" + method + "'");
  }

  // The forwarded writes a leader serves without a thread waiting on each (Member::write_async); false
  // for the methods forwarded() serves.
  bool forwarded_async(const std::string& method, const std::string& body, Deadline deadline,
                       server::Member::ForwardReply& reply) {
    if (method == "api.KV.Put") {
      write_async<etcdserverpb::PutRequest, etcdserverpb::PutResponse>(
          body, deadline, std::move(reply), &proto::from_put, &proto::fill_put_response);
    } else if (method == "api.KV.DeleteRange") {
      write_async<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse>(
          body, deadline, std::move(reply), &proto::from_delete_range, &proto::fill_delete_range_response);
    } else if (method == "api.KV.Txn") {
      write_async<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>(
          body, deadline, std::move(reply), &proto::from_txn, &proto::fill_txn_response);
    } else {
      return false;
    }
    return true;
  }

  // Serves locally when this member can, otherwise forwards to the leader.
  template <class Req, class Resp>
  grpc::Status serve(Deadline deadline, const char* method, const Req& req, Resp* resp, bool needs_leader,
                     Status (Handlers::*handler)(const Req&, Resp*, Deadline)) {
    for (;;) {
      if (!needs_leader || member_.status().is_leader) {
        auto st = (this->*handler)(req, resp, deadline);
        if (st) return grpc::Status::OK;
        if (!mvcc::is(st.error(), server::kNotLeader)) return to_status(st.error());
        resp->Clear();  // lost leadership meanwhile: forward instead
      }
      auto r = forward(std::string("api.") + method, req, deadline);
      if (r) {
        if (!resp->ParseFromString(*r))
          return grpc::Status(grpc::StatusCode::INTERNAL, "malformed leader response");
        return grpc::Status::OK;
      }
      Error e = remote_error(r.error());
      // The leader changed between our look and its answer: try again with the new one.
      if ((mvcc::is(e, server::kNotLeader)) && std::chrono::steady_clock::now() < deadline) continue;
      return to_status(e);
    }
  }

  // write() without a thread waiting on it: `done` gets the response or the error, on the thread
  // Member::write_async says.
  template <class Req, class Resp, class From, class Fill>
  void write_async(const Req& req, Deadline deadline, From from, Fill fill,
                   std::function<void(Result<Resp>)> done) {
    if (auto st = check_size(req.ByteSizeLong()); !st) return done(st.error());
    Result<proto::ProposedRequest> proposed = from(req);
    if (!proposed) return done(proposed.error());
    member_.write_async(to_write(std::move(*proposed)), deadline,
                        [this, fill, done = std::move(done)](Result<server::WriteOutcome> r) {
                          if (!r) return done(r.error());
                          Resp resp;
                          if (auto st = fill_write(*r, &resp, fill); !st) return done(st.error());
                          done(std::move(resp));
                        });
  }

  server::Member& member() { return member_; }

 private:
  template <class Req>
  Result<std::string> forward(const std::string& method, const Req& req, Deadline deadline) {
    return member_.call_leader(method, req.SerializeAsString(), deadline);
  }
  Result<std::string> forward(const std::string& method, const etcdserverpb::RangeRequest& req,
                              Deadline deadline) {
    return member_.call_leader_for_read(proto::to_range_op(req), method, req.SerializeAsString(), deadline);
  }

  Status fill_range(Result<server::ReadOutcome> r, etcdserverpb::RangeResponse* resp) const {
    if (!r) return r.error();
    auto values = ordered_values(proto::kvs_needing_values(r->result), r->values);
    if (!values) return values.error();
    return proto::fill_range_response(r->result, *values, header(), resp);
  }

  proto::HeaderFields header() const {
    const auto st = member_.status();
    return proto::HeaderFields{st.cluster_id, st.id, st.term};
  }

  template <class Req, class Resp, class Fill>
  Status write(const Req& req, Result<proto::ProposedRequest> proposed, Resp* resp, Deadline deadline,
               Fill fill) {
    if (auto st = check_size(req.ByteSizeLong()); !st) return st;
    if (!proposed) return proposed.error();
    auto r = member_.write(to_write(std::move(*proposed)), deadline);
    if (!r) return r.error();
    return fill_write(*r, resp, fill);
  }

  // write() for a forwarded request, answered through `reply` when the entry applies.
  template <class Req, class Resp, class From, class Fill>
  void write_async(const std::string& body, Deadline deadline, server::Member::ForwardReply reply, From from,
                   Fill fill) {
    Req req;
    if (!req.ParseFromString(body)) return reply(make_error("api.malformed", "malformed forwarded request"));
    write_async<Req, Resp>(req, deadline, from, fill, [reply = std::move(reply)](Result<Resp> r) {
      if (!r) return reply(r.error());
      reply(r->SerializeAsString());
    });
  }

  template <class Resp, class Fill>
  Status fill_write(const server::WriteOutcome& r, Resp* resp, Fill fill) const {
    auto values = ordered_values(proto::kvs_needing_values(r.result), r.values);
    if (!values) return values.error();
    return fill(r.result, *values, header(), resp);
  }
  Status check_size(size_t bytes) const {
    if (bytes > max_request_bytes_) return mvcc::make_error(mvcc::kRequestTooLarge);
    return Status::Ok();
  }

  template <class Req, class Resp>
  Result<std::string> run(const std::string& body, Deadline deadline,
                          Status (Handlers::*handler)(const Req&, Resp*, Deadline)) {
    Req req;
    if (!req.ParseFromString(body)) return make_error("api.malformed", "malformed forwarded request");
    Resp resp;
    if (auto st = (this->*handler)(req, &resp, deadline); !st) return st.error();
    return resp.SerializeAsString();
  }

  server::Member& member_;
  size_t max_request_bytes_;
};

// Client calls answered from callbacks. Put, DeleteRange and Txn: on the leader, from the one that sees
// the entry apply (Member::write_async); on a follower, from the one that gets the leader's answer on the
// Raft stream (Member::call_leader_async). A linearizable Range on a follower: from the leader's answer
// (Member::call_leader_for_read_async). Calls that block go to a pool of threads: a Range the member
// serves itself (it waits for share fetches), and a forward while no leader is known, to a leader that
// takes no stream requests, or retried after a leadership loss.
class AsyncCalls {
 public:
  AsyncCalls(Handlers& h, PendingCalls& pending, ThreadPool& pool) : h_(h), pending_(pending), pool_(pool) {}

  grpc::ServerUnaryReactor* serve_range(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::RangeRequest* req,
                                        etcdserverpb::RangeResponse* resp) {
    auto c = std::make_shared<ReadCall>();
    if (!admit(ctx, req, resp, *c)) return c->reactor;
    dispatch_range(c);
    return c->reactor;
  }

  template <class Req, class Resp, class From, class Fill>
  grpc::ServerUnaryReactor* serve(grpc::CallbackServerContext* ctx, const char* method, const Req* req,
                                  Resp* resp, From from, Fill fill,
                                  Status (Handlers::*handler)(const Req&, Resp*, Deadline)) {
    auto c = std::make_shared<WriteCall<Req, Resp, From, Fill>>();
    c->method = method;
    c->from = from;
    c->fill = fill;
    c->handler = handler;
    if (!admit(ctx, req, resp, *c)) return c->reactor;
    dispatch(c);
    return c->reactor;
  }

 private:
  // Fills the call's common part and registers it; false when the server is stopping (then answered).
  template <class Req, class Resp, class C>
  bool admit(grpc::CallbackServerContext* ctx, const Req* req, Resp* resp, C& c) {
    c.reactor = ctx->DefaultReactor();
    c.deadline = deadline_of(ctx);
    c.req = *req;  // gRPC's copy is freed once the call is answered, which may precede a retry
    c.resp = resp;
    // Registered last: from here on the sweeper or shutdown may answer the call, and gRPC free `req`.
    auto* reactor = c.reactor;
    c.call = pending_.add(c.deadline, [reactor](const Error& e) { reactor->Finish(to_status(e)); });
    if (c.call) return true;
    reactor->Finish(to_status(mvcc::make_error(server::kStopped)));
    return false;
  }

  template <class Req, class Resp, class From, class Fill>
  struct WriteCall {
    Req req;
    Resp* resp = nullptr;  // gRPC's; written only by whoever took the call
    grpc::ServerUnaryReactor* reactor = nullptr;
    std::shared_ptr<PendingCalls::Call> call;
    Deadline deadline;
    const char* method = nullptr;  // "KV.Put"
    From from;
    Fill fill;
    Status (Handlers::*handler)(const Req&, Resp*, Deadline) = nullptr;
  };
  struct ReadCall {
    etcdserverpb::RangeRequest req;
    etcdserverpb::RangeResponse* resp = nullptr;
    grpc::ServerUnaryReactor* reactor = nullptr;
    std::shared_ptr<PendingCalls::Call> call;
    Deadline deadline;
    const char* method = "KV.Range";
    Status (Handlers::*handler)(const etcdserverpb::RangeRequest&, etcdserverpb::RangeResponse*,
                                Deadline) = &Handlers::range;
  };

  void dispatch_range(const std::shared_ptr<ReadCall>& c) {
    if (c->call->answered()) return;
    const bool needs_leader = !c->req.serializable();
    // Forwarding reads this member's shares of what the range finds first (on this gRPC thread): only
    // for one key, so a large range does not hold up the thread; larger ones forward from the pool.
    const bool one_key = c->req.range_end().empty() || c->req.keys_only() || c->req.count_only();
    if (needs_leader && one_key && !h_.member().status().is_leader) {
      const bool sent = h_.member().call_leader_for_read_async(
          proto::to_range_op(c->req), "api.KV.Range", c->req.SerializeAsString(), c->deadline,
          [this, c](Result<std::string> r) { forwarded_answer(c, std::move(r)); });
      if (sent) return;
    }
    run_blocking(c, needs_leader);
  }

  // The leader's answer to a forwarded call, on the transport thread that read it.
  template <class C>
  void forwarded_answer(const std::shared_ptr<C>& c, Result<std::string> r) {
    using Resp = std::remove_pointer_t<decltype(c->resp)>;
    if (c->call->answered()) return;  // this server may be gone; touch nothing
    if (!r) {
      Error e = remote_error(r.error());
      // It must not block on sending the retry.
      if (retry(e, c->deadline)) return pool_.run([this, c] { redispatch(c); });
      return answer(c, Result<Resp>(std::move(e)));
    }
    Resp resp;
    if (!resp.ParseFromString(*r))
      return answer(c, Result<Resp>(make_error("api.internal", "malformed leader response")));
    answer(c, Result<Resp>(std::move(resp)));
  }
  void redispatch(const std::shared_ptr<ReadCall>& c) { dispatch_range(c); }
  template <class C>
  void redispatch(const std::shared_ptr<C>& c) {
    dispatch(c);
  }

  // The synchronous path, on a pool thread.
  template <class C>
  void run_blocking(const std::shared_ptr<C>& c, bool needs_leader) {
    pool_.run([this, c, needs_leader] {
      using Resp = std::remove_pointer_t<decltype(c->resp)>;
      if (c->call->answered()) return;
      Resp resp;
      grpc::Status st = h_.serve(c->deadline, c->method, c->req, &resp, needs_leader, c->handler);
      if (!c->call->take()) return;
      if (st.ok()) *c->resp = std::move(resp);
      c->reactor->Finish(st);
    });
  }

  template <class C>
  void dispatch(const std::shared_ptr<C>& c) {
    using Resp = std::remove_pointer_t<decltype(c->resp)>;
    if (c->call->answered()) return;
    if (h_.member().status().is_leader) {
      h_.write_async(c->req, c->deadline, c->from, c->fill,
                     std::function<void(Result<Resp>)>([this, c](Result<Resp> r) {
                       if (c->call->answered()) return;  // this server may be gone; touch nothing
                       // kNotLeader: leadership was lost before the entry was proposed, so forward it
                       // instead; this may be the member's loop, which must not block on sending.
                       if (!r && retry(r.error(), c->deadline)) return pool_.run([this, c] { dispatch(c); });
                       answer(c, std::move(r));
                     }));
      return;
    }
    const bool sent = h_.member().call_leader_async(
        std::string("api.") + c->method, c->req.SerializeAsString(), c->deadline,
        [this, c](Result<std::string> r) { forwarded_answer(c, std::move(r)); });
    if (!sent) run_blocking(c, true);
  }

  static bool retry(const Error& e, Deadline deadline) {
    return mvcc::is(e, server::kNotLeader) && std::chrono::steady_clock::now() < deadline;
  }

  template <class C, class Resp>
  static void answer(const std::shared_ptr<C>& c, Result<Resp> r) {
    if (!c->call->take()) return;  // answered already (deadline, shutdown)
    if (!r) return c->reactor->Finish(to_status(r.error()));
    *c->resp = std::move(*r);
    c->reactor->Finish(grpc::Status::OK);
  }

  Handlers& h_;
  PendingCalls& pending_;
  ThreadPool& pool_;
};

using KvBase = etcdserverpb::KV::WithCallbackMethod_Range<
    etcdserverpb::KV::WithCallbackMethod_Put<etcdserverpb::KV::WithCallbackMethod_DeleteRange<
        etcdserverpb::KV::WithCallbackMethod_Txn<etcdserverpb::KV::Service>>>>;

class KvService final : public KvBase {
 public:
  KvService(Handlers& h, AsyncCalls& calls) : h_(h), calls_(calls) {}
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx, const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override {
    return calls_.serve_range(ctx, req, resp);
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override {
    return calls_.serve(ctx, "KV.Put", req, resp, &proto::from_put, &proto::fill_put_response,
                        &Handlers::put);
  }
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override {
    return calls_.serve(ctx, "KV.DeleteRange", req, resp, &proto::from_delete_range,
                        &proto::fill_delete_range_response, &Handlers::delete_range);
  }
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx, const etcdserverpb::TxnRequest* req,
                                etcdserverpb::TxnResponse* resp) override {
    return calls_.serve(ctx, "KV.Txn", req, resp, &proto::from_txn, &proto::fill_txn_response,
                        &Handlers::txn);
  }
  grpc::Status Compact(grpc::ServerContext* ctx, const etcdserverpb::CompactionRequest* req,
                       etcdserverpb::CompactionResponse* resp) override {
    return h_.serve(deadline_of(ctx), "KV.Compact", *req, resp, true, &Handlers::compact);
  }

 private:
  Handlers& h_;
  AsyncCalls& calls_;
};

class MaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  MaintenanceService(Handlers& h, std::string version) : h_(h), version_(std::move(version)) {}
  grpc::Status Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                      etcdserverpb::StatusResponse* resp) override {
    auto& m = h_.member();
    const auto st = m.status();
    fill_header(resp->mutable_header(), st);
    resp->set_version(version_);
    const auto bytes = static_cast<int64_t>(m.data_bytes());
    resp->set_dbsize(bytes);
    resp->set_dbsizeinuse(bytes);
    resp->set_leader(st.leader);
    resp->set_raftindex(st.commit);
    resp->set_raftterm(st.term);
    resp->set_raftappliedindex(st.applied);
    if (st.leader == 0) resp->add_errors(std::string(server::kNoLeader.message));
    return grpc::Status::OK;
  }
  grpc::Status MoveLeader(grpc::ServerContext* ctx, const etcdserverpb::MoveLeaderRequest* req,
                          etcdserverpb::MoveLeaderResponse* resp) override {
    return h_.serve(deadline_of(ctx), "Maintenance.MoveLeader", *req, resp, true, &Handlers::move_leader);
  }

 private:
  Handlers& h_;
  std::string version_;
};

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(Handlers& h) : h_(h) {}
  grpc::Status MemberList(grpc::ServerContext* ctx, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* resp) override {
    auto& m = h_.member();
    fill_header(resp->mutable_header(), m.status());
    fill_members(resp->mutable_members(), m, deadline_of(ctx));
    return grpc::Status::OK;
  }
  grpc::Status MemberAdd(grpc::ServerContext* ctx, const etcdserverpb::MemberAddRequest* req,
                         etcdserverpb::MemberAddResponse* resp) override {
    return h_.serve(deadline_of(ctx), "Cluster.MemberAdd", *req, resp, true, &Handlers::member_add);
  }
  grpc::Status MemberRemove(grpc::ServerContext* ctx, const etcdserverpb::MemberRemoveRequest* req,
                            etcdserverpb::MemberRemoveResponse* resp) override {
    return h_.serve(deadline_of(ctx), "Cluster.MemberRemove", *req, resp, true, &Handlers::member_remove);
  }
  grpc::Status MemberUpdate(grpc::ServerContext* ctx, const etcdserverpb::MemberUpdateRequest* req,
                            etcdserverpb::MemberUpdateResponse* resp) override {
    return h_.serve(deadline_of(ctx), "Cluster.MemberUpdate", *req, resp, true, &Handlers::member_update);
  }
  grpc::Status MemberPromote(grpc::ServerContext* ctx, const etcdserverpb::MemberPromoteRequest* req,
                             etcdserverpb::MemberPromoteResponse* resp) override {
    return h_.serve(deadline_of(ctx), "Cluster.MemberPromote", *req, resp, true, &Handlers::member_promote);
  }

 private:
  Handlers& h_;
};

class Server final : public EtcdApiServer {
 public:
  Server(server::Member& member, ApiServerOptions options)
      : options_(std::move(options)),
        handlers_(member, options_.max_request_bytes),
        pending_(mvcc::make_error(server::kTimeout)),
        blocking_("api-blocking", kBlockingThreads),
        calls_(handlers_, pending_, blocking_),
        kv_(handlers_, calls_),
        maintenance_(handlers_, options_.version),
        cluster_(handlers_) {}

  ~Server() override { shutdown(); }

  etsecd::Status start() {
    std::shared_ptr<grpc::ServerCredentials> creds;
    if (options_.tls) {
      auto cert = read_file(options_.cert_file, "client certificate");
      if (!cert) return cert.error();
      auto key = read_file(options_.key_file, "client key");
      if (!key) return key.error();
      grpc::SslServerCredentialsOptions o(options_.client_cert_auth
                                              ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
      if (!options_.trusted_ca_file.empty()) {
        auto ca = read_file(options_.trusted_ca_file, "trusted CA");
        if (!ca) return ca.error();
        o.pem_root_certs = *ca;
      }
      o.pem_key_cert_pairs.push_back({*key, *cert});
      creds = grpc::SslServerCredentials(o);
    } else {
      creds = grpc::InsecureServerCredentials();
    }
    grpc::ServerBuilder builder;
    ports_.resize(options_.listen_addresses.size());
    for (size_t i = 0; i < options_.listen_addresses.size(); ++i) {
      builder.AddListeningPort(options_.listen_addresses[i], creds, &ports_[i]);
    }
    builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_request_bytes + kGrpcOverheadBytes));
    builder.SetMaxSendMessageSize(INT32_MAX);
    builder.RegisterService(&kv_);
    // The synchronous handlers (Compact, Maintenance, Cluster) block until the leader answers. When all
    // client calls were synchronous, gRPC's default of 2 idle pollers meant one thread created and
    // destroyed per request under load (~20% of the members' CPU at 64 clients); kept for those calls.
    // Idle pollers above the minimum still exit after the CQ timeout.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
    builder.RegisterService(&maintenance_);
    builder.RegisterService(&cluster_);
    server_ = builder.BuildAndStart();
    if (!server_) return make_error("api.listen", "cannot start the client API server");
    for (size_t i = 0; i < ports_.size(); ++i) {
      if (ports_[i] == 0) {
        return make_error("api.listen",
                          "cannot listen for clients on '" + options_.listen_addresses[i] + "'");
      }
    }
    handlers_.member().set_forward_handler([this](const std::string& method, const std::string& body,
                                                  Deadline deadline, const server::GivenShares* given) {
      return handlers_.forwarded(method, body, deadline, given);
    });
    handlers_.member().set_async_forward_handler([this](const std::string& method, const std::string& body,
                                                        Deadline deadline,
                                                        server::Member::ForwardReply reply) {
      return handlers_.forwarded_async(method, body, deadline, reply);
    });
    return etsecd::Status::Ok();
  }

  std::vector<int> bound_ports() const override { return ports_; }

  void shutdown() override {
    if (!server_) return;
    handlers_.member().set_forward_handler(nullptr);
    handlers_.member().set_async_forward_handler(nullptr);
    // gRPC's shutdown waits for every callback call to be answered.
    pending_.close(mvcc::make_error(server::kStopped));
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    blocking_.stop();
    server_.reset();
  }

 private:
  ApiServerOptions options_;
  Handlers handlers_;
  PendingCalls pending_;
  ThreadPool blocking_;
  AsyncCalls calls_;
  KvService kv_;
  MaintenanceService maintenance_;
  ClusterService cluster_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<int> ports_;
};

}  // namespace

Result<std::unique_ptr<EtcdApiServer>> EtcdApiServer::start(server::Member& member,
                                                            ApiServerOptions options) {
  auto s = std::make_unique<Server>(member, std::move(options));
  if (auto st = s->start(); !st) return st.error();
  return std::unique_ptr<EtcdApiServer>(std::move(s));
}

}  // namespace etsecd::api
