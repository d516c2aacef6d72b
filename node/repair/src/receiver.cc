#include "etsecd/repair/receiver.h"

#include "etsecd/mvcc/errors.h"
#include "etsecd/wire/repair_messages.h"

namespace etsecd::repair {

Result<std::string> serve_shares(const mvcc::Store& store, std::span<const uint8_t> body) {
  auto req = wire::decode_repair_shares_request(body);
  if (!req) return req.error();
  if (store.applied_index() < req->min_applied) {
    return make_error("repair.behind", "this member has applied " + std::to_string(store.applied_index()) +
                                           ", the snapshot needs " + std::to_string(req->min_applied));
  }
  auto shares = store.shares_of(req->records);
  if (!shares) return shares.error();
  return wire::encode_repair_shares_response(wire::RepairSharesResponse{std::move(*shares)});
}

Result<std::string> Receiver::handle(const std::string& method, std::span<const uint8_t> body) {
  if (method == wire::kRepairBeginMethod) {
    auto req = wire::decode_repair_begin_request(body);
    if (!req) return req.error();
    const mvcc::InstallState st = store_.install_state();
    wire::RepairBeginResponse resp;
    if (st.active && st.source == req->source && st.target == req->point) {
      if (st.started) resp.cursor = st.cursor;  // resume after the last installed record
    } else if (Status s = store_.begin_install(req->source, req->point); !s) {
      return s.error();
    }
    return wire::encode_repair_begin_response(resp);
  }
  if (method == wire::kRepairChunkMethod) {
    auto req = wire::decode_repair_chunk_request(body);
    if (!req) return req.error();
    const mvcc::InstallState st = store_.install_state();
    if (!st.active || st.source != req->source) return mvcc::make_error(mvcc::kNoInstall);
    if (Status s = store_.install_chunk(req->records); !s) return s.error();
    return std::string();
  }
  if (method == wire::kRepairFinishMethod) {
    auto req = wire::decode_repair_finish_request(body);
    if (!req) return req.error();
    const mvcc::InstallState st = store_.install_state();
    if (!st.active || st.source != req->source) return mvcc::make_error(mvcc::kNoInstall);
    if (hooks_.install_raft) {
      if (Status s = hooks_.install_raft(st.target, req->raft_snapshot); !s) return s.error();
    }
    if (Status s = store_.finish_install(); !s) return s.error();
    if (hooks_.published) hooks_.published(st.target);
    return std::string();
  }
  return make_error("repair.unknown_method", "no share-repair method " + method);
}

}  // namespace etsecd::repair
