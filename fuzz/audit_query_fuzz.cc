// libFuzzer target: the query string of GET /api/v1/audit and /api/v1/audit/stream, parsed as
// the router does (boost::urls::parse_origin_form) and read by api::parse_audit_query.
// Invariants: an accepted query took every parameter into its filter, unchanged (a filter
// is never quietly left out, so that an auditor does not read "no deny records" off a
// misspelt one): known names only, each once, verdict and event from their lists, since as
// parse_since reads it, a limit in range and a positive `before` cursor, both only where they
// are taken. A refusal names the
// parameter and never repeats its value.
#include <algorithm>
#include <boost/url/parse.hpp>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "api/audit_query.h"
#include "audit/event.h"
#include "audit/since.h"

namespace {

using namespace portcullis;

const audit::TimePoint kNow = audit::TimePoint(std::chrono::seconds(1'795'640'645));

constexpr std::string_view kVerdicts[] = {"allow",    "deny",     "prepared", "review_pending",
                                          "approved", "rejected", "expired"};
constexpr std::string_view kEvents[] = {"connect", "disconnect", "statement", "result"};

template <std::size_t N>
bool listed(const std::string_view (&values)[N], std::string_view value) {
  for (auto v : values)
    if (v == value) return true;
  return false;
}

// Whether `value` has a character that no fixed error text of parse_audit_query has.
bool telling(std::string_view value) {
  for (unsigned char c : value) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view(" (),:+-./_").find(static_cast<char>(c)) != std::string_view::npos;
    if (!plain) return true;
  }
  return false;
}

void check(boost::urls::params_view params, bool accept_limit) {
  const auto result = api::parse_audit_query(params, accept_limit, kNow);
  if (!result) {
    const auto& message = result.error().message;
    if (message.empty()) __builtin_trap();
    // The message starts with the name of a parameter that was given, and shows no value
    // but as part of a name.
    bool named = false;
    for (const auto& param : params) {
      const std::string& key = param.key;
      if (message.starts_with(key + ":") ||
          message == "unknown parameter \"" + key.substr(0, 64) + "\"")
        named = true;
    }
    if (!named) __builtin_trap();
    if (message.starts_with("unknown parameter")) return;
    // The fixed texts hold letters, digits, spaces and ( ) , : + - . / _ only: a value with
    // any other character found in the message was repeated. And none grows with a value.
    std::size_t longest_key = 0;
    for (const auto& param : params) longest_key = std::max(longest_key, param.key.size());
    if (message.size() > longest_key + 512) __builtin_trap();
    for (const auto& param : params) {
      const std::string& value = param.value;
      if (value.size() < 4 || !telling(value)) continue;
      bool in_a_key = false;
      for (const auto& other : params)
        if (std::string(other.key).find(value) != std::string::npos) in_a_key = true;
      if (!in_a_key && message.find(value) != std::string::npos) __builtin_trap();
    }
    return;
  }
  const auto& query = *result;
  if (query.limit < 1 || query.limit > api::kMaxSearchLimit) __builtin_trap();
  std::set<std::string> seen;
  bool limited = false;
  for (const auto& param : params) {
    const std::string& key = param.key;
    const std::string& value = param.value;
    if (!seen.insert(key).second) __builtin_trap();
    const auto& f = query.filter;
    if (key == "subject") {
      if (f.subject != value) __builtin_trap();
    } else if (key == "connection") {
      if (f.connection != value) __builtin_trap();
    } else if (key == "instance") {
      if (f.instance != value) __builtin_trap();
    } else if (key == "credential") {
      if (f.credential != value) __builtin_trap();
    } else if (key == "session") {
      if (f.session != value) __builtin_trap();
    } else if (key == "contains") {
      if (f.contains != value) __builtin_trap();
    } else if (key == "verdict") {
      if (f.verdict != value || (!value.empty() && !listed(kVerdicts, value))) __builtin_trap();
    } else if (key == "event") {
      if (f.event != value || (!value.empty() && !listed(kEvents, value))) __builtin_trap();
    } else if (key == "since") {
      if (value.empty()) {
        if (!f.since.empty()) __builtin_trap();
      } else {
        const auto since = audit::parse_since(value, kNow);
        if (!since || f.since != audit::format_time(*since)) __builtin_trap();
      }
    } else if (key == "before" && accept_limit) {
      std::int64_t before = 0;
      if (value.empty()) {
        if (f.before_cursor != 0) __builtin_trap();
      } else {
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), before);
        if (ec != std::errc() || end != value.data() + value.size() || before <= 0 ||
            before != f.before_cursor)
          __builtin_trap();
      }
    } else if (key == "limit" && accept_limit) {
      limited = true;
      std::size_t limit = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit != query.limit)
        __builtin_trap();
    } else {
      __builtin_trap();  // an unknown parameter was accepted
    }
  }
  if (!limited && query.limit != api::kDefaultSearchLimit) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string target =
      "/api/v1/audit?" + std::string(reinterpret_cast<const char*>(data), size);
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return 0;
  check(parsed->params(), true);
  check(parsed->params(), false);
  return 0;
}
