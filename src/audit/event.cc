// Encoding events into journal records. The writer thread does this for every event, so the
// JSON of the list and map fields is written by hand, byte for byte as Boost.JSON's serializer
// writes it (the canonical form hashes these bytes: they must never change).
#include "audit/event.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace portcullis::audit {
namespace {

void set_text(Record& record, Field field, const std::string& value) {
  if (!value.empty()) record[field] = value;
}

// A JSON string as boost::json::serialize writes it: '"' and '\' escaped, \b \t \n \f \r by
// name, the other control characters as \u00xx (lower-case hex), every other byte as it is
// (no UTF-8 check, no escaping of '/' or DEL).
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\b':
        out += 'b';
        break;
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\f':
        out += 'f';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

void append_decimal(std::string& out, uint64_t value) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// ["a","b"]
void append_strings_json(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, values[i]);
  }
  out += ']';
}

std::string strings_json(const std::vector<std::string>& values) {
  std::string out;
  append_strings_json(out, values);
  return out;
}

// ["a",null]
void append_optional_strings_json(std::string& out,
                                  const std::vector<std::optional<std::string>>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    if (values[i])
      append_json_string(out, *values[i]);
    else
      out += "null";
  }
  out += ']';
}

// {"columns":[...],"rows":[[...],...],"truncated":false}, the kept rows' body.
std::string results_json(const ResultRows& results) {
  std::size_t size = 48;
  for (const auto& column : results.columns) size += column.size() + 3;
  for (const auto& row : results.rows)
    for (const auto& value : row) size += (value ? value->size() : 4) + 3;
  std::string out;
  out.reserve(size);
  out += "{\"columns\":";
  append_strings_json(out, results.columns);
  out += ",\"rows\":[";
  for (std::size_t i = 0; i < results.rows.size(); ++i) {
    if (i > 0) out += ',';
    append_optional_strings_json(out, results.rows[i]);
  }
  out += "],\"truncated\":";
  out += results.truncated ? "true" : "false";
  out += '}';
  return out;
}

// {"email":3}: std::map keeps the keys in sorted order, so the text is stable.
std::string masked_json(const std::map<std::string, uint64_t>& masked) {
  std::string out = "{";
  for (const auto& [name, count] : masked) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ':';
    append_decimal(out, count);
  }
  out += '}';
  return out;
}

void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::shared_ptr<const EventOrigin> make_origin(EventOrigin origin) {
  origin.groups_json = strings_json(origin.groups);
  return std::make_shared<const EventOrigin>(std::move(origin));
}

std::string format_time(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const auto days = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day date{std::chrono::sys_days(days)};
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) {
    // Outside four-digit years: what strftime-style formatting writes there.
    const std::time_t t = seconds.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", utc, nanos.count());
  }
  // By hand: this runs for every event, and fmt's chrono path parses a format string and
  // calls gmtime_r each time.
  const auto in_day = seconds - days;
  const auto second_of_day = static_cast<unsigned>(in_day.count());
  std::string out = "0000-00-00T00:00:00.000000000Z";
  put_digits(&out[0], static_cast<unsigned>(year), 4);
  put_digits(&out[5], static_cast<unsigned>(date.month()), 2);
  put_digits(&out[8], static_cast<unsigned>(date.day()), 2);
  put_digits(&out[11], second_of_day / 3600, 2);
  put_digits(&out[14], second_of_day / 60 % 60, 2);
  put_digits(&out[17], second_of_day % 60, 2);
  put_digits(&out[20], static_cast<unsigned>(nanos.count()), 9);
  return out;
}

EncodedEvent encode_event(const Event& event) {
  EncodedEvent out;
  encode_event(event, out);
  return out;
}

void encode_event(const Event& event, EncodedEvent& out) {
  Record& record = out.record;
  const EventOrigin* origin = event.origin.get();
  set_text(record, Field::event, event.event);
  set_text(record, Field::id, event.id);
  record[Field::time] = format_time(event.time);
  if (origin != nullptr) {
    set_text(record, Field::session, origin->session);
    set_text(record, Field::subject, origin->subject);
    set_text(record, Field::subject_kind, origin->subject_kind);
    if (!origin->subject.empty()) record[Field::groups] = origin->groups_json;
    set_text(record, Field::auth, origin->auth);
    set_text(record, Field::client_addr, origin->client_addr);
    set_text(record, Field::connection, origin->connection);
    set_text(record, Field::protocol, origin->protocol);
    set_text(record, Field::credential, origin->credential);
  } else {
    set_text(record, Field::session, event.session);
    set_text(record, Field::subject, event.subject);
    set_text(record, Field::subject_kind, event.subject_kind);
    if (!event.subject.empty()) record[Field::groups] = strings_json(event.groups);
    set_text(record, Field::auth, event.auth);
    set_text(record, Field::client_addr, event.client_addr);
    set_text(record, Field::connection, event.connection);
    set_text(record, Field::protocol, event.protocol);
    set_text(record, Field::credential, event.credential);
  }
  if (event.command) record[Field::command] = *event.command;
  if (event.params) {
    auto& params = record[Field::params].emplace();
    append_optional_strings_json(params, *event.params);
  }
  set_text(record, Field::fingerprint, event.fingerprint);
  if (!event.kinds.empty()) record[Field::kinds] = strings_json(event.kinds);
  if (!event.classes.empty()) record[Field::classes] = strings_json(event.classes);
  set_text(record, Field::verdict, event.verdict);
  set_text(record, Field::rule, event.rule);
  set_text(record, Field::reviewer, event.reviewer);
  set_text(record, Field::statement, event.statement);
  if (event.rows) record[Field::rows] = std::to_string(*event.rows);
  if (event.bytes_in) record[Field::bytes_in] = std::to_string(*event.bytes_in);
  if (event.bytes_out) record[Field::bytes_out] = std::to_string(*event.bytes_out);
  if (!event.masked.empty()) record[Field::masked] = masked_json(event.masked);
  if (event.duration_us) record[Field::duration_us] = std::to_string(*event.duration_us);
  set_text(record, Field::error, event.error);
  if (event.results) {
    out.results = results_json(*event.results);
    record[Field::results_sha256] = sha256_hex(*out.results);
  }
}

}  // namespace portcullis::audit
