// Encoding events into journal records.
#include "audit/event.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

namespace portcullis::audit {
namespace {

void set_text(Record& record, Field field, const std::string& value) {
  if (!value.empty()) record[field] = value;
}

std::string strings_json(const std::vector<std::string>& values) {
  boost::json::array array;
  array.reserve(values.size());
  for (const auto& value : values) array.emplace_back(value);
  return boost::json::serialize(array);
}

boost::json::array optional_strings(const std::vector<std::optional<std::string>>& values) {
  boost::json::array array;
  array.reserve(values.size());
  for (const auto& value : values) {
    if (value)
      array.emplace_back(boost::json::string_view(*value));
    else
      array.emplace_back(nullptr);
  }
  return array;
}

}  // namespace

std::string format_time(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const std::time_t t = seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", utc, nanos.count());
}

EncodedEvent encode_event(const Event& event) {
  EncodedEvent out;
  Record& record = out.record;
  set_text(record, Field::event, event.event);
  set_text(record, Field::id, event.id);
  record[Field::time] = format_time(event.time);
  set_text(record, Field::session, event.session);
  set_text(record, Field::subject, event.subject);
  set_text(record, Field::subject_kind, event.subject_kind);
  if (!event.subject.empty()) record[Field::groups] = strings_json(event.groups);
  set_text(record, Field::auth, event.auth);
  set_text(record, Field::client_addr, event.client_addr);
  set_text(record, Field::connection, event.connection);
  set_text(record, Field::protocol, event.protocol);
  if (event.command) record[Field::command] = *event.command;
  if (event.params) record[Field::params] = boost::json::serialize(optional_strings(*event.params));
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
  if (!event.masked.empty()) {
    boost::json::object masked;  // std::map: keys in sorted order, so the text is stable
    for (const auto& [name, count] : event.masked) masked[name] = count;
    record[Field::masked] = boost::json::serialize(masked);
  }
  if (event.duration_us) record[Field::duration_us] = std::to_string(*event.duration_us);
  set_text(record, Field::error, event.error);
  if (event.results) {
    boost::json::object body;
    body["columns"] = boost::json::value_from(event.results->columns);
    boost::json::array rows;
    rows.reserve(event.results->rows.size());
    for (const auto& row : event.results->rows) rows.emplace_back(optional_strings(row));
    body["rows"] = std::move(rows);
    body["truncated"] = event.results->truncated;
    out.results = boost::json::serialize(body);
    record[Field::results_sha256] = sha256_hex(*out.results);
  }
  return out;
}

}  // namespace portcullis::audit
