// The answers to forwarded commands, relayed to the client packet by packet: OK and ERR packets
// (error texts masked), text and binary result sets (every value masked under the grant's
// profile, the rows kept in the journal), prepare answers, and what the gateway must never
// relay (a backend's request for a client file).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proto/mysql/error_codes.h"
#include "proto/mysql/session.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;

namespace {

// The client gets a large result as it comes: what is queued goes out past this much.
constexpr std::size_t kFlushThreshold = 64 * 1024;

uint8_t header_of(std::string_view payload) {
  return payload.empty() ? kErrHeader : static_cast<uint8_t>(payload[0]);
}

}  // namespace

asio::awaitable<bool> Session::forward(std::string_view payload, Answer answer,
                                       Prepared* prepared) {
  backend_->set_next_sequence(0);
  backend_->queue(payload);
  if (auto sent = co_await backend_->flush(); !sent) {
    backend_lost(sent.error().message);
    co_return false;
  }
  if (answer == Answer::none) co_return true;
  co_return co_await relay_answer(answer, prepared);
}

asio::awaitable<bool> Session::relay_answer(Answer answer, Prepared* prepared) {
  statement_index_ = 0;
  withheld_ = false;
  bool more = true;
  while (more) {
    more = false;
    if (!co_await relay_result(answer, prepared, more)) co_return false;
  }
  gate_.recorder().on_batch_done(batch_);
  answering_.reset();
  co_return co_await flush_client();
}

void Session::backend_lost(std::string_view why) {
  if (ended_) return;
  spdlog::warn("event=backend_lost session={} reason={:?}", id_, why);
  gate_.recorder().on_error(
      error_text(kUnknownError.code, kUnknownError.sql_state, "the backend connection was lost"));
  gate_.recorder().on_batch_done(batch_);
  end({.reason = gateway::RefusalReason::connection_lost,
       .rule = {},
       .message = "the connection to the backend was lost"});
}

asio::awaitable<bool> Session::relay_result(Answer answer, Prepared* prepared, bool& more) {
  auto& recorder = gate_.recorder();
  auto read = [this]() -> asio::awaitable<Result<std::string_view>> {
    auto packet = co_await backend_->read();
    if (!packet) backend_lost(packet.error().message);
    co_return packet;
  };
  // Queued for the client unless the answer is being withheld.
  auto relay = [this](std::string_view payload) {
    if (!withheld_) client_->queue(payload);
  };
  auto packet = co_await read();
  if (!packet) co_return false;
  std::string_view payload = *packet;
  const uint8_t header = header_of(payload);

  if (header == kErrHeader) {
    const std::string sent = masked_error(payload);
    if (auto err = decode_err(sent))
      recorder.on_error(error_text(err->code, err->sql_state, err->message));
    relay(sent);
    statement_answered(false);
    co_return true;
  }
  if (answer == Answer::simple || answer == Answer::statistics) {
    if (header == kOkHeader)
      if (auto ok = decode_ok(payload, capabilities_)) backend_status_ = ok->status;
    recorder.on_complete(std::nullopt);
    relay(payload);
    co_return true;
  }
  if (answer == Answer::prepare) {
    auto ok = decode_prepare_ok(payload);
    if (!ok) {
      backend_lost(ok.error().message);
      co_return false;
    }
    relay(payload);
    Prepared statement = pending_prepare_ ? std::move(*pending_prepare_) : Prepared{};
    pending_prepare_.reset();
    statement.params = ok->params;
    for (uint16_t i = 0; i < ok->params; ++i) {
      auto definition = co_await read();
      if (!definition) co_return false;
      relay(*definition);
    }
    if (ok->params > 0 && !(capabilities_ & capability::kDeprecateEof)) {
      auto eof = co_await read();
      if (!eof) co_return false;
      relay(*eof);
    }
    for (uint16_t i = 0; i < ok->columns; ++i) {
      auto definition = co_await read();
      if (!definition) co_return false;
      if (auto column = decode_column_definition(*definition))
        statement.columns.push_back(std::move(*column));
      relay(*definition);
    }
    if (ok->columns > 0 && !(capabilities_ & capability::kDeprecateEof)) {
      auto eof = co_await read();
      if (!eof) co_return false;
      relay(*eof);
    }
    prepared_[ok->statement_id] = std::move(statement);
    co_return true;
  }
  if (header == kLocalInfileHeader && answer == Answer::query) {
    // The backend asks the client for a file (LOAD DATA LOCAL INFILE). The gateway never
    // offered local files: it answers with no data, and the backend ends the statement.
    spdlog::warn("event=local_infile_refused session={}", id_);
    backend_->set_next_sequence(static_cast<uint8_t>(backend_->last_sequence() + 1));
    backend_->queue({});
    if (auto sent = co_await backend_->flush(); !sent) {
      backend_lost(sent.error().message);
      co_return false;
    }
    co_return co_await relay_result(answer, prepared, more);
  }
  const bool in_call = answering_ && statement_index_ < answering_->statements.size() &&
                       answering_->statements[statement_index_].kind == "call";
  if (header == kOkHeader && answer != Answer::fetch && answer != Answer::field_list) {
    auto ok = decode_ok(payload, capabilities_);
    if (!ok) {
      backend_lost(ok.error().message);
      co_return false;
    }
    backend_status_ = ok->status;
    more = (ok->status & status::kMoreResultsExist) != 0;
    recorder.on_complete(static_cast<int64_t>(ok->affected_rows));
    statement_answered(true);
    relay(payload);
    co_return true;
  }

  // A result set: its column count and definitions (COM_FIELD_LIST and COM_STMT_FETCH send
  // none of the first: definitions, or rows, come at once).
  const bool binary = answer == Answer::execute || answer == Answer::fetch;
  if (answer == Answer::field_list) {
    for (;;) {
      if (is_result_end(payload, capabilities_ & ~capability::kDeprecateEof) ||
          header_of(payload) == kErrHeader) {
        relay(payload);
        recorder.on_complete(std::nullopt);
        co_return true;
      }
      relay(payload);
      auto next = co_await read();
      if (!next) co_return false;
      payload = *next;
    }
  }
  bool have_row = false;
  if (answer == Answer::fetch) {
    columns_ = prepared ? prepared->columns : std::vector<ColumnDefinition>{};
    plan_columns();
    have_row = true;  // `payload` is the first row, or the end
  } else {
    PacketReader count_reader(payload);
    const uint64_t count = count_reader.lenenc_int();
    if (!count_reader.ok() || !count_reader.at_end()) {
      backend_lost("malformed result set header");
      co_return false;
    }
    relay(payload);
    columns_.clear();
    for (uint64_t i = 0; i < count; ++i) {
      auto definition = co_await read();
      if (!definition) co_return false;
      auto column = decode_column_definition(*definition);
      if (!column) {
        backend_lost(column.error().message);
        co_return false;
      }
      columns_.push_back(std::move(*column));
      relay(*definition);
    }
    if (!(capabilities_ & capability::kDeprecateEof)) {
      auto eof = co_await read();
      if (!eof) co_return false;
      relay(*eof);
    }
    if (prepared && answer == Answer::execute) prepared->columns = columns_;
    plan_columns();
  }
  {
    std::vector<gateway::SessionRecorder::ResultColumn> names;
    names.reserve(columns_.size());
    for (const auto& c : columns_) names.push_back({.name = c.name, .binary = is_binary_string(c)});
    recorder.on_columns(names);
  }
  rows_in_result_ = 0;
  std::string rewritten;
  for (;;) {
    if (!have_row) {
      auto next = co_await read();
      if (!next) co_return false;
      payload = *next;
    }
    have_row = false;
    if (is_result_end(payload, capabilities_)) {
      const uint16_t end_status = result_end_status(payload, capabilities_);
      backend_status_ = end_status;
      more = (end_status & status::kMoreResultsExist) != 0;
      relay(payload);
      if (!in_call) {
        recorder.on_complete(static_cast<int64_t>(rows_in_result_));
        statement_answered(true);
      }
      break;
    }
    if (header_of(payload) == kErrHeader) {
      const std::string sent = masked_error(payload);
      if (auto err = decode_err(sent))
        recorder.on_error(error_text(err->code, err->sql_state, err->message));
      relay(sent);
      statement_answered(false);
      more = false;
      break;
    }
    ++rows_in_result_;
    if (withheld_) continue;  // read and dropped: the client has its error
    bool changed = false;
    std::string why;
    if (!mask_row(payload, binary, rewritten, changed, why)) {
      // Fail closed: the row is not sent, nor anything after it.
      spdlog::warn("event=result_withheld session={} reason={:?}", id_, why);
      recorder.on_withheld(why);
      queue_error(kUnknownError.code, kUnknownError.sql_state,
                  "portcullis: result withheld: " + why);
      withheld_ = true;
      continue;
    }
    const std::string_view sent = changed ? std::string_view(rewritten) : payload;
    record_row(sent, binary);
    client_->queue(sent);
    if (client_->queued_size() >= kFlushThreshold && !co_await flush_client()) co_return false;
  }
  co_return true;
}

void Session::statement_answered(bool succeeded) {
  if (answering_ && statement_index_ < answering_->statements.size())
    sql_prepared_.on_answer(answering_->statements[statement_index_], succeeded);
  ++statement_index_;
}

void Session::plan_columns() {
  const masking::Masker* masker = gate_.masker();
  masking_ = masker && masker->active();
  plans_.assign(columns_.size(), masking::ColumnPlan{});
  if (!masking_) return;
  // A computed column (no column of its own) of a statement that reads a column the profile
  // masks by name is masked as that column is: CONCAT(email, '') is still an email.
  std::optional<masking::ColumnPlan> lineage;
  if (masker->has_column_rules() && answering_) {
    for (const auto& statement : answering_->statements) {
      for (const auto& name : statement.columns_referenced) {
        const auto plan = masker->plan_column({}, name, true);
        if (plan.action == masking::ColumnPlan::Action::whole) {
          lineage = plan;
          break;
        }
      }
      if (lineage) break;
    }
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const auto& c = columns_[i];
    const std::string_view table = c.org_table.empty() ? c.table : c.org_table;
    const std::string_view name = c.org_name.empty() ? c.name : c.org_name;
    plans_[i] = masker->plan_column(table, name, type_can_hold_text(c.type));
    if (c.org_name.empty() && lineage && plans_[i].action != masking::ColumnPlan::Action::whole)
      plans_[i] = *lineage;
  }
}

bool Session::mask_row(std::string_view payload, bool binary, std::string& out, bool& rewritten,
                       std::string& why) {
  rewritten = false;
  if (!masking_) return true;
  auto decoded = binary ? decode_binary_row(payload, columns_, row_values_)
                        : decode_text_row(payload, columns_.size(), row_values_);
  if (!decoded) {
    why = decoded.error().message;  // a row that cannot be read cannot be masked
    return false;
  }
  const masking::Masker& masker = *gate_.masker();
  auto& scratch = *gate_.mask_scratch();
  auto& counts = gate_.mask_counts();
  rewritten_.assign(row_values_.size(), std::nullopt);
  std::vector<bool> changed(row_values_.size(), false);
  bool any = false;
  for (std::size_t i = 0; i < row_values_.size(); ++i) {
    const auto& value = row_values_[i];
    if (!value || plans_[i].action == masking::ColumnPlan::Action::skip) continue;
    const ColumnDefinition& column = columns_[i];
    std::string text_form;
    std::string_view input = *value;
    const bool in_place = !binary || binary_value_is_string(column.type);
    if (!in_place) {
      auto as_text = binary_value_as_text(*value, column);
      if (!as_text) {
        if (plans_[i].action == masking::ColumnPlan::Action::whole) {
          why = fmt::format(
              "column \"{}\" is masked whole, and its binary value cannot be "
              "rewritten",
              column.name);
          return false;
        }
        continue;
      }
      text_form = std::move(*as_text);
      input = text_form;
    }
    if (!masker.mask_value(input, plans_[i], mask_result_, scratch, counts)) continue;
    if (!in_place) {
      why = fmt::format(
          "column \"{}\" holds a number the masking profile masks, and a binary "
          "number cannot be rewritten; read it as text (CAST to CHAR) or without "
          "a prepared statement",
          column.name);
      return false;
    }
    changed[i] = true;
    any = true;
    if (mask_result_.kind == masking::MaskResult::Kind::replaced)
      rewritten_[i] = std::move(mask_result_.bytes);
  }
  if (!any) return true;
  std::vector<std::optional<std::string>> values(row_values_.size());
  for (std::size_t i = 0; i < row_values_.size(); ++i) {
    if (changed[i])
      values[i] = std::move(rewritten_[i]);
    else if (row_values_[i])
      values[i] = std::string(*row_values_[i]);
  }
  out = binary ? encode_binary_row(columns_, values) : encode_text_row(values);
  rewritten = true;
  return true;
}

void Session::record_row(std::string_view payload, bool binary) {
  auto& recorder = gate_.recorder();
  const std::size_t message_size = payload.size() + kHeaderSize;
  if (!recorder.keeping_rows()) {
    recorder.on_streamed_data(message_size);
    return;
  }
  auto decoded = binary ? decode_binary_row(payload, columns_, row_values_)
                        : decode_text_row(payload, columns_.size(), row_values_);
  if (!decoded) {
    recorder.on_streamed_data(message_size);
    return;
  }
  kept_text_.resize(row_values_.size());
  kept_values_.assign(row_values_.size(), std::nullopt);
  for (std::size_t i = 0; i < row_values_.size(); ++i) {
    if (!row_values_[i]) continue;
    if (binary && !binary_value_is_string(columns_[i].type)) {
      kept_text_[i] = binary_param_as_text(
          *row_values_[i],
          {.type = columns_[i].type, .is_unsigned = (columns_[i].flags & kUnsignedFlag) != 0});
      kept_values_[i] = kept_text_[i];
    } else {
      kept_values_[i] = row_values_[i];
    }
  }
  recorder.on_row(kept_values_, payload.size(), message_size);
}

std::string Session::masked_error(std::string_view payload) {
  const masking::Masker* masker = gate_.masker();
  if (!masker || !masker->active()) return std::string(payload);
  auto err = decode_err(payload);
  if (!err) return std::string(payload);
  if (!masker->mask_value(err->message, masker->plan_text(), mask_result_, *gate_.mask_scratch(),
                          gate_.mask_counts()))
    return std::string(payload);
  err->message =
      mask_result_.kind == masking::MaskResult::Kind::replaced ? mask_result_.bytes : "***";
  return encode_err(*err);
}

}  // namespace portcullis::proto::mysql
