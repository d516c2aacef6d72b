#include <openssl/evp.h>

#include <algorithm>

#include "etsecd/server/member.h"

namespace etsecd::server {
namespace {

std::string sha256(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

uint64_t first_u64(const std::string& digest) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(digest[static_cast<size_t>(i)]);
  return v == 0 ? 1 : v;
}

}  // namespace

uint64_t derive_member_id(const std::string& name, const std::string& peer_url, const std::string& token) {
  return first_u64(sha256(std::string("member") + '\0' + name + '\0' + peer_url + '\0' + token));
}

uint64_t derive_added_member_id(const std::string& peer_url, const std::string& token, uint8_t x) {
  return first_u64(sha256(std::string("added-member") + '\0' + peer_url + '\0' + token + '\0' +
                          std::to_string(static_cast<unsigned>(x))));
}

uint64_t derive_cluster_id(const std::vector<uint64_t>& member_ids, const std::string& token) {
  std::vector<uint64_t> ids = member_ids;
  std::sort(ids.begin(), ids.end());
  std::string data = "cluster";
  for (uint64_t id : ids) data += std::to_string(id) + ",";
  return first_u64(sha256(data + token));
}

}  // namespace etsecd::server
