#include "etsecd/kube/watch_event.h"

#include "etsecd/kube/errors.h"

namespace etsecd::kube {

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

Result<WatchEvent> parse_watch_event(std::string_view line) {
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    std::string shown(line.substr(0, 80));
    return make_kube_error(ErrorKind::kDecode, "watch line is not a JSON object: " + shown);
  }
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object()) {
    return make_kube_error(ErrorKind::kDecode, "watch event needs a string \"type\" and an \"object\"");
  }
  WatchEvent event;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return make_kube_error(ErrorKind::kDecode, "unknown watch event type \"" + t + "\"");
  }
  event.object = std::move(*object);
  return event;
}

std::string resource_version_of(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  if (rv == metadata->end() || !rv->is_string()) return "";
  return rv->get<std::string>();
}

std::string object_key(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return "";
  const auto& metadata = object["metadata"];
  std::string name = metadata.value("name", "");
  std::string ns = metadata.value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::vector<Result<WatchEvent>> WatchLineDecoder::feed(std::string_view chunk) {
  std::vector<Result<WatchEvent>> events;
  std::size_t start = 0;
  while (true) {
    std::size_t newline = chunk.find('\n', start);
    if (newline == std::string_view::npos) break;
    std::string_view piece = chunk.substr(start, newline - start);
    start = newline + 1;
    std::string line;
    std::string_view whole = piece;
    if (!partial_.empty()) {
      partial_.append(piece);
      line.swap(partial_);
      whole = line;
    }
    while (!whole.empty() && (whole.back() == '\r' || whole.back() == ' ')) whole.remove_suffix(1);
    if (whole.empty()) continue;
    events.push_back(parse_watch_event(whole));
  }
  partial_.append(chunk.substr(start));
  return events;
}

std::vector<Result<WatchEvent>> WatchLineDecoder::finish() {
  std::vector<Result<WatchEvent>> events;
  std::string rest;
  rest.swap(partial_);
  while (!rest.empty() && (rest.back() == '\r' || rest.back() == ' ' || rest.back() == '\n')) rest.pop_back();
  if (!rest.empty()) events.push_back(parse_watch_event(rest));
  return events;
}

}  // namespace etsecd::kube
