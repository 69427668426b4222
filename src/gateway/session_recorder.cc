// Statement and session events of a client session, and their outcomes.
#include "gateway/session_recorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "sql/statement.h"

namespace portcullis::gateway {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Binary values are kept as PostgreSQL prints bytea: "\x" and hex.
std::string hex_value(std::string_view bytes) {
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// Text that the parser could not read may still hold a secret it would have found: such text
// is not recorded when it names one of these words (compared without case).
bool may_hold_secret(std::string_view text) {
  static constexpr std::string_view kWords[] = {"password", "secret", "passphrase", "token",
                                                "conninfo"};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto word : kWords)
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

std::string recorded_text(const sql::Statement& statement) {
  if (!statement.redacted_text.empty()) return statement.redacted_text;
  if (statement.kind == "unknown" && may_hold_secret(statement.text))
    return "<unparsable statement withheld: it may hold a secret>";
  return statement.text;
}

}  // namespace

std::string SessionRecorder::recorded_command(const policy::Command& command) {
  const auto* sql = command.sql();
  if (!sql || !sql->classification || sql->classification->statements.empty()) return command.text;
  const auto& statements = sql->classification->statements;
  std::string text;
  for (const auto& statement : statements) {
    if (!text.empty()) text += "; ";
    text += recorded_text(statement);
  }
  return text;
}

void SessionRecorder::attach(audit::Journal* journal, std::string session_id,
                             std::string client_addr, std::string_view protocol,
                             ErrorText error_text) {
  journal_ = journal;
  protocol_ = protocol;
  error_text_ = error_text;
  session_id_ = std::move(session_id);
  client_addr_ = std::move(client_addr);
  origin_.reset();
}

std::string SessionRecorder::next_id() {
  // By hand rather than fmt::format: twice per statement on the I/O thread.
  char counter[20];
  const auto end = std::to_chars(counter, counter + sizeof counter, ++counter_).ptr;
  std::string id;
  id.reserve(session_id_.size() + 1 + static_cast<std::size_t>(end - counter));
  id += session_id_;
  id += '.';
  id.append(counter, end);
  return id;
}

audit::Event SessionRecorder::base_event(std::string_view type) {
  audit::Event event;
  event.event = type;
  event.id = next_id();
  event.time = std::chrono::system_clock::now();
  // Who and from where: built once (again after connected()), shared by every event.
  if (!origin_) {
    audit::EventOrigin origin;
    origin.session = session_id_;
    origin.client_addr = client_addr_;
    origin.protocol = protocol_;
    origin.connection = connection_;
    if (identity_) {
      origin.subject = identity_->subject;
      origin.subject_kind = identity::to_string(identity_->kind);
      origin.groups = identity_->groups;
      origin.auth = identity::to_string(identity_->method);
      origin.credential = identity_->credential;
    }
    origin_ = audit::make_origin(std::move(origin));
  }
  event.origin = origin_;
  return event;
}

void SessionRecorder::connect_refused(std::string_view claimed_subject, std::string_view connection,
                                      std::string_view reason, std::string_view credential) {
  if (!journal_) return;
  // Kept in memory while the journal cannot be written, up to its outage limit.
  auto event = base_event(audit::kEventConnect);
  audit::EventOrigin origin = *event.origin;
  origin.subject = claimed_subject;
  origin.credential = credential;
  origin.connection = connection;
  event.origin = audit::make_origin(std::move(origin));
  event.verdict = "deny";
  event.error = reason;
  journal_->append(std::move(event));
}

void SessionRecorder::connected(const identity::Identity& identity, std::string connection) {
  identity_ = identity;
  connection_ = std::move(connection);
  origin_.reset();
  if (!journal_) return;
  auto event = base_event(audit::kEventConnect);
  event.verdict = "allow";
  journal_->append(std::move(event));
}

void SessionRecorder::disconnected(uint64_t bytes_in, uint64_t bytes_out,
                                   std::chrono::steady_clock::duration duration) {
  if (!journal_ || !identity_) return;
  // Statements the backend never answered (the connection broke) end here.
  while (!open_.empty())
    complete_front(error_text(RefusalReason::connection_lost,
                              "the connection ended before the statement did"));
  auto event = base_event(audit::kEventDisconnect);
  event.bytes_in = bytes_in;
  event.bytes_out = bytes_out;
  event.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  journal_->append(std::move(event));
}

std::size_t SessionRecorder::decided(const policy::Command& command,
                                     const policy::Decision& decision, bool forwarded,
                                     uint64_t serial, const Completion& on_commit,
                                     const ReviewStep* review) {
  if (!journal_) return 0;
  std::optional<std::vector<std::optional<std::string>>> params;
  const auto* sql = command.sql();
  if (sql && sql->bound) {
    params = sql->params;
    if (masker_ && scratch_) {
      // Bound values are masked as result values are: what a caller sends can be PII too.
      masking::MaskCounts ignored;
      masking::MaskResult result;
      const auto plan = masker_->plan_text();
      for (auto& value : *params) {
        if (!value) continue;
        result.kind = masking::MaskResult::Kind::unchanged;
        if (!masker_->mask_value(*value, plan, result, *scratch_, ignored)) continue;
        if (result.kind == masking::MaskResult::Kind::null)
          value.reset();
        else
          *value = result.bytes;
      }
    }
  }
  const bool allowed = review ? review->runs : decision.verdict == policy::Verdict::allow;
  std::size_t waited = 0;
  if (const auto* shell = command.shell()) {
    // One event for the whole line, as the target's shell runs it as one: its kind, then the
    // programs it runs, so that a search finds every line that ran a program.
    auto event = base_event(audit::kEventStatement);
    event.command = command.text;
    event.kinds.push_back(shell->kind);
    for (auto& program : policy::programs_run(*shell)) event.kinds.push_back(std::move(program));
    event.classes = shell->classes;
    return append_decided(std::move(event), decision, allowed, forwarded, serial, on_commit, review)
               ? 1
               : 0;
  }
  if (const auto* kube = command.kube()) {
    // One event per request: its verb and resource, and for exec the programs it runs.
    auto event = base_event(audit::kEventStatement);
    event.command = command.text;
    event.kinds.push_back(kube->discovery ? "discovery" : kube->verb);
    if (!kube->resource.empty()) event.kinds.push_back(kube->resource_key());
    if (kube->exec)
      for (auto& program : policy::programs_run(*kube->exec))
        event.kinds.push_back(std::move(program));
    event.classes = kube->classes;
    return append_decided(std::move(event), decision, allowed, forwarded, serial, on_commit, review)
               ? 1
               : 0;
  }
  static const std::vector<sql::Statement> kNone;
  const auto& statements = sql && sql->classification ? sql->classification->statements : kNone;
  const std::size_t count = std::max<std::size_t>(statements.size(), 1);
  for (std::size_t i = 0; i < count; ++i) {
    auto event = base_event(audit::kEventStatement);
    if (i < statements.size()) {
      const auto& statement = statements[i];
      event.command = recorded_text(statement);
      event.fingerprint = statement.fingerprint;
      event.kinds.push_back(statement.kind);
      if (!statement.inner_kind.empty()) event.kinds.push_back(statement.inner_kind);
      for (auto name : sql::class_names(statement.classes)) event.classes.emplace_back(name);
    } else {
      event.command = command.text;  // empty text: nothing to classify
    }
    // The last statement's event takes the values, the others copy them.
    if (i + 1 == count)
      event.params = std::move(params);
    else
      event.params = params;
    if (append_decided(std::move(event), decision, allowed, forwarded, serial, on_commit, review))
      ++waited;
  }
  return waited;
}

bool SessionRecorder::append_decided(audit::Event event, const policy::Decision& decision,
                                     bool allowed, bool forwarded, uint64_t serial,
                                     const Completion& on_commit, const ReviewStep* review) {
  event.rule = decision.rule;
  if (review) {
    event.verdict = review->verdict;
    event.reviewer = review->reviewer;
    event.statement = review->review_id;
    event.error = review->error;
  } else {
    event.verdict = allowed ? "allow" : "deny";
    if (!allowed) event.error = error_text(RefusalReason::denied, decision.message);
  }
  if (allowed && forwarded)
    open_.push_back(Open{.id = event.id,
                         .serial = serial,
                         .started = std::chrono::steady_clock::now(),
                         .bytes_out = 0,
                         .rows = {},
                         .binary = {},
                         .kept_bytes = 0,
                         .kept = {},
                         .keeping = false});
  // An allowed operation not followed to an outcome (an SSH forward) is complete as it is
  // appended, and may still have to be on disk before it takes effect.
  if (allowed && on_commit) {
    journal_->append(std::move(event), on_commit);
    return true;
  }
  journal_->append(std::move(event));
  return false;
}

void SessionRecorder::prepared(const policy::Command& command, const policy::Decision& decision) {
  const ReviewStep step{
      .verdict = "prepared", .review_id = {}, .reviewer = {}, .error = {}, .runs = false};
  decided(command, decision, false, 0, {}, &step);
}

void SessionRecorder::refused(std::string_view text, RefusalReason reason,
                              std::string_view message) {
  if (!journal_) return;
  auto event = base_event(audit::kEventStatement);
  event.command = text;
  event.verdict = "deny";
  event.error = error_text(reason, message);
  journal_->append(std::move(event));
}

void SessionRecorder::on_columns(std::span<const ResultColumn> columns, bool described) {
  if (open_.empty()) return;
  auto& open = open_.front();
  open.binary.clear();
  open.keeping = described && caps_.max_rows > 0;
  if (!described) return;
  open.kept.columns.clear();
  for (const auto& column : columns) {
    open.binary.push_back(column.binary);
    open.kept.columns.emplace_back(column.name);
  }
}

void SessionRecorder::on_row(std::span<const std::optional<std::string_view>> values,
                             std::size_t body_size, std::size_t message_size) {
  if (open_.empty()) return;
  auto& open = open_.front();
  open.bytes_out += message_size;
  if (!open.keeping) return;
  if (open.kept.rows.size() >= caps_.max_rows || open.kept_bytes + body_size > caps_.max_bytes) {
    open.kept.truncated = true;
    open.keeping = false;
    return;
  }
  std::vector<std::optional<std::string>> row;
  row.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) {
      row.emplace_back();
      continue;
    }
    const bool binary = i < open.binary.size() && open.binary[i];
    row.emplace_back(binary ? hex_value(*values[i]) : std::string(*values[i]));
  }
  open.kept_bytes += body_size;
  open.kept.rows.push_back(std::move(row));
}

void SessionRecorder::on_streamed_data(std::size_t message_size) {
  if (open_.empty()) return;
  auto& open = open_.front();
  open.bytes_out += message_size;
  if (open.keeping) {
    open.kept.truncated = true;
    open.keeping = false;
  }
}

void SessionRecorder::on_complete(std::optional<int64_t> rows) {
  if (open_.empty()) return;
  open_.front().rows = rows;
  complete_front(withheld_);
}

void SessionRecorder::on_suspended() {
  if (open_.empty()) return;
  complete_front(withheld_.empty() ? "portal suspended: more rows remain" : withheld_);
}

void SessionRecorder::on_error(std::string error) {
  if (open_.empty()) return;
  // A withheld result's error text was not masked: it is not recorded either.
  complete_front(withheld_.empty() ? std::move(error) : withheld_);
}

void SessionRecorder::on_withheld(std::string_view why) {
  withheld_ = error_text(RefusalReason::denied, fmt::format("result withheld: {}", why));
  if (!open_.empty()) {
    // What was kept of this result before it was withheld is not kept either.
    open_.front().kept = {};
    open_.front().keeping = false;
  }
}

void SessionRecorder::on_batch_done(uint64_t serial) {
  while (!open_.empty() && open_.front().serial <= serial)
    complete_front(withheld_.empty() ? "not run: an earlier statement in the same batch failed"
                                     : withheld_);
  withheld_.clear();
}

std::string SessionRecorder::error_text(RefusalReason reason, std::string_view message) const {
  if (error_text_ != nullptr) return error_text_(reason, message);
  return fmt::format("{}: {}", to_string(reason), message);
}

std::map<std::string, uint64_t> SessionRecorder::masked_since_last() {
  std::map<std::string, uint64_t> masked;
  if (!masker_ || !counts_) return masked;
  const auto& now = counts_->by_detector();
  if (counted_.size() < now.size()) counted_.resize(now.size(), 0);
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (now[i] > counted_[i])
      masked[std::string(masker_->detector_name(i))] += now[i] - counted_[i];
    counted_[i] = now[i];
  }
  return masked;
}

void SessionRecorder::complete_front(std::string error) {
  Open open = std::move(open_.front());
  open_.pop_front();
  auto event = base_event(audit::kEventResult);
  event.statement = open.id;
  event.rows = open.rows;
  event.bytes_out = open.bytes_out;
  event.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - open.started)
                          .count();
  event.error = std::move(error);
  event.masked = masked_since_last();
  if (metrics_ != nullptr) metrics_->count_masked(event.masked);
  if (!open.kept.rows.empty() || open.kept.truncated || !open.kept.columns.empty())
    event.results = std::move(open.kept);
  journal_->append(std::move(event));
}

}  // namespace portcullis::gateway
