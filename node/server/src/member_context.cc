#include "member_context.h"

#include "etsecd/server/errors.h"

namespace etsecd::server {
namespace {

constexpr char kMagic[] = "etsecd-member-context-v1";

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

raft::Bytes encode_member_context(const MemberContext& context) {
  std::string text = std::string(kMagic) + "\n" + context.name;
  for (const auto& u : context.peer_urls) text += "\n" + u;
  return raft::Bytes(text.begin(), text.end());
}

Result<MemberContext> decode_member_context(const raft::Bytes& bytes) {
  auto lines = split_lines(std::string(bytes.begin(), bytes.end()));
  if (lines.size() < 3 || lines[0] != kMagic)
    return make_error("server.bad_member_context", "a member's context in the membership is not readable");
  MemberContext c;
  c.name = lines[1];
  c.peer_urls.assign(lines.begin() + 2, lines.end());
  for (const auto& u : c.peer_urls) {
    if (u.empty()) return make_error("server.bad_member_context", "a member's context has an empty peer URL");
  }
  return c;
}

Status check_peer_url(const std::string& url) {
  auto bad = [&](const std::string& why) { return mvcc::make_error(kMemberBadUrls, "'" + url + "' " + why); };
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return bad("must start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  for (char c : rest) {
    if (c == '/' || c == '?' || c == '#' || c == '@' || c <= ' ' || c == 127)
      return bad("must be scheme://host:port");
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return bad("has no host:port");
  const std::string port = rest.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) == 0 ||
      std::stoul(port) > 65535) {
    return bad("has an invalid port");
  }
  return Status::Ok();
}

}  // namespace etsecd::server
