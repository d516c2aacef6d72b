// The injected generators: the deterministic one is reproducible; the CSPRNG is not, survives fork()
// without replaying its stream, and its bytes look uniform.

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

std::vector<uint8_t> draw(RandomSource& rng, size_t n) {
  std::vector<uint8_t> out(n);
  rng.fill(out);
  return out;
}

TEST_CASE("deterministic: same seed same bytes, any fill sizes; different seed different bytes") {
  auto a = make_deterministic(123);
  auto b = make_deterministic(123);
  auto c = make_deterministic(124);
  const std::vector<uint8_t> whole = draw(*a, 64);
  std::vector<uint8_t> pieces = draw(*b, 5);
  for (size_t n : {3, 8, 1, 47}) {
    const std::vector<uint8_t> more = draw(*b, n);
    pieces.insert(pieces.end(), more.begin(), more.end());
  }
  CHECK(whole == pieces);
  CHECK(draw(*c, 64) != whole);
}

TEST_CASE("csprng: instances differ, fills of all sizes are non-trivial") {
  auto a = make_csprng();
  auto b = make_csprng();
  CHECK(draw(*a, 32) != draw(*b, 32));
  // Cross the internal buffer boundary with small, odd and large requests.
  for (size_t n : {1, 15, 16, 17, 4095, 4096, 4097, 100000, 3}) {
    const std::vector<uint8_t> x = draw(*a, n);
    const std::vector<uint8_t> y = draw(*a, n);
    if (n >= 8) CHECK(x != y);
  }
}

TEST_CASE("csprng: byte frequencies are uniform (chi-square, df 255, alpha 1e-6)") {
  auto rng = make_csprng();
  std::array<uint64_t, 256> counts{};
  for (int i = 0; i < 64; ++i) {
    for (uint8_t byte : draw(*rng, 16384 + static_cast<size_t>(i))) ++counts[byte];
  }
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  const double expected = double(total) / 256;
  double statistic = 0;
  for (uint64_t c : counts) statistic += (double(c) - expected) * (double(c) - expected) / expected;
  CHECK(statistic < 380.0);  // chi-square(255) upper 1e-6 point is about 377 (Wilson-Hilferty)
}

TEST_CASE("csprng: a forked child does not replay the parent's stream") {
  auto rng = make_csprng();
  (void)draw(*rng, 100);  // leave buffered keystream behind, as a running process would
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::vector<uint8_t> child = draw(*rng, 64);
    const ssize_t w = write(fds[1], child.data(), child.size());
    _exit(w == 64 ? 0 : 1);
  }
  close(fds[1]);
  const std::vector<uint8_t> parent = draw(*rng, 64);
  std::vector<uint8_t> child(64);
  size_t got = 0;
  while (got < child.size()) {
    const ssize_t r = read(fds[0], child.data() + got, child.size() - got);
    REQUIRE(r > 0);
    got += static_cast<size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(parent != child);
}

}  // namespace
}  // namespace etsecd::shamir
