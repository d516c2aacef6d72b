// The production coefficient source: AES-256 in counter mode (OpenSSL EVP, which uses AES-NI where the
// CPU has it) keyed with 32 bytes and a 16-byte initial counter from RAND_bytes. Re-keyed from
// RAND_bytes after every kRekeyBytes of output, and after fork() so a child never replays its
// parent's stream. Small requests are served from a buffer of keystream so that splitting a 64-byte
// value does not pay one EVP call per value. Used buffer bytes are wiped as they are handed out.

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "etsecd/shamir/random.h"

namespace etsecd::shamir {
namespace {

constexpr uint64_t kRekeyBytes = uint64_t{1} << 32;  // far below AES-CTR's 2^64-block bound
constexpr size_t kBufferBytes = 4096;
constexpr size_t kZeroBlock = 16 * 1024;

std::atomic<uint64_t> g_fork_generation{0};

void note_fork() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

uint64_t fork_generation() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, &note_fork); });
  return g_fork_generation.load(std::memory_order_relaxed);
}

[[noreturn]] void die(const char* what) {
  // Weak coefficients would silently leak secrets, so a broken CSPRNG stops the process.
  std::fprintf(stderr, "etsecd: CSPRNG failure: %s\n", what);
  std::abort();
}

const uint8_t* zeros() {
  alignas(64) static const std::array<uint8_t, kZeroBlock> block{};
  return block.data();
}

class AesCtrRandom final : public RandomSource {
 public:
  AesCtrRandom() : ctx_(EVP_CIPHER_CTX_new()) {
    if (ctx_ == nullptr) die("EVP_CIPHER_CTX_new");
    rekey();
  }
  ~AesCtrRandom() override {
    OPENSSL_cleanse(buffer_.data(), buffer_.size());
    EVP_CIPHER_CTX_free(ctx_);
  }
  AesCtrRandom(const AesCtrRandom&) = delete;
  AesCtrRandom& operator=(const AesCtrRandom&) = delete;

  void fill(std::span<uint8_t> out) override {
    if (generation_ != fork_generation() || produced_ >= kRekeyBytes) rekey();
    size_t done = take_buffered(out);
    if (out.size() - done >= kBufferBytes) {
      keystream(out.data() + done, out.size() - done);
      return;
    }
    if (done < out.size()) {
      keystream(buffer_.data(), buffer_.size());
      available_ = buffer_.size();
      take_buffered(out.subspan(done));
    }
  }

 private:
  size_t take_buffered(std::span<uint8_t> out) {
    const size_t n = std::min(out.size(), available_);
    uint8_t* start = buffer_.data() + (buffer_.size() - available_);
    std::memcpy(out.data(), start, n);
    OPENSSL_cleanse(start, n);
    available_ -= n;
    return n;
  }

  void keystream(uint8_t* out, size_t n) {
    produced_ += n;
    while (n > 0) {
      const int piece = static_cast<int>(std::min(n, kZeroBlock));
      int written = 0;
      if (EVP_EncryptUpdate(ctx_, out, &written, zeros(), piece) != 1 || written != piece) {
        die("EVP_EncryptUpdate");
      }
      out += piece;
      n -= static_cast<size_t>(piece);
    }
  }

  void rekey() {
    std::array<uint8_t, 48> seed;  // 32-byte key, 16-byte initial counter block
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) die("RAND_bytes");
    if (EVP_EncryptInit_ex(ctx_, EVP_aes_256_ctr(), nullptr, seed.data(), seed.data() + 32) != 1) {
      die("EVP_EncryptInit_ex");
    }
    OPENSSL_cleanse(seed.data(), seed.size());
    OPENSSL_cleanse(buffer_.data(), buffer_.size());
    available_ = 0;
    produced_ = 0;
    generation_ = fork_generation();
  }

  EVP_CIPHER_CTX* ctx_;
  alignas(64) std::array<uint8_t, kBufferBytes> buffer_{};
  size_t available_ = 0;
  uint64_t produced_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace

std::unique_ptr<RandomSource> make_csprng() { return std::make_unique<AesCtrRandom>(); }

}  // namespace etsecd::shamir
