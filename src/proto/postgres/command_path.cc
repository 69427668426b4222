// A command's way through the session: classified (prepared statements and portals
// resolved), its rows estimated where a guardrail needs it, decided by the gateway core, then
// forwarded, refused in protocol order, or held for review.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <cerrno>

#include "policy/decide.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/fastpath_functions.h"
#include "proto/postgres/refusal_codes.h"
#include "proto/postgres/session.h"
#include "proto/postgres/session_support.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

std::string_view Session::to_string(Via via) {
  switch (via) {
    case Via::query:
      return "query";
    case Via::parse:
      return "parse";
    case Via::execute:
      return "execute";
    case Via::function_call:
      return "function_call";
  }
  return "query";
}

std::shared_ptr<const sql::Classification> Session::classify(const policy::Command& command,
                                                             Via via) {
  if (via == Via::function_call) {
    // A fast-path call names a function by OID only; it can reach any function (the
    // large-object API among them), so it is classed admin. The large-object functions are
    // known by name; any other OID matches every guardrail on functions.
    auto classification = std::make_shared<sql::Classification>();
    sql::Statement statement;
    statement.kind = "function_call";
    statement.classes = static_cast<sql::ClassSet>(sql::StatementClass::admin);
    statement.text = command.text;
    if (auto name = fastpath_function_name(function_oid_))
      statement.functions.emplace_back(*name);
    else
      statement.calls_unknown_functions = true;
    classification->statements.push_back(std::move(statement));
    return classification;
  }
  std::shared_ptr<const sql::Classification> own;
  if (preclassified_ && preclassified_->first == command.text) own = preclassified_->second;
  if (!own) own = classifier_->classify(command.text);
  auto classification = sql_prepared_.resolve(std::move(own), [this](std::string_view name) {
    // SQL EXECUTE can also run a statement prepared with Parse.
    std::shared_ptr<const sql::Classification> found;
    if (auto text = statements_.statement(name)) found = classifier_->classify(*text);
    return found;
  });
  // SQL FETCH can run a portal bound with Bind: it is decided as the statement behind it.
  return SqlPreparedStatements::resolve_portals(
      std::move(classification), [this](std::string_view name) {
        std::shared_ptr<const sql::Classification> found;
        if (const PortalState* portal = statements_.portal(name); portal && portal->text)
          found = classifier_->classify(*portal->text);
        return found;
      });
}

Session::Action Session::decide(policy::Command command, Via via, bool extended) {
  gate_.count_command();
  if (!gate_.refresh() || terminated_) return Action::drop;
  command.via = to_string(via);
  if (const std::size_t limit = gate_.context().config->limits.max_statement_size;
      command.text.size() > limit) {
    // Bounded before it is parsed: a parse costs about a hundred times the text in memory.
    const auto refusal = gate_.refuse_undecided(
        statement_preview(command.text), command.via,
        {.reason = gateway::RefusalReason::too_large,
         .rule = {},
         .message = fmt::format("a statement of {} bytes is larger than the gateway classifies "
                                "({} bytes, limits.max_statement_size); send smaller statements "
                                "(COPY for bulk loads)",
                                command.text.size(), limit)});
    refuse(refusal, extended);
    return Action::drop;
  }
  auto& sql = *command.sql();
  sql.classification = classify(command, via);
  if (row_estimates_ && row_estimates_->text == command.text &&
      row_estimates_->params == sql.params)
    sql.estimated_rows = std::move(row_estimates_->rows);
  row_estimates_.reset();
  const auto outcome = gate_.decide(command, next_sync_serial_);
  switch (outcome.next) {
    case gateway::CommandGate::Next::run:
      on_admitted(command, via, extended);
      return Action::forward;
    case gateway::CommandGate::Next::hold:
      held_via_ = via;
      held_extended_ = extended;
      return Action::hold;
    case gateway::CommandGate::Next::refuse:
      break;
  }
  refuse(outcome.refusal, extended);
  return Action::drop;
}

void Session::on_admitted(const policy::Command& command, Via via, bool extended) {
  // A prepared text runs nothing yet: its runs are decided and followed one by one.
  if (command.intent == policy::Intent::run) {
    const auto& classification = *command.sql()->classification;
    sql_prepared_.apply(classification);
    follow_search_path(command, via);
    const auto* masker = gate_.masker();
    if (masker && masker->has_column_rules()) {
      const auto reads = masked_column_reads(classification);
      if (reads.action == masking::ColumnPlan::Action::whole) batch_masked_reads_ = reads;
    }
    for (const auto& statement : classification.statements) {
      if (statement.kind == "copy_from" && extended) copy_from_pending_ = true;
      if (statement.kind == "copy_to" && statement.copy && masker)
        pending_copies_.push_back(PendingCopy{next_sync_serial_, *statement.copy});
    }
  }
  // A simple Query or FunctionCall is answered with a ReadyForQuery of its own.
  if (!extended) {
    SyncPoint point;
    if (via == Via::function_call) point.function_result = function_result_format_;
    push_sync_point(std::move(point));
    statements_.on_sync_point();
  }
}

asio::awaitable<void> Session::classify_large_text(const Message& message) {
  std::string text;
  if (message.type == frontend::kQuery) {
    auto query = parse_query(message.body);
    if (!query) co_return;  // on_client_message reports it
    text.assign(query->sql);
  } else if (message.type == frontend::kParse) {
    auto parse = parse_parse(message.body);
    if (!parse) co_return;
    text.assign(parse->query);
  } else {
    auto execute = parse_execute(message.body);
    if (!execute) co_return;
    const PortalState* portal = statements_.portal(execute->portal);
    if (portal == nullptr || !portal->text) co_return;
    text = *portal->text;
  }
  // Over the limit, it is refused unparsed; under the threshold it is cheap where it is.
  if (text.size() > gate_.context().config->limits.max_statement_size ||
      text.size() < StatementClassifier::kOffThreadText)
    co_return;
  auto classification = co_await classifier_->classify_off_thread(text);
  preclassified_.emplace(std::move(text), std::move(classification));
}

asio::awaitable<void> Session::estimate_rows(const Message& message) {
  row_estimates_.reset();
  if (!gate_.refresh() || terminated_) co_return;
  policy::Command command;
  auto& sql = *command.sql();
  bool binary_params = false;
  Via via = Via::query;
  if (message.type == frontend::kQuery) {
    auto query = parse_query(message.body);
    if (!query) co_return;  // on_client_message reports it
    command.text.assign(query->sql);
  } else {
    auto execute = parse_execute(message.body);
    if (!execute) co_return;
    const PortalState* portal = statements_.portal(execute->portal);
    if (portal == nullptr || !portal->text) co_return;
    command.text = *portal->text;
    sql.bound = true;
    sql.params = portal->params;
    binary_params = portal->binary_params;
    via = Via::execute;
  }
  command.via = to_string(via);
  const auto context = gate_.context_ptr();  // the grant and the target point into it
  if (command.text.size() > context->config->limits.max_statement_size) co_return;
  const auto& grant = gate_.grant();
  const auto& identity = gate_.identity();
  command.protocol = "postgres";
  command.connection = grant.connection->name;
  sql.classification = classify(command, via);
  // Only where a guardrail on rows is what would decide: every other decision stands
  // whatever the estimate (an unknown estimate matches `rows_over`).
  const auto& config = *context->config;
  const auto first = context->decide(config, identity, grant, command);
  if (first.verdict == policy::Verdict::allow) co_return;
  const bool by_rows = std::any_of(config.guardrails.begin(), config.guardrails.end(),
                                   [&](const config::GuardrailConfig& g) {
                                     return g.name == first.rule && g.when.rows_over.has_value();
                                   });
  if (!by_rows) co_return;
  const auto wanted = policy::statements_to_estimate(config, identity, grant, command);
  RowEstimates estimates{command.text, sql.params, {}};
  const auto& statements = sql.classification->statements;
  const BackendTarget target = backend_target(*context, grant);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    std::optional<uint64_t> rows;
    if (i < wanted.size() && wanted[i]) {
      std::string why;
      if (search_path_unknown_)
        why = "the session changed search_path in a way the gateway does not follow";
      else if (binary_params)
        why = "values bound in binary format";
      if (why.empty()) {
        // The parameters belong to the extended protocol's single statement.
        auto estimate =
            co_await estimator_.estimate(statements[i].text, sql.params, search_path_set_, target);
        if (terminated_) co_return;
        if (estimate)
          rows = *estimate;
        else
          why = estimate.error().message;
      }
      if (!rows)
        spdlog::info("event=row_estimate_unknown session={} subject={:?} reason={:?}", id_,
                     gate_.identity().subject, why);
    }
    estimates.rows.push_back(rows);
  }
  row_estimates_ = std::move(estimates);
}

void Session::follow_search_path(const policy::Command& command, Via via) {
  const auto& statements = command.sql()->classification->statements;
  for (const auto& statement : statements) {
    const bool sets_it = statement.setting == "search_path" || statement.setting == "all";
    const bool by_function = std::any_of(
        statement.functions.begin(), statement.functions.end(),
        [](const std::string& f) { return f == "set_config" || f.ends_with(".set_config"); });
    if (statement.kind == "discard") {
      search_path_set_.clear();
      search_path_unknown_ = false;
    }
    if (!sets_it && !by_function) continue;
    // Followed only where it surely lasts: one SET or RESET alone, outside a transaction
    // block and the extended protocol's implicit one (a later error there would undo it),
    // with nothing before it still unanswered (the transaction status is then current).
    std::string head(statement.text.substr(0, 16));
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool lasting = !by_function && statements.size() == 1 && via == Via::query &&
                         transaction_status_ == 'I' && sync_points_.empty() &&
                         !head.starts_with("set local");
    if (!lasting) {
      search_path_unknown_ = true;
    } else if (statement.kind == "reset") {
      search_path_set_.clear();
      search_path_unknown_ = false;
    } else {
      search_path_set_ = statement.text;
      search_path_unknown_ = false;
    }
  }
}

asio::awaitable<bool> Session::wait_for_review() {
  const auto notice = gate_.hold_notice();
  co_await write_to_client(notice_response("portcullis: " + notice.message, notice.detail));
  watch_client_during_hold();
  const auto outcome = co_await gate_.wait_for_review(next_sync_serial_);
  last_client_activity_ = std::chrono::steady_clock::now();
  if (outcome.next == gateway::CommandGate::Next::run) {
    on_admitted(gate_.held_command(), held_via_, held_extended_);
    co_return true;
  }
  if (outcome.refusal.reason == gateway::RefusalReason::session_ended) {
    if (!terminated_)
      terminate(sqlstate_of(outcome.refusal.reason), "portcullis: " + outcome.refusal.message);
    co_return false;
  }
  refuse(outcome.refusal, held_extended_);
  co_return false;
}

void Session::watch_client_during_hold() {
  // Readable during a hold means the client sent something or left. Only its leaving is
  // acted on: EOF, a Terminate message, or (under TLS) an alert record such as close_notify.
  // Anything else is left in the socket for the relay to read after the hold.
  // Not cancelled after the hold (that would cancel a write to the client too): a watch still
  // pending serves the next hold, and ends when the client next sends anything.
  if (client_watch_pending_) return;
  client_watch_pending_ = true;
  auto& socket = client_->socket();
  socket.async_wait(asio::ip::tcp::socket::wait_read,
                    [weak = std::weak_ptr<Session>(shared_from_this())](const net::error_code& ec) {
                      auto self = weak.lock();
                      if (!self) return;
                      self->client_watch_pending_ = false;
                      if (ec || !self->gate_.holding()) return;
                      char first = 0;
                      const auto n = ::recv(self->client_->socket().native_handle(), &first, 1,
                                            MSG_PEEK | MSG_DONTWAIT);
                      const bool tls = self->client_->is_tls();
                      const bool gone = n == 0 ||
                                        (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
                                        (n == 1 && !tls && first == frontend::kTerminate) ||
                                        (n == 1 && tls && first == 21);  // TLS ContentType alert
                      if (!gone)
                        return;  // data to relay after the hold; the hold's own timeout still runs
                      self->gate_.client_left();
                    });
}

void Session::on_cancel_request() {
  gate_.cancel_hold();
}

void Session::refuse(const gateway::Refusal& refusal, bool extended) {
  refuse(sqlstate_of(refusal.reason), "portcullis: " + refusal.message, extended);
}

void Session::refuse(std::string_view sqlstate, std::string_view message, bool extended) {
  auto error = error_response(sqlstate, message);
  if (extended) {
    // As PostgreSQL after an error: ignore everything up to Sync, answer at the Sync.
    skipping_until_sync_ = true;
    owed_error_ = std::move(error);
  } else {
    SyncPoint point;
    point.synthetic = true;
    point.error = std::move(error);
    push_sync_point(std::move(point));
  }
}

void Session::push_sync_point(SyncPoint point) {
  point.serial = next_sync_serial_++;
  // The batch's commands are answered at this point; a refusal the gateway answers itself
  // leaves them to the next point the backend answers.
  if (!point.synthetic) {
    point.reads_masked_columns = batch_masked_reads_;
    batch_masked_reads_ = {};
  }
  sync_points_.push_back(std::move(point));
}

}  // namespace portcullis::proto::postgres
