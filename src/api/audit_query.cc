// Query-string parameters to journal filters.
#include "api/audit_query.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "audit/since.h"

namespace portcullis::api {
namespace {

// The `verdict` values INTERFACE.md gives an audit event.
constexpr std::array<std::string_view, 7> kVerdicts{
    "allow", "deny", "prepared", "review_pending", "approved", "rejected", "expired"};
constexpr std::array<std::string_view, 4> kEvents{audit::kEventConnect, audit::kEventDisconnect,
                                                  audit::kEventStatement, audit::kEventResult};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

template <std::size_t N>
std::string list(const std::array<std::string_view, N>& values) {
  return fmt::format("{}", fmt::join(values, ", "));
}

}  // namespace

Result<audit::SearchQuery> parse_audit_query(boost::urls::params_view params, bool accept_limit,
                                             std::chrono::system_clock::time_point now) {
  audit::SearchQuery query;
  query.limit = kDefaultSearchLimit;
  std::set<std::string, std::less<>> seen;
  for (const auto& param : params) {
    const std::string& key = param.key;
    const std::string& value = param.value;
    if (!seen.insert(key).second) return make_error(fmt::format("{}: given more than once", key));
    // An empty value is no filter, as an HTML form sends an empty field.
    if (key == "subject") {
      query.filter.subject = value;
    } else if (key == "connection") {
      query.filter.connection = value;
    } else if (key == "instance") {
      query.filter.instance = value;
    } else if (key == "credential") {
      query.filter.credential = value;
    } else if (key == "session") {
      query.filter.session = value;
    } else if (key == "contains") {
      query.filter.contains = value;
    } else if (key == "verdict") {
      if (!value.empty() && !one_of(kVerdicts, value))
        return make_error(fmt::format("verdict: expected one of {}", list(kVerdicts)));
      query.filter.verdict = value;
    } else if (key == "event") {
      if (!value.empty() && !one_of(kEvents, value))
        return make_error(fmt::format("event: expected one of {}", list(kEvents)));
      query.filter.event = value;
    } else if (key == "since") {
      if (value.empty()) continue;
      auto since = audit::parse_since(value, now);
      if (!since) return make_error("since: " + since.error().message);
      query.filter.since = audit::format_time(*since);
    } else if (key == "before" && accept_limit) {
      // A page further back: the records below the smallest `cursor` of the page before.
      if (value.empty()) continue;
      std::int64_t before = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), before);
      if (ec != std::errc() || end != value.data() + value.size() || before <= 0)
        return make_error("before: expected the positive cursor of a record");
      query.filter.before_cursor = before;
    } else if (key == "limit" && accept_limit) {
      std::size_t limit = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit == 0 ||
          limit > kMaxSearchLimit)
        return make_error(
            fmt::format("limit: expected a whole number from 1 to {}", kMaxSearchLimit));
      query.limit = limit;
    } else {
      // The name only: a value could be anything, a token pasted in the wrong place included.
      return make_error(fmt::format("unknown parameter \"{}\"", key.substr(0, 64)));
    }
  }
  return query;
}

}  // namespace portcullis::api
