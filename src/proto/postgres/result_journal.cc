// PostgreSQL results for the journal.
#include "proto/postgres/result_journal.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "proto/postgres/data_row.h"
#include "proto/postgres/decoder.h"

namespace portcullis::proto::postgres {

std::optional<int64_t> command_tag_rows(std::string_view tag) {
  if (!tag.empty() && tag.back() == '\0') tag.remove_suffix(1);
  const auto space = tag.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto command = tag.substr(0, space);
  static constexpr std::string_view kCounted[] = {"SELECT", "INSERT", "UPDATE", "DELETE",
                                                  "MERGE",  "FETCH",  "MOVE",   "COPY"};
  if (std::find(std::begin(kCounted), std::end(kCounted), command) == std::end(kCounted))
    return std::nullopt;
  const auto last = tag.substr(tag.rfind(' ') + 1);
  int64_t rows = 0;
  const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), rows);
  if (ec != std::errc() || end != last.data() + last.size()) return std::nullopt;
  return rows;
}

void ResultJournal::on_row_description(std::string_view body) {
  auto fields = parse_row_description(body);
  if (!fields) {
    recorder_.on_columns({}, false);
    return;
  }
  std::vector<gateway::SessionRecorder::ResultColumn> columns;
  columns.reserve(fields->size());
  for (const auto& field : *fields)
    columns.push_back({.name = field.name, .binary = field.format == 1});
  recorder_.on_columns(columns);
}

void ResultJournal::on_data_row(std::string_view body, std::size_t message_size) {
  if (!recorder_.keeping_rows()) {
    recorder_.on_streamed_data(message_size);
    return;
  }
  values_.clear();
  auto reader = DataRowReader::open(body);
  // A malformed row is counted, not kept: the codec refuses it on the masked path.
  if (!reader) {
    recorder_.on_streamed_data(message_size);
    return;
  }
  while (!reader->done()) {
    auto value = reader->next();
    if (!value) {
      recorder_.on_streamed_data(message_size);
      return;
    }
    values_.push_back(*value);
  }
  recorder_.on_row(values_, body.size(), message_size);
}

void ResultJournal::on_command_complete(std::string_view body) {
  recorder_.on_complete(command_tag_rows(body));
}

void ResultJournal::on_error(std::string_view body) {
  auto fields = parse_error_fields(body);
  if (!fields) {
    recorder_.on_error("the backend reported an error the gateway cannot read");
    return;
  }
  recorder_.on_error(
      fmt::format("{}: {}", fields->field('C').value_or("XX000"), fields->field('M').value_or("")));
}

}  // namespace portcullis::proto::postgres
