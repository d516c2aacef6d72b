#include "etsecd/wire/share_fetch.h"

#include "value_ref_io.h"

namespace etsecd::wire {
namespace {

using detail::check_version;
using detail::finish;
using detail::get_ref;
using detail::malformed;
using detail::put_ref;
using detail::Reader;
using detail::Writer;

constexpr uint8_t kVersion = 1;

}  // namespace

std::string encode_share_fetch_request(const ShareFetchRequest& req) {
  Writer w;
  w.u8(kVersion);
  w.varint(req.term);
  w.bytes(req.read_context);
  w.varint(req.min_applied);
  w.varint(req.refs.size());
  for (const auto& ref : req.refs) put_ref(w, ref);
  return w.take();
}

Result<ShareFetchRequest> decode_share_fetch_request(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, "share fetch request"); !v) return v.error();
  ShareFetchRequest req;
  uint64_t n = 0;
  if (!r.varint(req.term) || !r.bytes(req.read_context) || !r.varint(req.min_applied) || !r.count(n)) {
    return malformed("share fetch request");
  }
  req.refs.resize(n);
  for (auto& ref : req.refs) {
    if (!get_ref(r, ref)) return malformed("share fetch request");
  }
  return finish(r, std::move(req), "share fetch request");
}

std::string encode_share_fetch_response(const ShareFetchResponse& resp) {
  Writer w;
  w.u8(kVersion);
  w.varint(resp.term);
  w.varint(resp.leader);
  w.varint(resp.applied);
  w.varint(resp.items.size());
  for (const auto& item : resp.items) {
    w.u8(static_cast<uint8_t>(item.status));
    w.bytes(item.share);
  }
  return w.take();
}

Result<ShareFetchResponse> decode_share_fetch_response(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, "share fetch response"); !v) return v.error();
  ShareFetchResponse resp;
  uint64_t n = 0;
  if (!r.varint(resp.term) || !r.varint(resp.leader) || !r.varint(resp.applied) || !r.count(n)) {
    return malformed("share fetch response");
  }
  resp.items.resize(n);
  for (auto& item : resp.items) {
    uint8_t status = 0;
    if (!r.u8(status) || status > static_cast<uint8_t>(ShareStatus::kNotApplied) || !r.bytes(item.share)) {
      return malformed("share fetch response");
    }
    item.status = static_cast<ShareStatus>(status);
  }
  return finish(r, std::move(resp), "share fetch response");
}

}  // namespace etsecd::wire
