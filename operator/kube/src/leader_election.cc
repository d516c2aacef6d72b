#include "etsecd/kube/leader_election.h"

#include <random>

#include "etsecd/kube/errors.h"
#include "etsecd/kube/watch_event.h"

namespace etsecd::kube {
namespace {
constexpr double kRetryJitter = 1.2;  // client-go's JitterFactor
}  // namespace

nlohmann::json lease_spec_json(const LeaseRecord& record) {
  nlohmann::json spec = {{"holderIdentity", record.holder_identity},
                         {"leaseDurationSeconds", record.lease_duration_seconds},
                         {"leaseTransitions", record.lease_transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  return spec;
}

Result<ObservedLease> observed_lease_from_json(const nlohmann::json& lease) {
  if (!lease.is_object() || lease.value("kind", "Lease") != "Lease") {
    return make_kube_error(ErrorKind::kDecode, "not a Lease object");
  }
  ObservedLease observed;
  observed.resource_version = resource_version_of(lease);
  if (lease.contains("spec") && lease["spec"].is_object()) {
    const auto& spec = lease["spec"];
    auto str = [&spec](const char* key) {
      return spec.contains(key) && spec[key].is_string() ? spec[key].get<std::string>() : std::string();
    };
    auto num = [&spec](const char* key) {
      return spec.contains(key) && spec[key].is_number_integer() ? spec[key].get<int>() : 0;
    };
    observed.record.holder_identity = str("holderIdentity");
    observed.record.acquire_time = str("acquireTime");
    observed.record.renew_time = str("renewTime");
    observed.record.lease_duration_seconds = num("leaseDurationSeconds");
    observed.record.lease_transitions = num("leaseTransitions");
  }
  return observed;
}

Status validate(const LeaderElectionConfig& config) {
  if (config.identity.empty())
    return make_kube_error(ErrorKind::kConfig, "leader election needs an identity");
  if (config.retry_period.count() <= 0)
    return make_kube_error(ErrorKind::kConfig, "retry period must be positive");
  if (config.lease_duration <= config.renew_deadline) {
    return make_kube_error(ErrorKind::kConfig, "lease duration must be greater than the renew deadline");
  }
  if (static_cast<double>(config.renew_deadline.count()) <=
      kRetryJitter * static_cast<double>(config.retry_period.count())) {
    return make_kube_error(ErrorKind::kConfig, "renew deadline must be greater than 1.2 x the retry period");
  }
  if (config.lease_duration.count() % 1000 != 0) {
    return make_kube_error(ErrorKind::kConfig, "lease duration must be whole seconds (Lease stores seconds)");
  }
  return Status::Ok();
}

LeaderElector::LeaderElector(LeaderElectionConfig config, LeaseStore& store, const Clock& clock)
    : config_(std::move(config)), store_(store), clock_(clock) {}

bool LeaderElector::try_acquire_or_renew() {
  // Measured before any I/O: the record we may write is at least this recent, so counting the renew
  // deadline from here keeps us from believing we lead longer than others believe it.
  const auto attempt_start = clock_.now();
  const std::string wall = format_micro_time(clock_.wall_now());
  const int duration_s = static_cast<int>(config_.lease_duration.count() / 1000);

  auto fail = [&](Error error) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(error);
    return holding_ && clock_.now() < leader_until_;
  };
  auto succeed = [&](ObservedLease written) {
    std::lock_guard lock(mu_);
    observed_ = std::move(written);
    observed_at_ = clock_.now();
    holding_ = true;
    leader_until_ = attempt_start + config_.renew_deadline;
    leader_ = config_.identity;
    last_error_.reset();
    return true;
  };

  Result<std::optional<ObservedLease>> got = store_.get();
  if (!got) return fail(got.error());
  if (!got->has_value()) {
    LeaseRecord record{config_.identity, duration_s, wall, wall, 0};
    Result<ObservedLease> created = store_.create(record);
    if (!created) return fail(created.error());
    return succeed(*created);
  }

  ObservedLease current = **got;
  std::chrono::steady_clock::time_point observed_at;
  {
    std::lock_guard lock(mu_);
    // Expiry is judged by how long *we* have seen this exact record unchanged, never by the
    // timestamps inside it, so clock skew between replicas does not matter.
    if (!observed_ || observed_->record != current.record ||
        observed_->resource_version != current.resource_version) {
      observed_ = current;
      observed_at_ = clock_.now();
    }
    observed_at = observed_at_;
    leader_ = current.record.holder_identity;
    if (current.record.holder_identity != config_.identity) holding_ = false;
  }
  const bool ours = current.record.holder_identity == config_.identity;
  if (!ours && !current.record.holder_identity.empty()) {
    int seconds =
        current.record.lease_duration_seconds > 0 ? current.record.lease_duration_seconds : duration_s;
    if (clock_.now() < observed_at + std::chrono::seconds(seconds)) {
      std::lock_guard lock(mu_);
      last_error_.reset();
      return false;  // someone else holds an unexpired lease
    }
  }

  LeaseRecord next = current.record;
  next.holder_identity = config_.identity;
  next.lease_duration_seconds = duration_s;
  next.renew_time = wall;
  if (!ours) {
    next.acquire_time = wall;
    next.lease_transitions = current.record.lease_transitions + 1;
  }
  Result<ObservedLease> updated = store_.update(next, current.resource_version);
  if (!updated) return fail(updated.error());
  return succeed(*updated);
}

bool LeaderElector::is_leader() const {
  std::lock_guard lock(mu_);
  return holding_ && clock_.now() < leader_until_;
}

std::chrono::steady_clock::time_point LeaderElector::leader_until() const {
  std::lock_guard lock(mu_);
  return holding_ ? leader_until_ : std::chrono::steady_clock::time_point{};
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

std::optional<Error> LeaderElector::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Status LeaderElector::release() {
  std::optional<ObservedLease> observed;
  {
    std::lock_guard lock(mu_);
    if (!holding_ || !observed_) return Status::Ok();
    holding_ = false;  // stop acting before telling others
    observed = observed_;
  }
  LeaseRecord record = observed->record;
  record.holder_identity.clear();
  record.lease_duration_seconds = 1;
  std::string wall = format_micro_time(clock_.wall_now());
  record.renew_time = wall;
  record.acquire_time = wall;
  Result<ObservedLease> updated = store_.update(record, observed->resource_version);
  if (!updated) return updated.error();
  std::lock_guard lock(mu_);
  observed_ = *updated;
  observed_at_ = clock_.now();
  leader_.clear();
  return Status::Ok();
}

void run_leader_election(LeaderElector& elector, const LeaderCallbacks& callbacks, StopSignal& stop) {
  const auto& config = elector.config();
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, kRetryJitter);
  std::string last_leader;
  auto note_leader = [&] {
    std::string now = elector.leader();
    if (now != last_leader) {
      last_leader = now;
      if (callbacks.on_new_leader && !now.empty()) callbacks.on_new_leader(now);
    }
  };

  bool leading = false;
  while (!stop.stopped()) {
    leading = elector.try_acquire_or_renew();
    note_leader();
    if (leading) break;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(config.retry_period * jitter(rng));
    if (stop.wait_for(wait)) break;
  }
  if (!leading) return;
  if (callbacks.on_started_leading) callbacks.on_started_leading();

  while (!stop.stopped()) {
    // Wake up no later than the moment leadership would lapse, so on_stopped_leading is prompt.
    auto left = elector.leader_until() - elector.clock().now();
    auto wait = std::min<std::chrono::steady_clock::duration>(config.retry_period, left);
    if (wait > std::chrono::steady_clock::duration::zero() && stop.wait_for(wait)) break;
    elector.try_acquire_or_renew();
    note_leader();
    if (!elector.is_leader()) break;
  }
  if (stop.stopped() && config.release_on_cancel) (void)elector.release();
  if (callbacks.on_stopped_leading) callbacks.on_stopped_leading();
}

}  // namespace etsecd::kube
