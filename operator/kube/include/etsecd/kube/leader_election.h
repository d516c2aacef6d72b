#pragma once
// Lease-based leader election (coordination.k8s.io/v1 Lease, client-go's algorithm), so that of several
// operator replicas at most one acts at a time.
//
// Safety rests on optimistic concurrency (every write carries the resourceVersion that was read) and on
// lease_duration > renew_deadline: a candidate takes over only after it has seen the same lease record
// unchanged for lease_duration on its own clock, while the holder stops acting renew_deadline after the
// start of its last successful renewal. Only clock rates matter, never clock agreement.

#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/kube/clock.h"
#include "etsecd/kube/stop_signal.h"

namespace etsecd::kube {

struct LeaseRecord {
  std::string holder_identity;  // "" = released
  int lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, informational
  std::string renew_time;    // MicroTime, informational
  int lease_transitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

struct ObservedLease {
  LeaseRecord record;
  std::string resource_version;
};

// Lease object spec <-> record.
nlohmann::json lease_spec_json(const LeaseRecord& record);
Result<ObservedLease> observed_lease_from_json(const nlohmann::json& lease);

// Storage of the one Lease object; the HTTP one is in client_adapters.h.
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // std::nullopt when the Lease does not exist.
  virtual Result<std::optional<ObservedLease>> get() = 0;
  // kAlreadyExists if someone created it first.
  virtual Result<ObservedLease> create(const LeaseRecord& record) = 0;
  // kConflict if the Lease changed since resource_version.
  virtual Result<ObservedLease> update(const LeaseRecord& record, const std::string& resource_version) = 0;
};

struct LeaderElectionConfig {
  std::string identity;  // unique per replica, e.g. the pod name
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  bool release_on_cancel = true;  // on stop, hand the lease over at once instead of letting it expire
};

// lease_duration > renew_deadline > 1.2 * retry_period > 0, identity set.
Status validate(const LeaderElectionConfig& config);

// One candidate's state machine; no threads. Not thread-safe except is_leader()/leader().
class LeaderElector {
 public:
  LeaderElector(LeaderElectionConfig config, LeaseStore& store, const Clock& clock = system_clock());

  // One get + create/update round. Returns true if this candidate holds the lease afterwards.
  bool try_acquire_or_renew();
  // True while the lease is held and renew_deadline has not passed since the last successful renewal
  // began: check this right before acting.
  bool is_leader() const;
  // When is_leader() turns false unless a renewal succeeds first.
  std::chrono::steady_clock::time_point leader_until() const;
  // Identity of the holder last observed ("" if none).
  std::string leader() const;
  // Gives the lease up (holder cleared, 1s duration) if we hold it.
  Status release();

  const LeaderElectionConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  std::optional<Error> last_error() const;

 private:
  LeaderElectionConfig config_;
  LeaseStore& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::optional<ObservedLease> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
  bool holding_ = false;
  std::chrono::steady_clock::time_point leader_until_{};
  std::string leader_;
  std::optional<Error> last_error_;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;  // run the controllers (on another thread)
  std::function<void()> on_stopped_leading;  // stop acting now
  std::function<void(const std::string& identity)> on_new_leader;
};

// Drives a LeaderElector: retries acquisition every retry_period (with jitter) until it leads, then
// renews every retry_period until a renewal has not succeeded within renew_deadline or stop is
// signalled. Returns then (after on_stopped_leading if it had been leading); like client-go, a replica
// that lost the lease is expected to exit and restart rather than run again.
void run_leader_election(LeaderElector& elector, const LeaderCallbacks& callbacks, StopSignal& stop);

}  // namespace etsecd::kube
