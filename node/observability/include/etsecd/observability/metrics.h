#pragma once
// A Prometheus registry: counters, gauges and fixed-bucket histograms, optionally labelled, rendered in
// the text exposition format 0.0.4. Updating a metric is a few relaxed atomic operations and takes no
// lock; looking up a labelled child takes a shared lock (exclusive only the first time a label set is
// seen), so callers on hot paths should look a child up once and keep the reference, which stays valid
// for the registry's lifetime.
//
// Metrics carry counts, sizes and durations only. A label value must never be derived from a value or
// a share (nor, as a rule, from a key: keys are unbounded and would explode the series count).
//
// Misuse by code (an invalid metric or label name, registering one name twice with another shape,
// the wrong number of label values) throws std::invalid_argument: these are programming errors that
// show up the first time the code runs, not run-time conditions to handle.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace etsecd::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `upper_bounds` strictly increasing and finite; the +Inf bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  // Adds one observation; NaN is ignored (it has no bucket and would poison the sum).
  void observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    std::uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// `count` bounds start, start*factor, ... (start > 0, factor > 1, count >= 1).
std::vector<double> exponential_buckets(double start, double factor, int count);
// 100 µs .. ~13 s in seconds, doubling: for request, fsync and share-fetch latencies.
const std::vector<double>& latency_buckets_seconds();

enum class Type { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends HELP, TYPE and every child's samples.
  virtual void render(std::string& out) const = 0;

 protected:
  void check_label_count(std::size_t n) const;
  std::string label_text(const std::vector<std::string>& values, std::string_view extra = {}) const;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// All children of one metric name, one per distinct label value list.
template <class M>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The child for these label values (in label_names() order), created on first use.
  M& with(const std::vector<std::string>& label_values);
  M& with(std::initializer_list<std::string_view> label_values) {
    return with(std::vector<std::string>(label_values.begin(), label_values.end()));
  }
  const std::vector<double>& bounds() const { return bounds_; }

  void render(std::string& out) const override;

 private:
  M* make() const;

  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again with the same type, help, labels (and buckets) returns the same family.
  Family<Counter>& counter_family(std::string name, std::string help, std::vector<std::string> label_names);
  Family<Gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> label_names);
  Family<Histogram>& histogram_family(std::string name, std::string help,
                                      std::vector<std::string> label_names, std::vector<double> upper_bounds);

  // Unlabelled shorthands.
  Counter& counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help), {}).with({});
  }
  Gauge& gauge(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help), {}).with({});
  }
  Histogram& histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
    return histogram_family(std::move(name), std::move(help), {}, std::move(upper_bounds)).with({});
  }

  // The whole registry in the text exposition format, families sorted by name.
  std::string render() const;

 private:
  template <class M>
  Family<M>& family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                    std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// Prometheus escaping: label values escape backslash, double quote and newline; HELP text escapes
// backslash and newline.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// Go-compatible number text: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string format_number(double v);

}  // namespace etsecd::metrics
