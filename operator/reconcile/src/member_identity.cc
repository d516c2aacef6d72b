#include "member_identity.h"

#include <openssl/evp.h>

namespace etsecd::reconcile::detail {

std::uint64_t added_member_id(const std::string& peer_url, const std::string& token, int share_index) {
  const std::string data =
      std::string("added-member") + '\0' + peer_url + '\0' + token + '\0' + std::to_string(share_index);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | digest[i];
  return id == 0 ? 1 : id;
}

std::optional<int> added_member_share_index(std::uint64_t id, const std::string& peer_url,
                                            const std::string& token) {
  for (int x = 1; x <= 255; ++x) {
    if (added_member_id(peer_url, token, x) == id) return x;
  }
  return std::nullopt;
}

}  // namespace etsecd::reconcile::detail
