#pragma once
// Options of the generic API operations, mirroring the query parameters and bodies of the API server.

#include <cstdint>
#include <optional>
#include <string>

namespace etsecd::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;        // "" = consistent read from etcd
  std::string resource_version_match;  // "", "NotOlderThan", "Exact"
  std::int64_t limit = 0;              // 0 = no paging
  std::string continue_token;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // resume point: events after this version
  bool allow_bookmarks = true;
  // The server ends the watch after this long (a clean end, resumed from the last resourceVersion).
  int timeout_seconds = 300;
};

struct WriteOptions {  // create / replace
  std::string field_manager;
  bool dry_run = false;
};

struct DeleteOptions {
  std::optional<std::string> propagation_policy;  // "Foreground", "Background", "Orphan"
  std::optional<std::int64_t> grace_period_seconds;
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  bool dry_run = false;
};

struct ApplyOptions {         // server-side apply
  std::string field_manager;  // required
  bool force = false;         // take ownership of conflicting fields
  bool dry_run = false;
  std::string subresource;  // "" or "status"
};

enum class PatchType { kMerge, kStrategicMerge, kJson };

struct PatchOptions {
  std::string field_manager;
  bool dry_run = false;
  std::string subresource;  // "" or "status" / "scale"
};

}  // namespace etsecd::kube
