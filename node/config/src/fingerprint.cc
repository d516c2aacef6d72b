#include "etsecd/config/fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace etsecd::config {
namespace {

// Length-prefixed so that no two different settings encode to the same bytes ("a,b" + "c" vs "a" + "b,c").
void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string cluster_fingerprint(const std::vector<InitialMember>& initial_cluster, const std::string& token,
                                std::uint32_t threshold, std::uint32_t commit_quorum) {
  std::vector<const InitialMember*> sorted;
  for (const InitialMember& m : initial_cluster) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string encoded = "etsecd-cluster-fingerprint-v1";
  put(encoded, std::to_string(sorted.size()));
  for (const InitialMember* m : sorted) {
    put(encoded, m->name);
    put(encoded, m->peer_url.str());
    put(encoded, std::to_string(m->share_index));
  }
  put(encoded, token);
  put(encoded, std::to_string(threshold));
  put(encoded, std::to_string(commit_quorum));

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(encoded.data(), encoded.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string cluster_fingerprint(const Config& config) {
  return cluster_fingerprint(config.initial_cluster, config.initial_cluster_token, config.threshold,
                             config.commit_quorum);
}

}  // namespace etsecd::config
