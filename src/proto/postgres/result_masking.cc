// Result masking: the plan of each result from its RowDescription (with catalog names for
// column rules), DataRow, COPY, error, notice and notification values masked on their way to
// the client, and results withheld when they cannot be.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/postgres/data_row_masking.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/error_redaction.h"
#include "proto/postgres/session.h"
#include "proto/postgres/session_support.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

Session::DescribeAnswer Session::take_describe_answer() {
  if (pending_describes_.empty() || sync_points_.empty() ||
      pending_describes_.front().serial != sync_points_.front().serial)
    return DescribeAnswer::none;  // a simple Query's own RowDescription
  const PendingDescribe describe = pending_describes_.front();
  pending_describes_.pop_front();
  if (describe.injected) return DescribeAnswer::injected;
  return describe.portal ? DescribeAnswer::portal : DescribeAnswer::statement;
}

masking::ColumnPlan Session::masked_column_reads(const sql::Classification& classification) const {
  for (const auto& statement : classification.statements) {
    // A FETCH from a cursor of SQL DECLARE returns what the declared query computes, which the
    // gateway does not keep: its computed outputs are masked as if that query read masked
    // columns. (A portal of the gateway's knowledge has its facts merged already.)
    if ((statement.kind == "fetch" || statement.kind == "move") && statement.inner_kind.empty())
      return masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
    // A whole row holds every column, the masked ones among them.
    if (statement.whole_row_reference)
      return masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
    for (const auto& column : statement.columns_referenced) {
      const auto plan = gate_.masker()->plan_column({}, column, true);
      if (plan.action == masking::ColumnPlan::Action::whole) return plan;
    }
  }
  return {};
}

void Session::withhold(std::string_view why, std::string& synthetic,
                       std::vector<RelaySegment>& segments) {
  spdlog::info("event=result_withheld session={} subject={:?} reason={:?}", id_,
               gate_.identity().subject, why);
  const auto error =
      error_response(kSqlInsufficientPrivilege,
                     fmt::format("portcullis: result withheld by masking profile \"{}\": {}",
                                 gate_.grant().masking, why));
  add_segment(segments, true, synthetic.size(), error.size());
  synthetic.append(error);
  withholding_ = true;
  gate_.recorder().on_withheld(why);
  // The client has its error for this batch; one the backend may still send is dropped.
  if (!sync_points_.empty()) sync_points_.front().backend_errored = true;
}

void Session::mask_backend_message(const Message& message, std::size_t offset, std::size_t total,
                                   std::string& synthetic, std::vector<RelaySegment>& segments) {
  const DescribeAnswer answer =
      message.type == backend::kRowDescription || message.type == backend::kNoData
          ? take_describe_answer()
          : DescribeAnswer::none;
  if (withholding_) {
    // Dropped up to ReadyForQuery; the journal still learns where each statement ended.
    if (message.type == backend::kCommandComplete) results_.on_command_complete(message.body);
    if (message.type == backend::kErrorResponse) results_.on_error({});
    return;
  }
  if (!gate_.masker()) {
    // A reload turned masking off while Describes the gateway sent were still unanswered.
    if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
    return;
  }
  auto forward_rewritten = [&] {
    std::string rebuilt;
    MessageWriter(rebuilt).begin(message.type).bytes(masked_).finish();
    add_segment(segments, true, synthetic.size(), rebuilt.size());
    synthetic.append(rebuilt);
  };
  switch (message.type) {
    case backend::kRowDescription: {
      if (answer == DescribeAnswer::statement) {
        // A prepared statement's description: no rows follow it. Its results are described
        // again (by the client or by the gateway) when a portal of it runs.
        add_segment(segments, false, offset, total);
        return;
      }
      if (gate_.masker()->has_column_rules() && !tables_error_.empty()) {
        withhold("the tables of the result's columns cannot be looked up (" + tables_error_ +
                     "), and the profile masks columns by name",
                 synthetic, segments);
        tables_error_.clear();
        return;
      }
      if (auto planned = plan_result(message.body); !planned) {
        withhold(planned.error().message, synthetic, segments);
        return;
      }
      results_.on_row_description(message.body);
      if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
      return;
    }
    case backend::kNoData:
      row_plan_valid_ = false;
      if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
      return;
    case backend::kNotificationResponse: {
      // Another session's payload (LISTEN): scanned like text of no column.
      masked_.clear();
      auto outcome = mask_notification(message.body, *gate_.masker(), *gate_.mask_scratch(),
                                       gate_.mask_counts(), masked_);
      if (!outcome) {
        // It may come between commands: dropped alone rather than withholding a result.
        spdlog::warn("event=notification_dropped session={} reason={:?}", id_,
                     outcome.error().message);
        return;
      }
      if (*outcome == MaskOutcome::rewritten)
        forward_rewritten();
      else
        add_segment(segments, false, offset, total);
      return;
    }
    case backend::kFunctionCallResponse: {
      // A fast-path call's result is one value, laid out as a DataRow's column: masked as
      // one. The function is known by number only, so under column rules it is masked whole.
      ColumnMasking column;
      column.plan =
          gate_.masker()->has_column_rules()
              ? masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact}
              : gate_.masker()->plan_text();
      column.format =
          sync_points_.empty() ? FormatCode::binary : sync_points_.front().function_result;
      std::string row("\0\1", 2);
      row.append(message.body);
      masked_.clear();
      auto outcome = mask_data_row(row, std::span<const ColumnMasking>(&column, 1), *gate_.masker(),
                                   *gate_.mask_scratch(), gate_.mask_counts(), masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged) {
        add_segment(segments, false, offset, total);
      } else {
        masked_.erase(0, 2);
        forward_rewritten();
      }
      return;
    }
    case backend::kDataRow: {
      if (!row_plan_valid_) {
        withhold("a result row came without a description of its own result", synthetic, segments);
        return;
      }
      masked_.clear();
      auto outcome = mask_data_row(message.body, row_plan_, *gate_.masker(), *gate_.mask_scratch(),
                                   gate_.mask_counts(), masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged) {
        results_.on_data_row(message.body, total);
        add_segment(segments, false, offset, total);
      } else {
        results_.on_data_row(masked_, kHeaderSize + masked_.size());
        forward_rewritten();
      }
      return;
    }
    case backend::kErrorResponse:
    case backend::kNoticeResponse: {
      masked_.clear();
      std::string_view body = message.body;
      bool rewritten = false;
      if (!sync_points_.empty() &&
          sync_points_.front().reads_masked_columns.action == masking::ColumnPlan::Action::whole) {
        // The statement reads masked columns: a value the error quotes may be one of them.
        if (!redact_error_values(body, redacted_error_)) {
          withhold("the backend's error cannot be read", synthetic, segments);
          return;
        }
        body = redacted_error_;
        rewritten = true;
      }
      auto outcome = mask_error_fields(body, *gate_.masker(), *gate_.mask_scratch(),
                                       gate_.mask_counts(), masked_);
      if (outcome && *outcome == MaskOutcome::rewritten)
        rewritten = true;
      else if (rewritten)
        masked_.assign(body);
      if (message.type == backend::kErrorResponse)
        results_.on_error(rewritten ? std::string_view(masked_) : message.body);
      if (rewritten)
        forward_rewritten();
      else
        add_segment(segments, false, offset, total);
      return;
    }
    case backend::kCommandComplete:
      results_.on_command_complete(message.body);
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyData: {
      results_.on_streamed_data(total);
      if (!copy_out_) {
        withhold("COPY data the gateway cannot attribute to a COPY it knows", synthetic, segments);
        return;
      }
      if (copy_out_->header_pending) {
        auto names = copy_row_values(message.body, copy_out_->format);
        if (!names) {
          withhold("the COPY's header row cannot be read", synthetic, segments);
          return;
        }
        copy_out_->header_pending = false;
        copy_out_->plans.clear();
        for (const auto& name : *names)
          copy_out_->plans.push_back(copy_column_plan(*copy_out_, name));
        add_segment(segments, false, offset, total);  // column names, as the query wrote them
        return;
      }
      masked_.clear();
      auto outcome =
          mask_copy_row(message.body, copy_out_->format, copy_out_->plans, *gate_.masker(),
                        *gate_.mask_scratch(), gate_.mask_counts(), masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged)
        add_segment(segments, false, offset, total);
      else
        forward_rewritten();
      return;
    }
    case backend::kCopyDone:
      copy_out_.reset();
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyOutResponse:
      if (auto started = start_copy_masking(message.body); !started) {
        withhold(started.error().message, synthetic, segments);
        return;
      }
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyBothResponse:
      withhold("replication streams cannot be masked", synthetic, segments);
      return;
    default:
      add_segment(segments, false, offset, total);
      return;
  }
}

Result<void> Session::plan_result(std::string_view row_description) {
  auto fields = parse_row_description(row_description);
  if (!fields) return make_error("the result's row description cannot be read");
  // What the batch computes from masked columns masks its computed outputs whole.
  const masking::ColumnPlan computed =
      sync_points_.empty() ? masking::ColumnPlan{} : sync_points_.front().reads_masked_columns;
  const bool by_name = gate_.masker()->has_column_rules();
  row_plan_.clear();
  for (const auto& field : *fields) {
    ColumnMasking column;
    const bool text_like = type_can_hold_text(field.type_oid);
    if (by_name && field.table_oid != 0) {
      // A table's column, renamed or not (`SELECT ssn AS p`): the rules see the catalog's
      // names of the table and the column, looked up before this message was handled.
      const TableNames::Table* table = tables_.find(field.table_oid);
      const std::string* name = table ? table->column(field.column) : nullptr;
      if (name != nullptr) {
        column.plan = gate_.masker()->plan_column(table->name, *name, text_like);
      } else if (field.column > 0) {
        // A user column the catalog does not show (a table created in the caller's open
        // transaction): its name cannot be known, so it is masked as a rule would.
        column.plan =
            masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
      } else {
        column.plan = gate_.masker()->plan_column({}, field.name, text_like);  // a system column
      }
    } else {
      // An expression: matched by its output name, and masked whole when the statement reads
      // a masked column (`upper(ssn)`, `row_to_json(t)`).
      column.plan = gate_.masker()->plan_column({}, field.name, text_like);
      if (field.table_oid == 0 && computed.action == masking::ColumnPlan::Action::whole &&
          column.plan.action != masking::ColumnPlan::Action::whole)
        column.plan = computed;
    }
    column.type_oid = field.type_oid;
    column.format = field.format == 1 ? FormatCode::binary : FormatCode::text;
    row_plan_.push_back(column);
  }
  row_plan_valid_ = true;
  return {};
}

masking::ColumnPlan Session::copy_column_plan(const CopyMasking& copy,
                                              std::string_view name) const {
  auto plan = gate_.masker()->plan_column(copy.table, name, true);
  // COPY (query): its columns are outputs of a query, masked whole when it reads masked ones.
  if (copy.computed.action == masking::ColumnPlan::Action::whole &&
      plan.action != masking::ColumnPlan::Action::whole)
    plan = copy.computed;
  return plan;
}

std::vector<uint32_t> Session::tables_to_look_up(std::string_view row_description) const {
  std::vector<uint32_t> oids;
  if (!gate_.masker() || !gate_.masker()->has_column_rules() || withholding_) return oids;
  auto fields = parse_row_description(row_description);
  if (!fields) return oids;  // the masking step refuses it
  for (const auto& field : *fields)
    if (field.table_oid != 0 && tables_.find(field.table_oid) == nullptr &&
        std::find(oids.begin(), oids.end(), field.table_oid) == oids.end())
      oids.push_back(field.table_oid);
  return oids;
}

Result<void> Session::start_copy_masking(std::string_view body) {
  copy_out_.reset();
  if (body.empty()) return make_error("the COPY's format cannot be read");
  if (body[0] != 0)
    return make_error("binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format");
  // The COPY that is running is the first one allowed at the sync point being answered.
  const uint64_t serial = sync_points_.empty() ? 0 : sync_points_.front().serial;
  auto it = std::find_if(pending_copies_.begin(), pending_copies_.end(),
                         [&](const PendingCopy& copy) { return copy.serial == serial; });
  if (sync_points_.empty() || it == pending_copies_.end())
    return make_error("the gateway does not know this COPY's row format");
  const sql::CopyOptions options = std::move(it->options);
  pending_copies_.erase(it);

  CopyMasking copy;
  auto one_char = [](const std::string& given, char fallback,
                     std::string_view what) -> Result<char> {
    if (given.empty()) return fallback;
    if (given.size() != 1)
      return make_error(fmt::format("the COPY's {} is not a single byte", what));
    return given[0];
  };
  if (options.format == "csv") {
    copy.format.csv = true;
    auto delimiter = one_char(options.delimiter, ',', "delimiter");
    if (!delimiter) return delimiter.error();
    auto quote = one_char(options.quote, '"', "quote");
    if (!quote) return quote.error();
    auto escape = one_char(options.escape, *quote, "escape");
    if (!escape) return escape.error();
    copy.format.delimiter = *delimiter;
    copy.format.quote = *quote;
    copy.format.escape = *escape;
    copy.format.null = options.null.value_or("");
    copy.header_pending = options.header;
  } else if (options.format == "text") {
    auto delimiter = one_char(options.delimiter, '\t', "delimiter");
    if (!delimiter) return delimiter.error();
    copy.format.delimiter = *delimiter;
    copy.format.null = options.null.value_or("\\N");
  } else {
    return make_error(fmt::format("COPY in {} format cannot be masked", options.format));
  }
  // Rules match a table's name without its schema, as for result columns (pg_dump writes
  // COPY public.customers (...)).
  copy.table = unqualified_table(options.table);
  if (copy.table.empty() && !sync_points_.empty())
    copy.computed = sync_points_.front().reads_masked_columns;
  if (!options.columns.empty()) {
    copy.header_pending = false;  // the names are the statement's; a header row is data
    for (const auto& name : options.columns) copy.plans.push_back(copy_column_plan(copy, name));
  } else if (!copy.header_pending && gate_.masker()->has_column_rules()) {
    // Without names a column rule cannot be applied: refuse rather than let a column the
    // profile masks whole go out with only its content scanned.
    return make_error(
        "the profile masks columns by name, and this COPY does not name its columns; list "
        "them (COPY t (a, b) TO STDOUT) or use FORMAT csv, HEADER");
  }
  copy_out_ = std::move(copy);
  return {};
}

}  // namespace portcullis::proto::postgres
