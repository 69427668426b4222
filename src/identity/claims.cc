// Typed, non-throwing access to JWT claims and the time-validity check shared by gateway
// tokens and OIDC tokens.
#include "identity/claims.h"

#include <fmt/format.h>

#include <cmath>

namespace portcullis::identity {
namespace {

// Longest piece of a token-supplied value echoed in a reason.
constexpr std::size_t kMaxQuotedLength = 64;

// NumericDates beyond this cannot be held by system_clock (nanoseconds in int64 end in 2262);
// 9e9 seconds is in the year 2255.
constexpr double kMaxNumericDate = 9e9;

}  // namespace

std::string quote_untrusted(std::string_view value) {
  std::string out = "\"";
  const std::size_t shown = std::min(value.size(), kMaxQuotedLength);
  for (std::size_t i = 0; i < shown; ++i) {
    const char c = value[i];
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  if (value.size() > shown) out += "...";
  out += '"';
  return out;
}

Result<std::string> string_claim(const boost::json::object& payload, std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr)
    return make_error(fmt::format("malformed token: missing \"{}\" claim", name));
  const auto* text = value->if_string();
  if (text == nullptr)
    return make_error(fmt::format("malformed token: \"{}\" claim is not a string", name));
  return std::string(*text);
}

Result<std::optional<std::string>> optional_string_claim(const boost::json::object& payload,
                                                         std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr) return std::optional<std::string>();
  const auto* text = value->if_string();
  if (text == nullptr)
    return make_error(fmt::format("malformed token: \"{}\" claim is not a string", name));
  return std::optional<std::string>(std::string(*text));
}

Result<std::vector<std::string>> string_list_claim(const boost::json::object& payload,
                                                   std::string_view name, bool single_string_ok) {
  std::vector<std::string> out;
  const auto* value = payload.if_contains(name);
  if (value == nullptr) return out;
  if (const auto* text = value->if_string(); text != nullptr && single_string_ok) {
    out.emplace_back(*text);
    return out;
  }
  const auto* array = value->if_array();
  if (array == nullptr)
    return make_error(fmt::format("malformed token: \"{}\" claim is not a list of strings", name));
  out.reserve(array->size());
  for (const auto& item : *array) {
    const auto* text = item.if_string();
    if (text == nullptr)
      return make_error(
          fmt::format("malformed token: \"{}\" claim is not a list of strings", name));
    out.emplace_back(*text);
  }
  return out;
}

Result<std::optional<TimePoint>> numeric_date_claim(const boost::json::object& payload,
                                                    std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr) return std::optional<TimePoint>();
  double seconds = 0;
  if (const auto* i = value->if_int64()) {
    seconds = static_cast<double>(*i);
  } else if (const auto* u = value->if_uint64()) {
    seconds = static_cast<double>(*u);
  } else if (const auto* d = value->if_double()) {
    seconds = *d;
  } else {
    return make_error(fmt::format("malformed token: \"{}\" claim is not a number", name));
  }
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxNumericDate)
    return make_error(fmt::format("malformed token: \"{}\" claim is out of range", name));
  const auto since_epoch =
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds));
  return std::optional<TimePoint>(TimePoint(since_epoch));
}

Result<TimePoint> check_time_claims(const boost::json::object& payload, TimePoint now,
                                    std::chrono::milliseconds leeway) {
  auto exp = numeric_date_claim(payload, "exp");
  if (!exp) return exp.error();
  // A token without an expiry would be valid forever: refused.
  if (!exp->has_value()) return make_error("malformed token: missing \"exp\" claim");
  auto nbf = numeric_date_claim(payload, "nbf");
  if (!nbf) return nbf.error();
  auto iat = numeric_date_claim(payload, "iat");
  if (!iat) return iat.error();

  // RFC 7519 4.1.4: the token must not be accepted on or after exp.
  if (now >= **exp + leeway) return make_error("token expired");
  if (nbf->has_value() && now + leeway < **nbf) return make_error("token not yet valid");
  if (iat->has_value() && **iat > now + leeway) return make_error("token issued in the future");
  return **exp;
}

}  // namespace portcullis::identity
