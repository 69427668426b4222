// The command phase: each command the client sends is classified, decided by the gateway core
// and then forwarded, answered by the gateway (refusals, COM_INIT_DB to the connection's own
// database) or refused outright (replication, COM_CHANGE_USER, server administration).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "proto/mysql/error_codes.h"
#include "proto/mysql/session.h"
#include "sql/mysql/classifier.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;

namespace {

// Bytes of long data kept per parameter for the journal (the backend gets them all).
constexpr std::size_t kMaxLongDataKept = 4096;

// COM_SET_OPTION's options.
constexpr uint16_t kMultiStatementsOn = 0;
constexpr uint16_t kMultiStatementsOff = 1;

// A protocol command that is not SQL text, as a classified statement of its own kind.
std::shared_ptr<const sql::Classification> protocol_statement(std::string_view text,
                                                              std::string kind,
                                                              sql::ClassSet classes) {
  auto c = std::make_shared<sql::Classification>();
  sql::Statement s;
  s.kind = std::move(kind);
  s.classes = classes;
  s.text = std::string(text);
  c->statements.push_back(std::move(s));
  return c;
}

// `SET NAMES gbk` and the like: see unsafe_charset in session_startup.cc.
bool names_unsafe_charset(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view name : {"big5", "sjis", "cp932", "gbk", "gb18030"})
    if (lower.find(name) != std::string::npos) return true;
  return false;
}

std::string_view quote_free(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '`' || s.front() == '\'' || s.front() == '"') &&
      s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

std::shared_ptr<const sql::Classification> Session::classify(std::string_view text) {
  auto c = std::make_shared<sql::Classification>(sql::mysql::classify(text, reading_));
  sql_prepared_.resolve(*c);
  // The settings that change how text is read (sql_mode, the character set) are the stock
  // settings MySQL clients send: allowed, and read again from the backend once they ran, so
  // that the gateway reads the next statement as the server will. A character set that can
  // hide quotes inside characters stays refused.
  // Only as the last statement of a text, though: the server reads the statements after it
  // with the new settings, which the gateway learns only once they ran
  // (SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\' ; DELETE ...).
  const std::size_t last = c->statements.empty() ? 0 : c->statements.size() - 1;
  for (std::size_t i = 0; i < c->statements.size(); ++i) {
    auto& statement = c->statements[i];
    // A statement run from a prepared text may change them as well.
    const bool may_change = statement.changes_text_reading || statement.kind == "execute";
    if (!may_change) continue;
    if (i != last || names_unsafe_charset(statement.text)) {
      statement.changes_text_reading = true;
      continue;
    }
    statement.changes_text_reading = false;
    reread_text_settings_ = true;
  }
  return c;
}

asio::awaitable<void> Session::command_loop() {
  for (;;) {
    auto packet = co_await client_->read();
    if (ended_) co_return;
    if (!packet) {
      if (packet.error().message.find("over the limit") != std::string::npos) {
        client_->set_next_sequence(static_cast<uint8_t>(client_->last_sequence() + 1));
        queue_error(kNetPacketTooLarge.code, kNetPacketTooLarge.sql_state,
                    "portcullis: " + packet.error().message + " (limits.max_message_size)");
        co_await flush_client();
      }
      co_return;
    }
    if (packet->empty()) co_return;
    gate_.count_command();
    if (!gate_.refresh() || ended_) co_return;
    client_->set_next_sequence(static_cast<uint8_t>(client_->last_sequence() + 1));
    if (!co_await handle_command(*packet) || ended_) co_return;
    if (reread_text_settings_) {
      if (auto settings = co_await read_text_settings(); !settings) {
        end({.reason = gateway::RefusalReason::connection_lost,
             .rule = {},
             .message = "the session's sql_mode cannot be read: " + settings.error().message});
        co_return;
      }
    }
  }
}

asio::awaitable<bool> Session::handle_command(std::string_view payload) {
  const uint8_t code = static_cast<uint8_t>(payload[0]);
  switch (static_cast<CommandCode>(code)) {
    case CommandCode::quit:
      backend_->set_next_sequence(0);
      backend_->queue(payload);
      (void)co_await backend_->flush();
      co_return false;
    case CommandCode::ping:
    case CommandCode::stmt_reset:
      if (code == static_cast<uint8_t>(CommandCode::stmt_reset)) {
        if (auto id = statement_id_of(payload); id)
          if (auto it = prepared_.find(*id); it != prepared_.end()) {
            it->second.long_data.clear();
            it->second.long_values.clear();
          }
      }
      co_return co_await forward(payload, Answer::simple);
    case CommandCode::query:
      co_return co_await handle_query(payload);
    case CommandCode::init_db:
      co_return co_await handle_init_db(payload);
    case CommandCode::field_list:
      co_return co_await handle_field_list(payload);
    case CommandCode::statistics: {
      policy::Command command;
      command.text = "COM_STATISTICS";
      command.via = "statistics";
      command.sql()->classification = protocol_statement(
          command.text, "statistics", static_cast<sql::ClassSet>(sql::StatementClass::read));
      if (!co_await decide(command)) co_return !ended_;
      co_return co_await forward(payload, Answer::statistics);
    }
    case CommandCode::stmt_prepare:
      co_return co_await handle_prepare(payload);
    case CommandCode::stmt_execute:
      co_return co_await handle_execute(payload);
    case CommandCode::stmt_fetch: {
      auto id = statement_id_of(payload);
      auto it = id ? prepared_.find(*id) : prepared_.end();
      if (it == prepared_.end()) {
        queue_error(kUnknownStmtHandler.code, kUnknownStmtHandler.sql_state,
                    "portcullis: unknown prepared statement handler given to COM_STMT_FETCH");
        co_return co_await flush_client();
      }
      answering_ = it->second.classification;
      co_return co_await forward(payload, Answer::fetch, &it->second);
    }
    case CommandCode::stmt_send_long_data: {
      auto data = decode_long_data(payload);
      if (!data) co_return false;
      if (auto it = prepared_.find(data->statement_id); it != prepared_.end()) {
        it->second.long_data.insert(data->param);
        auto& kept = it->second.long_values[data->param];
        kept.append(
            data->data.substr(0, kMaxLongDataKept - std::min(kept.size(), kMaxLongDataKept)));
      }
      co_return co_await forward(payload, Answer::none);
    }
    case CommandCode::stmt_close:
      if (auto id = statement_id_of(payload); id) prepared_.erase(*id);
      co_return co_await forward(payload, Answer::none);
    case CommandCode::set_option: {
      PacketReader r(payload.substr(1));
      const uint16_t option = r.u16();
      if (option == kMultiStatementsOn) multi_statements_ = true;
      if (option == kMultiStatementsOff) multi_statements_ = false;
      co_return co_await forward(payload, Answer::simple);
    }
    case CommandCode::reset_connection: {
      if (!co_await forward(payload, Answer::simple)) co_return false;
      prepared_.clear();
      sql_prepared_.clear();
      // The reset returns the backend session to its defaults: a read-only grant's session is
      // made read-only again before the next command.
      if (policy::is_read_only(gate_.grant())) {
        if (auto set = co_await run_internal("SET SESSION TRANSACTION READ ONLY"); !set) {
          end({.reason = gateway::RefusalReason::connection_lost,
               .rule = {},
               .message = "the backend session could not be made read-only again after "
                          "COM_RESET_CONNECTION"});
          co_return false;
        }
      }
      reread_text_settings_ = true;
      co_return true;
    }
    default:
      break;
  }
  // Everything else: replication (COM_BINLOG_DUMP, COM_REGISTER_SLAVE, ...), COM_CHANGE_USER
  // (another backend user), server administration (COM_SHUTDOWN, COM_PROCESS_KILL, COM_DEBUG,
  // COM_REFRESH, COM_CREATE_DB, COM_DROP_DB), and what the gateway never offered (COM_MULTI,
  // bulk execution).
  const std::string name = command_name(code);
  const auto refusal = gate_.refuse_undecided(
      name, "command",
      {.reason = gateway::RefusalReason::denied,
       .rule = {},
       .message = fmt::format("{} is not allowed through the gateway", name)});
  const auto err = code == static_cast<uint8_t>(CommandCode::change_user) ||
                           code == static_cast<uint8_t>(CommandCode::process_kill) ||
                           code == static_cast<uint8_t>(CommandCode::shutdown)
                       ? kNotSupported
                       : kUnknownCommand;
  queue_error(err.code, err.sql_state, "portcullis: " + refusal.message);
  co_return co_await flush_client();
}

asio::awaitable<bool> Session::decide(policy::Command& command) {
  auto outcome = gate_.decide(command, ++batch_);
  // MySQL has no message for a client that waits: the client waits for its answer, and the
  // review's id is in the journal, the API and the notifications.
  if (outcome.next == gateway::CommandGate::Next::hold) {
    watch_client_during_hold();
    outcome = co_await gate_.wait_for_review(batch_);
  }
  if (ended_) co_return false;
  if (outcome.next == gateway::CommandGate::Next::refuse) {
    queue_refusal(outcome.refusal);
    co_await flush_client();
    co_return false;
  }
  if (gate_.commit_failed() ||
      (gate_.commits_pending() && (!backend_read_only_ || client_->has_queued()))) {
    if (auto failed = co_await gate_.wait_for_commits()) {
      end(*failed);
      co_return false;
    }
  } else if (gate_.commits_pending() && !answer_waits_for_journal_) {
    // A read-only backend session: the command goes now, its answer waits (flush_client).
    answer_waits_for_journal_ = true;
    answer_first_sequence_ = client_->next_sequence();
  }
  co_return !ended_;
}

void Session::watch_client_during_hold() {
  // Only the client's leaving is acted on; anything else it sends stays in the socket for
  // after the hold. A watch still pending after a hold serves the next one (cancelling it
  // would cancel a write too), and ends when the client next sends anything.
  if (client_watch_pending_) return;
  client_watch_pending_ = true;
  client_->stream().socket().async_wait(
      asio::ip::tcp::socket::wait_read,
      [weak = std::weak_ptr<Session>(shared_from_this())](const net::error_code& ec) {
        auto self = weak.lock();
        if (!self) return;
        self->client_watch_pending_ = false;
        if (ec || !self->gate_.holding()) return;
        // A COM_QUIT is five bytes: a length of 1, sequence 0, command 0x01.
        char first[5] = {};
        const auto n = ::recv(self->client_->stream().socket().native_handle(), first, sizeof first,
                              MSG_PEEK | MSG_DONTWAIT);
        const bool tls = self->client_->stream().is_tls();
        const bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
                          (!tls && n == 5 && first[0] == 1 && first[1] == 0 && first[2] == 0 &&
                           first[4] == static_cast<char>(CommandCode::quit)) ||
                          (tls && n >= 1 && first[0] == 21);  // TLS ContentType alert
        if (gone) self->gate_.client_left();
      });
}

asio::awaitable<bool> Session::handle_query(std::string_view payload) {
  const std::string_view text = payload.substr(1);
  if (const std::size_t limit = gate_.context().config->limits.max_statement_size;
      text.size() > limit) {
    const auto refusal = gate_.refuse_undecided(
        fmt::format("{} bytes of SQL text (not classified)", text.size()), "query",
        {.reason = gateway::RefusalReason::too_large,
         .rule = {},
         .message = fmt::format("a statement of {} bytes is larger than the gateway classifies "
                                "({} bytes, limits.max_statement_size); send smaller statements",
                                text.size(), limit)});
    queue_refusal(refusal);
    co_return co_await flush_client();
  }
  auto classification = classify(text);
  if (auto killed = co_await intercept_kill(*classification)) co_return *killed;
  policy::Command command;
  command.text = std::string(text);
  command.via = "query";
  command.sql()->classification = classification;
  if (!co_await decide(command)) co_return !ended_;
  answering_ = classification;
  co_return co_await forward(payload, Answer::query);
}

asio::awaitable<std::optional<bool>> Session::intercept_kill(const sql::Classification& c) {
  // KILL [QUERY | CONNECTION] <id> alone: a client's Ctrl-C, with the id the gateway gave it.
  if (c.statements.size() != 1 || c.statements[0].kind != "kill") co_return std::nullopt;
  std::string_view text = c.statements[0].text;
  auto next_word = [&text]() {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
      text.remove_prefix(1);
    std::size_t n = 0;
    while (n < text.size() && !std::isspace(static_cast<unsigned char>(text[n])) && text[n] != ';')
      ++n;
    std::string word(text.substr(0, n));
    text.remove_prefix(n);
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return word;
  };
  if (next_word() != "kill") co_return std::nullopt;
  std::string word = next_word();
  bool connection = true;
  if (word == "hard" || word == "soft") word = next_word();
  if (word == "query") {
    connection = false;
    word = next_word();
  } else if (word == "connection") {
    word = next_word();
  }
  if (word.empty() || !std::all_of(word.begin(), word.end(), ::isdigit) || word.size() > 10)
    co_return std::nullopt;
  if (!next_word().empty()) co_return std::nullopt;
  const uint64_t id = std::stoull(word);
  const auto target = id <= UINT32_MAX ? thread_ids_->find(static_cast<uint32_t>(id)) : nullptr;
  // The ids a client can know are the gateway's; one that is not, or that belongs to another
  // caller, is unknown to this caller, as a server says of a thread it may not see.
  policy::Command command;
  command.text = std::string(c.statements[0].text);
  command.via = connection ? "kill_connection" : "kill_query";
  command.sql()->classification =
      protocol_statement(command.text, connection ? "kill_connection" : "kill_query",
                         static_cast<sql::ClassSet>(sql::StatementClass::session));
  if (!target || target->subject != gate_.identity().subject) {
    const auto refusal =
        gate_.refuse_undecided(command.text, command.via,
                               {.reason = gateway::RefusalReason::denied,
                                .rule = {},
                                .message = fmt::format("unknown thread id: {}", id)});
    queue_error(kNoSuchThread.code, kNoSuchThread.sql_state, "portcullis: " + refusal.message);
    co_return co_await flush_client();
  }
  if (!co_await decide(command)) co_return !ended_;
  asio::post(target->executor, [target, connection] { target->kill(connection); });
  gate_.recorder().on_complete(0);
  gate_.recorder().on_batch_done(batch_);
  queue_ok(backend_status_);
  co_return co_await flush_client();
}

asio::awaitable<bool> Session::handle_init_db(std::string_view payload) {
  // USE <connection> in the client (COM_INIT_DB): the connection's own database, by either
  // name. Any other database is out of this access.
  const std::string_view name = quote_free(payload.substr(1));
  const auto& connection = *gate_.grant().connection;
  if (name != connection.name && name != connection.target.database) {
    const auto refusal = gate_.refuse_undecided(
        fmt::format("USE {}", name), "init_db",
        {.reason = gateway::RefusalReason::access_denied,
         .rule = {},
         .message = fmt::format("this session reaches only the database of connection \"{}\"",
                                connection.name)});
    queue_refusal(refusal);
    co_return co_await flush_client();
  }
  std::string rewritten(1, static_cast<char>(CommandCode::init_db));
  rewritten.append(connection.target.database);
  co_return co_await forward(rewritten, Answer::simple);
}

asio::awaitable<bool> Session::handle_field_list(std::string_view payload) {
  // The mariadb client's completion: the columns of a table, decided as SHOW COLUMNS.
  PacketReader r(payload.substr(1));
  const std::string table(r.nul_or_rest());
  policy::Command command;
  command.text = fmt::format("SHOW COLUMNS FROM `{}`", table);
  command.via = "field_list";
  auto c = std::make_shared<sql::Classification>(
      sql::mysql::classify(command.text, sql::mysql::Reading{}));
  command.sql()->classification = std::move(c);
  if (!co_await decide(command)) co_return !ended_;
  co_return co_await forward(payload, Answer::field_list);
}

asio::awaitable<bool> Session::handle_prepare(std::string_view payload) {
  const std::string_view text = payload.substr(1);
  if (text.size() > gate_.context().config->limits.max_statement_size) {
    const auto refusal = gate_.refuse_undecided(
        fmt::format("{} bytes of SQL text (not classified)", text.size()), "prepare",
        {.reason = gateway::RefusalReason::too_large,
         .rule = {},
         .message = "a statement larger than limits.max_statement_size"});
    queue_refusal(refusal);
    co_return co_await flush_client();
  }
  policy::Command command;
  command.text = std::string(text);
  command.via = "prepare";
  command.intent = policy::Intent::prepare;
  command.sql()->classification = classify(text);
  if (!co_await decide(command)) co_return !ended_;
  pending_prepare_ = Prepared{.text = command.text,
                              .classification = command.sql()->classification,
                              .params = 0,
                              .columns = {},
                              .types = {},
                              .long_data = {},
                              .long_values = {}};
  co_return co_await forward(payload, Answer::prepare);
}

asio::awaitable<bool> Session::handle_execute(std::string_view payload) {
  auto id = statement_id_of(payload);
  auto it = id ? prepared_.find(*id) : prepared_.end();
  if (it == prepared_.end()) {
    queue_error(kUnknownStmtHandler.code, kUnknownStmtHandler.sql_state,
                "portcullis: unknown prepared statement handler given to COM_STMT_EXECUTE");
    co_return co_await flush_client();
  }
  Prepared& prepared = it->second;
  auto request = decode_execute(payload, prepared.params, prepared.types, prepared.long_data);
  if (!request) {
    queue_error(kHandshake.code, kHandshake.sql_state, "portcullis: " + request.error().message);
    co_return co_await flush_client();
  }
  prepared.types = request->types;
  for (const auto& [param, bytes] : prepared.long_values)
    if (param < request->values.size()) request->values[param] = bytes;
  prepared.long_data.clear();
  prepared.long_values.clear();

  policy::Command command;
  command.text = prepared.text;
  command.via = "execute";
  auto& sql = *command.sql();
  sql.classification = prepared.classification;
  sql.bound = true;
  sql.params = std::move(request->values);
  for (const auto& s : prepared.classification->statements)
    if (s.kind == "set" || s.kind == "execute") reread_text_settings_ = true;
  if (!co_await decide(command)) co_return !ended_;
  answering_ = prepared.classification;
  co_return co_await forward(payload, Answer::execute, &prepared);
}

}  // namespace portcullis::proto::mysql
