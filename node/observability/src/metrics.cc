#include "etsecd/observability/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace etsecd::metrics {
namespace {

bool valid_name(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // General format like Go's strconv 'g' with shortest precision: 0.0001, not 1e-04.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  return std::string(buf, ec == std::errc() ? end : buf);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // Buckets are "less than or equal": the first bound >= v.
  auto index =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The count is the +Inf bucket, so the exposition is always self-consistent even while observations
  // race with the snapshot.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    throw std::invalid_argument("exponential_buckets needs start > 0, factor > 1, count >= 1");
  }
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> buckets = exponential_buckets(0.0001, 2, 18);
  return buckets;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!valid_name(name_, true)) throw std::invalid_argument("invalid metric name \"" + name_ + "\"");
  for (const std::string& l : label_names_) {
    if (!valid_name(l, false) || l.rfind("__", 0) == 0 || (type_ == Type::kHistogram && l == "le")) {
      throw std::invalid_argument("invalid label name \"" + l + "\" for metric " + name_);
    }
    if (std::count(label_names_.begin(), label_names_.end(), l) > 1) {
      throw std::invalid_argument("label \"" + l + "\" appears twice for metric " + name_);
    }
  }
}

void FamilyBase::check_label_count(std::size_t n) const {
  if (n != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(n));
  }
}

std::string FamilyBase::label_text(const std::vector<std::string>& values, std::string_view extra) const {
  if (values.empty() && extra.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ',';
    out += extra;
  }
  return out + "}";
}

template <class M>
M* Family<M>::make() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return new Histogram(bounds_);
  } else {
    return new M();
  }
}

template <class M>
M& Family<M>::with(const std::vector<std::string>& label_values) {
  check_label_count(label_values.size());
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(label_values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto [it, inserted] = children_.try_emplace(label_values);
  if (inserted) it->second.reset(make());
  return *it->second;
}

template <class M>
void Family<M>::render(std::string& out) const {
  out += "# HELP " + name() + " " + escape_help(help()) + "\n";
  out += "# TYPE " + name() + " " + type_name(type()) + "\n";
  std::shared_lock lock(mu_);
  for (const auto& [values, metric] : children_) {
    if constexpr (std::is_same_v<M, Counter>) {
      out += name() + label_text(values) + " " + std::to_string(metric->value()) + "\n";
    } else if constexpr (std::is_same_v<M, Gauge>) {
      out += name() + label_text(values) + " " + format_number(metric->value()) + "\n";
    } else {
      Histogram::Snapshot s = metric->snapshot();
      for (std::size_t i = 0; i <= s.upper_bounds.size(); ++i) {
        std::string le = i < s.upper_bounds.size() ? format_number(s.upper_bounds[i]) : "+Inf";
        out += name() + "_bucket" + label_text(values, "le=\"" + le + "\"") + " " +
               std::to_string(s.cumulative[i]) + "\n";
      }
      out += name() + "_sum" + label_text(values) + " " + format_number(s.sum) + "\n";
      out += name() + "_count" + label_text(values) + " " + std::to_string(s.count) + "\n";
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class M>
Family<M>& Registry::family(std::string name, std::string help, Type type,
                            std::vector<std::string> label_names, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<M>*>(it->second.get());
    if (existing == nullptr || existing->help() != help || existing->label_names() != label_names ||
        existing->bounds() != bounds) {
      throw std::invalid_argument("metric " + name +
                                  " is already registered with another type, help, labels or buckets");
    }
    return *existing;
  }
  auto created =
      std::make_unique<Family<M>>(name, std::move(help), type, std::move(label_names), std::move(bounds));
  Family<M>& ref = *created;
  families_.emplace(std::move(name), std::move(created));
  if (ref.label_names().empty()) ref.with({});  // an unlabelled metric shows up (as 0) from the start
  return ref;
}

Family<Counter>& Registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> label_names) {
  return family<Counter>(std::move(name), std::move(help), Type::kCounter, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return family<Gauge>(std::move(name), std::move(help), Type::kGauge, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> upper_bounds) {
  Histogram check(upper_bounds);  // validates the bounds before anything is registered
  return family<Histogram>(std::move(name), std::move(help), Type::kHistogram, std::move(label_names),
                           std::move(upper_bounds));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->render(out);
  return out;
}

}  // namespace etsecd::metrics
