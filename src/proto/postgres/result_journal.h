// What the journal learns of the backend's answers: PostgreSQL result messages, as forwarded
// to the client (after masking), reported to the session recorder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "gateway/session_recorder.h"

namespace portcullis::proto::postgres {

class ResultJournal {
 public:
  explicit ResultJournal(gateway::SessionRecorder& recorder) : recorder_(recorder) {}

  void on_row_description(std::string_view body);
  // A row whose body is here whole; decoded only when the recorder keeps it.
  void on_data_row(std::string_view body, std::size_t message_size);
  void on_command_complete(std::string_view body);
  void on_error(std::string_view body);
  void on_empty_query() { recorder_.on_complete(0); }
  void on_portal_suspended() { recorder_.on_suspended(); }
  void on_streamed_data(std::size_t message_size) { recorder_.on_streamed_data(message_size); }

 private:
  gateway::SessionRecorder& recorder_;
  std::vector<std::optional<std::string_view>> values_;  // reused from row to row
};

// The row count a CommandComplete tag reports ("SELECT 5", "INSERT 0 3", "COPY 10"), for the
// commands whose tag carries one.
std::optional<int64_t> command_tag_rows(std::string_view tag);

}  // namespace portcullis::proto::postgres
