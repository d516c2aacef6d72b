#pragma once
// Secret<T> holds a value, a share, or anything derived from them (a polynomial coefficient, a
// partially rebuilt buffer). It has no formatting of any kind: no operator<<, no conversion to a string
// or a view, and the structured logger's field type deletes its overload for it (see field.h), so code
// that tries to print one does not compile. The bytes are reachable only through reveal(), a name that
// stands out in review, and are wiped when the holder is destroyed.
//
// Why: etsecd's promise is that no server ever holds a whole value in a place that outlives the
// request. Logs are shipped, retained and read by people who must never see values, and a single share
// in a log line lets that line stand in for a member's share, bringing an attacker one step closer to k.
// So values and shares travel as Secret<>/SensitiveBytes and never as std::string.
//
// is_sensitive<T> lets other modules mark their own secret-bearing types (e.g. a share record) so the
// logger refuses them too: `template <> struct etsecd::is_sensitive<MyShare> : std::true_type {};`.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace etsecd {

// Overwrites `size` bytes at `data` in a way the optimiser may not remove.
inline void secure_wipe(void* data, std::size_t size) {
  volatile unsigned char* p = static_cast<volatile unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) p[i] = 0;
}

template <class T>
class Secret {
 public:
  Secret() = default;
  explicit Secret(T value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      value_ = std::move(other.value_);
    }
    return *this;
  }
  ~Secret() { wipe(); }

  // The only way to the bytes. Keep what you do with them out of logs, metrics and error messages.
  const T& reveal() const& { return value_; }
  T& reveal() & { return value_; }

  // No operator==: comparing secrets belongs in constant-time code that reveals them on purpose.

 private:
  void wipe() {
    if constexpr (requires(T & t) {
                    t.data();
                    t.size();
                  }) {
      secure_wipe(value_.data(), value_.size() * sizeof(*value_.data()));
    } else if constexpr (std::is_trivially_copyable_v<T>) {
      secure_wipe(&value_, sizeof(value_));
    }
  }

  T value_{};
};

using SensitiveBytes = Secret<std::vector<std::uint8_t>>;

template <class T>
struct is_sensitive : std::false_type {};
template <class T>
struct is_sensitive<Secret<T>> : std::true_type {};
template <class T>
inline constexpr bool is_sensitive_v = is_sensitive<std::remove_cvref_t<T>>::value;

// Printing a secret to a stream is refused at compile time.
template <class T>
std::ostream& operator<<(std::ostream&, const Secret<T>&) = delete;

}  // namespace etsecd
