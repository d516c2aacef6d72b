#pragma once
// Bearer token read from a file that the kubelet rotates (bound service account tokens expire in about
// an hour): re-read at most every refresh interval, and at once after a 401.

#include <chrono>
#include <mutex>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/kube/clock.h"

namespace etsecd::kube {

class FileTokenSource {
 public:
  FileTokenSource(std::string path, const Clock& clock,
                  std::chrono::seconds refresh_interval = std::chrono::seconds(60));
  // The current token (trimmed); a read failure keeps serving the last good token if there was one.
  Result<std::string> token();
  // Forces a re-read on the next token() (the server rejected the token).
  void invalidate();

 private:
  std::string path_;
  const Clock& clock_;
  std::chrono::seconds refresh_interval_;
  std::mutex mu_;
  std::string token_;
  bool have_token_ = false;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace etsecd::kube
