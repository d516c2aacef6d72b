#include "etsecd/kube/token_source.h"

#include <fstream>
#include <sstream>

#include "etsecd/kube/errors.h"

namespace etsecd::kube {

FileTokenSource::FileTokenSource(std::string path, const Clock& clock, std::chrono::seconds refresh_interval)
    : path_(std::move(path)), clock_(clock), refresh_interval_(refresh_interval) {}

Result<std::string> FileTokenSource::token() {
  std::lock_guard lock(mu_);
  auto now = clock_.now();
  if (have_token_ && now - read_at_ < refresh_interval_) return token_;
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (!in || token.empty()) {
    // The kubelet replaces the file atomically, but a briefly missing file must not drop a good token.
    if (have_token_) return token_;
    return make_kube_error(ErrorKind::kConfig, "cannot read a bearer token from " + path_);
  }
  token_ = std::move(token);
  have_token_ = true;
  read_at_ = now;
  return token_;
}

void FileTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  read_at_ = std::chrono::steady_clock::time_point{};
  if (have_token_) read_at_ = clock_.now() - refresh_interval_;
}

}  // namespace etsecd::kube
