#pragma once
// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4). Thread-safe; metric objects live as long as the registry and
// updating them takes no registry lock. Metrics must never carry values or shares (only counts,
// durations and names).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace etsecd::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // Throws std::invalid_argument for a negative amount: counters only go up.
  void inc(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted, finite; +Inf is implied
  void observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // per bound, then +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative), +Inf last
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// 5ms .. 10s, as the Prometheus client libraries' defaults.
std::vector<double> default_duration_buckets();

class MetricsRegistry {
 public:
  // Returns the series for name+labels, creating it on first use. Throws std::invalid_argument for an
  // invalid metric or label name, or when name is already registered with another type or buckets.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& buckets,
                       const Labels& labels = {});

  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> buckets;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, Type type, const Labels& labels,
                 const std::vector<double>& buckets);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Escaping for label values (backslash, double quote, newline) and HELP text (backslash, newline).
std::string escape_label_value(const std::string& value);
std::string escape_help(const std::string& help);
// Prometheus number formatting: shortest round-trip form, +Inf, -Inf, NaN.
std::string format_value(double v);

}  // namespace etsecd::observability
