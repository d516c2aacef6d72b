#pragma once
// Watch events as the API server streams them: one JSON object per line,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, split arbitrarily across chunks.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;  // the object; for kError a meta/v1 Status
};

std::string_view to_string(WatchEventType type);
Result<WatchEvent> parse_watch_event(std::string_view line);

// metadata.resourceVersion, or "" when absent.
std::string resource_version_of(const nlohmann::json& object);
// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const nlohmann::json& object);

// Reassembles lines from chunks. A line that is not a valid event is reported as an error in place and
// does not poison the lines after it.
class WatchLineDecoder {
 public:
  std::vector<Result<WatchEvent>> feed(std::string_view chunk);
  // End of stream: a non-empty unterminated last line is parsed too (the server always ends lines
  // with \n, so a torn line means the stream broke).
  std::vector<Result<WatchEvent>> finish();
  std::size_t buffered() const { return partial_.size(); }

 private:
  std::string partial_;
};

}  // namespace etsecd::kube
