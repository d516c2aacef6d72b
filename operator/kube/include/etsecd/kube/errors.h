#pragma once
// Typed Kubernetes API errors. They travel as etsecd::Error with a stable "kube.*" code so that callers
// decide requeues on the kind (error_kind) and show people the API server's own message.

#include <string>
#include <string_view>

#include "etsecd/common/result.h"

namespace etsecd::kube {

enum class ErrorKind {
  kOther,            // an error that is not one of the kinds below (or not a kube error at all)
  kNotFound,         // 404
  kAlreadyExists,    // 409 reason AlreadyExists
  kConflict,         // 409 (stale resourceVersion, failed precondition)
  kGone,             // 410 / "too old resource version": the watch or continue token expired; re-list
  kUnauthorized,     // 401
  kForbidden,        // 403
  kInvalid,          // 422: the object failed validation (CEL rules, schema); message says why
  kBadRequest,       // 400
  kTimeout,          // 504, reason Timeout/ServerTimeout, or the client's own deadline
  kTooManyRequests,  // 429
  kServerError,      // other 5xx
  kTransport,        // no HTTP answer: connection refused, TLS failure, reset
  kConfig,           // bad kubeconfig / in-cluster setup
  kDecode,           // the server sent something that is not the JSON we expected
  kCancelled,        // the caller stopped the operation
};

// "kube.not_found", ...
std::string_view error_code(ErrorKind kind);
// kOther for errors that do not carry a kube.* code.
ErrorKind error_kind(const Error& error);

Error make_kube_error(ErrorKind kind, std::string message);

// Maps an HTTP status and body (normally a meta/v1 Status object) to a typed error, keeping the API
// server's message (for 422 also each cause's field and message).
Error error_from_response(int http_status, std::string_view body);

// Maps a meta/v1 Status object carried inside a watch ERROR event.
Error error_from_status_object(std::string_view status_json);

// True for errors worth retrying with backoff (transport, timeouts, 429, 5xx).
bool is_retryable(const Error& error);

}  // namespace etsecd::kube
