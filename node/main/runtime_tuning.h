#pragma once

namespace etsecd::node {

// Switches off debugging aids that Debian's Abseil keeps on (it is built without NDEBUG): absl::Mutex
// deadlock detection records a stack trace and updates a global lock graph on every lock gRPC takes,
// which showed up as a few per cent of a member's CPU in profiles (GraphCycles::GetId, InsertEdge). Call
// once, before any thread starts.
void tune_runtime();

}  // namespace etsecd::node
