#include "etsecd/kube/errors.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace etsecd::kube {
namespace {

constexpr std::array<std::pair<ErrorKind, std::string_view>, 16> kCodes{{
    {ErrorKind::kOther, "kube.other"},
    {ErrorKind::kNotFound, "kube.not_found"},
    {ErrorKind::kAlreadyExists, "kube.already_exists"},
    {ErrorKind::kConflict, "kube.conflict"},
    {ErrorKind::kGone, "kube.gone"},
    {ErrorKind::kUnauthorized, "kube.unauthorized"},
    {ErrorKind::kForbidden, "kube.forbidden"},
    {ErrorKind::kInvalid, "kube.invalid"},
    {ErrorKind::kBadRequest, "kube.bad_request"},
    {ErrorKind::kTimeout, "kube.timeout"},
    {ErrorKind::kTooManyRequests, "kube.too_many_requests"},
    {ErrorKind::kServerError, "kube.server_error"},
    {ErrorKind::kTransport, "kube.transport"},
    {ErrorKind::kConfig, "kube.config"},
    {ErrorKind::kDecode, "kube.decode"},
    {ErrorKind::kCancelled, "kube.cancelled"},
}};

ErrorKind kind_from_reason(std::string_view reason) {
  if (reason == "NotFound") return ErrorKind::kNotFound;
  if (reason == "AlreadyExists") return ErrorKind::kAlreadyExists;
  if (reason == "Conflict") return ErrorKind::kConflict;
  if (reason == "Gone" || reason == "Expired") return ErrorKind::kGone;
  if (reason == "Unauthorized") return ErrorKind::kUnauthorized;
  if (reason == "Forbidden") return ErrorKind::kForbidden;
  if (reason == "Invalid") return ErrorKind::kInvalid;
  if (reason == "BadRequest") return ErrorKind::kBadRequest;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorKind::kTimeout;
  if (reason == "TooManyRequests") return ErrorKind::kTooManyRequests;
  if (reason == "InternalError" || reason == "ServiceUnavailable") return ErrorKind::kServerError;
  return ErrorKind::kOther;
}

ErrorKind kind_from_http(int status) {
  switch (status) {
    case 400:
      return ErrorKind::kBadRequest;
    case 401:
      return ErrorKind::kUnauthorized;
    case 403:
      return ErrorKind::kForbidden;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kGone;
    case 422:
      return ErrorKind::kInvalid;
    case 429:
      return ErrorKind::kTooManyRequests;
    case 504:
      return ErrorKind::kTimeout;
    default:
      return status >= 500 ? ErrorKind::kServerError : ErrorKind::kOther;
  }
}

// A body that is not a Status (a proxy's HTML page) is shown cut short.
std::string short_text(std::string_view body) {
  constexpr std::size_t kMax = 512;
  std::string text(body.substr(0, kMax));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (body.size() > kMax) text += "...";
  return text;
}

// Status message, plus the causes of an Invalid (each failing field and why) when the message does not
// already carry them.
std::string status_message(const nlohmann::json& status) {
  std::string message = status.value("message", "");
  auto details = status.find("details");
  if (details != status.end() && details->is_object()) {
    auto causes = details->find("causes");
    if (causes != details->end() && causes->is_array()) {
      for (const auto& cause : *causes) {
        if (!cause.is_object()) continue;
        std::string field = cause.value("field", "");
        std::string text = cause.value("message", "");
        if (text.empty() || message.find(text) != std::string::npos) continue;
        message += message.empty() ? "" : "; ";
        message += field.empty() ? text : field + ": " + text;
      }
    }
  }
  return message;
}

Error from_status_json(int http_status, const nlohmann::json& status) {
  std::string reason = status.value("reason", "");
  int code = status.contains("code") && status["code"].is_number_integer() ? status["code"].get<int>() : 0;
  if (http_status == 0) http_status = code;
  std::string message = status_message(status);
  ErrorKind kind = kind_from_reason(reason);
  if (kind == ErrorKind::kOther) kind = kind_from_http(http_status);
  // A watch started from a compacted revision may arrive as a 500 with this text on old servers.
  if (message.find("too old resource version") != std::string::npos) kind = ErrorKind::kGone;
  if (message.empty()) message = reason.empty() ? "HTTP " + std::to_string(http_status) : reason;
  std::string prefix = "HTTP " + std::to_string(http_status);
  if (!reason.empty()) prefix += " " + reason;
  return make_kube_error(kind, prefix + ": " + message);
}

}  // namespace

std::string_view error_code(ErrorKind kind) {
  for (const auto& [k, code] : kCodes) {
    if (k == kind) return code;
  }
  return "kube.other";
}

ErrorKind error_kind(const Error& error) {
  for (const auto& [k, code] : kCodes) {
    if (error.code == code) return k;
  }
  return ErrorKind::kOther;
}

Error make_kube_error(ErrorKind kind, std::string message) {
  return make_error(std::string(error_code(kind)), std::move(message));
}

Error error_from_response(int http_status, std::string_view body) {
  nlohmann::json status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status")
    return from_status_json(http_status, status);
  ErrorKind kind = kind_from_http(http_status);
  std::string text = short_text(body);
  if (text.find("too old resource version") != std::string::npos) kind = ErrorKind::kGone;
  return make_kube_error(kind, "HTTP " + std::to_string(http_status) + (text.empty() ? "" : ": " + text));
}

Error error_from_status_object(std::string_view status_json) {
  nlohmann::json status = nlohmann::json::parse(status_json, nullptr, false);
  if (!status.is_object())
    return make_kube_error(ErrorKind::kDecode, "watch ERROR event without a Status object");
  return from_status_json(0, status);
}

bool is_retryable(const Error& error) {
  switch (error_kind(error)) {
    case ErrorKind::kTransport:
    case ErrorKind::kTimeout:
    case ErrorKind::kTooManyRequests:
    case ErrorKind::kServerError:
      return true;
    default:
      return false;
  }
}

}  // namespace etsecd::kube
