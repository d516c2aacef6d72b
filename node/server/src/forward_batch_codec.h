#pragma once
// The body of one peer call that carries several client requests a follower forwards to the leader, and
// the body of its answer (one result per request, in the same order). Each request carries the time it
// has left, not a clock reading: members' steady clocks are unrelated.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::server {

inline constexpr const char* kForwardBatchMethod = "server.ForwardBatch";
// A request forwarded alone (method "api.*", as members before batching send them) carries no deadline.
inline constexpr std::chrono::seconds kForwardedRequestTimeout{10};

struct ForwardedRequest {
  std::string method;
  std::string body;
  std::chrono::milliseconds time_left{0};
};

std::string encode_forward_batch(const std::vector<ForwardedRequest>& requests);
// Errors: server.malformed_batch (truncated or trailing bytes).
Result<std::vector<ForwardedRequest>> decode_forward_batch(std::string_view bytes);

std::string encode_forward_results(const std::vector<Result<std::string>>& results);
// Errors: server.malformed_batch, or a count different from `expected`.
Result<std::vector<Result<std::string>>> decode_forward_results(std::string_view bytes, size_t expected);

// One forwarded request or its result as a frame on the Raft stream (forward_stream.h): the id the
// follower picked for it, a kind byte, then a batch of that one request or the results of one.
struct ForwardFrame {
  uint64_t id = 0;
  bool is_result = false;
  ForwardedRequest request;                              // when !is_result
  Result<std::string> result = Result<std::string>("");  // when is_result
};

std::string encode_forward_request_frame(uint64_t id, const ForwardedRequest& request);
std::string encode_forward_result_frame(uint64_t id, const Result<std::string>& result);
// Errors: server.malformed_batch.
Result<ForwardFrame> decode_forward_frame(std::string_view bytes);

}  // namespace etsecd::server
