// Secret: a token, password or key held in memory. It never prints itself, so that a log line
// or an error message built from it shows "***" instead of the value.
#pragma once

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <ostream>
#include <string>
#include <string_view>

namespace portcullis {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret() {
    if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
  }

  // The only way to read the value: a name that stands out in review.
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }

 private:
  std::string value_;
};

}  // namespace portcullis

template <>
struct fmt::formatter<portcullis::Secret> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const portcullis::Secret&, Context& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
