#include "etsecd/kube/backoff.h"

#include <doctest/doctest.h>

using namespace etsecd::kube;
using std::chrono::milliseconds;

TEST_CASE("exponential growth with bounded jitter and a cap") {
  BackoffPolicy p{milliseconds(100), milliseconds(5000), 2.0, 0.5};
  Backoff b(p, 42);
  double base = 100;
  for (int i = 0; i < 12; ++i) {
    auto d = b.next();
    double lo = std::min(base, 5000.0);
    double hi = std::min(base * 1.5, 5000.0);
    CHECK(d.count() >= static_cast<long>(lo) - 1);
    CHECK(d.count() <= static_cast<long>(hi));
    base *= 2;
  }
  CHECK(b.next() <= milliseconds(5000));
  b.reset();
  auto first = b.next();
  CHECK(first >= milliseconds(100));
  CHECK(first <= milliseconds(150));
}

TEST_CASE("jitter differs between seeds, is reproducible for one seed") {
  Backoff a(BackoffPolicy{}, 1), b(BackoffPolicy{}, 2), a2(BackoffPolicy{}, 1);
  bool differ = false;
  for (int i = 0; i < 5; ++i) {
    auto x = a.next();
    differ |= x != b.next();
    CHECK(x == a2.next());
  }
  CHECK(differ);
}

TEST_CASE("no jitter: exact doubling; long runs never overflow") {
  Backoff b(BackoffPolicy{milliseconds(10), milliseconds(1000), 2.0, 0.0}, 0);
  CHECK(b.next() == milliseconds(10));
  CHECK(b.next() == milliseconds(20));
  CHECK(b.next() == milliseconds(40));
  for (int i = 0; i < 10000; ++i) CHECK_LE(b.next(), milliseconds(1000));
  CHECK(b.next() == milliseconds(1000));
}

TEST_CASE("a zero policy means no waiting, not NaN") {
  Backoff b(BackoffPolicy{milliseconds(0), milliseconds(1000), 2.0, 0.5}, 3);
  for (int i = 0; i < 2000; ++i) CHECK(b.next() == milliseconds(0));
}
