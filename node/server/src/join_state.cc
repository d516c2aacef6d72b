#include "join_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace etsecd::server {
namespace {

constexpr char kMagic[] = "etsecd-join-v1";

Error bad(const std::string& why) { return make_error("server.bad_join_state", "join state: " + why); }

}  // namespace

std::string encode_join_info(const JoinInfo& info) {
  std::ostringstream out;
  out << kMagic << "\n";
  out << "cluster_id " << info.cluster_id << "\n";
  out << "fingerprint " << info.fingerprint << "\n";
  out << "threshold " << info.bootstrap.threshold << "\n";
  out << "commit_quorum_override " << info.bootstrap.commit_quorum_override << "\n";
  out << "max_x_used " << static_cast<unsigned>(info.bootstrap.max_x_used) << "\n";
  out << "self " << info.self_id << " " << static_cast<unsigned>(info.self_x) << "\n";
  for (size_t i = 0; i < info.bootstrap.members.size(); ++i) {
    const auto& m = info.bootstrap.members[i];
    const PeerSpec spec = i < info.bootstrap_peers.size() ? info.bootstrap_peers[i] : PeerSpec{};
    out << "member " << m.id << " " << static_cast<unsigned>(m.x) << " " << (m.voter ? 1 : 0) << " "
        << spec.peer_url << " " << spec.name << "\n";
  }
  return out.str();
}

Result<JoinInfo> decode_join_info(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return bad("unknown format");
  JoinInfo info;
  bool have_self = false, have_fingerprint = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream f(line);
    std::string key;
    f >> key;
    unsigned long long a = 0, b = 0, c = 0;
    if (key == "cluster_id") {
      if (!(f >> info.cluster_id)) return bad("bad cluster_id");
    } else if (key == "fingerprint") {
      if (!(f >> info.fingerprint) || info.fingerprint.empty()) return bad("bad fingerprint");
      have_fingerprint = true;
    } else if (key == "threshold") {
      if (!(f >> info.bootstrap.threshold)) return bad("bad threshold");
    } else if (key == "commit_quorum_override") {
      if (!(f >> info.bootstrap.commit_quorum_override)) return bad("bad commit quorum");
    } else if (key == "max_x_used") {
      if (!(f >> a) || a > 255) return bad("bad max_x_used");
      info.bootstrap.max_x_used = static_cast<uint8_t>(a);
    } else if (key == "self") {
      if (!(f >> a >> b) || a == 0 || b == 0 || b > 255) return bad("bad self line");
      info.self_id = a;
      info.self_x = static_cast<uint8_t>(b);
      have_self = true;
    } else if (key == "member") {
      PeerSpec spec;
      if (!(f >> a >> b >> c >> spec.peer_url) || a == 0 || b == 0 || b > 255 || c > 1)
        return bad("bad member line");
      std::getline(f >> std::ws, spec.name);
      info.bootstrap.members.push_back(raft::Member{a, static_cast<uint8_t>(b), c == 1, {}});
      info.bootstrap_peers.push_back(std::move(spec));
    } else {
      return bad("unknown line '" + key + "'");
    }
  }
  if (!have_self || !have_fingerprint || info.bootstrap.members.empty() || info.cluster_id == 0)
    return bad("incomplete");
  return info;
}

std::string join_state_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "join.state").string();
}

namespace {

Status write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("server.data_dir", "cannot write '" + tmp + "'");
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error("server.data_dir", "cannot write '" + path + "'");
  return Status::Ok();
}

}  // namespace

Status write_join_state(const std::string& data_dir, const JoinInfo& info) {
  return write_atomically(join_state_path(data_dir), encode_join_info(info));
}

std::string heard_peers_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "peers.heard").string();
}

Result<std::set<uint64_t>> read_heard_peers(const std::string& data_dir) {
  std::set<uint64_t> ids;
  const std::string path = heard_peers_path(data_dir);
  if (!std::filesystem::exists(path)) return ids;
  std::ifstream in(path);
  if (!in) return make_error("server.data_dir", "cannot read '" + path + "'");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    errno = 0;
    char* end = nullptr;
    const unsigned long long id = std::strtoull(line.c_str(), &end, 10);
    // strtoull alone would accept "-3" (wrapped) and leading spaces.
    const bool digits_only = line.find_first_not_of("0123456789") == std::string::npos;
    if (!digits_only || errno != 0 || end == line.c_str() || *end != '\0' || id == 0)
      return make_error("server.data_dir",
                        "'" + path + "' holds a line that is not a member id: '" + line + "'");
    ids.insert(id);
  }
  return ids;
}

Status write_heard_peers(const std::string& data_dir, const std::set<uint64_t>& ids) {
  std::string text;
  for (uint64_t id : ids) text += std::to_string(id) + "\n";
  return write_atomically(heard_peers_path(data_dir), text);
}

Result<JoinInfo> read_join_state(const std::string& data_dir) {
  std::ifstream in(join_state_path(data_dir));
  if (!in) return bad("cannot read '" + join_state_path(data_dir) + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return decode_join_info(s.str());
}

}  // namespace etsecd::server
