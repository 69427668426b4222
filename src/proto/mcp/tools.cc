// The MCP tools: list_connections, query (through the PostgreSQL front end) and review_status.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "audit/event.h"
#include "gateway/admission.h"
#include "identity/claims.h"
#include "policy/access.h"
#include "proto/mcp/server.h"
#include "review/reviews.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// A CallToolResult: the structured answer, and the same as JSON text for clients that show
// only text content.
// The length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t size = 0;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    size = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    size = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    size = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < size || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < size; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  return size;
}

// JSON text must be UTF-8: a value in another encoding (a BLOB, a binary's output) would make
// the whole answer unreadable to a strict client. Each byte that starts no valid sequence
// becomes U+FFFD, in every string of the answer.
void make_utf8(json::value& value) {
  if (auto* text = value.if_string()) {
    std::string_view rest(*text);
    bool valid = true;
    for (std::size_t at = 0; at < rest.size() && valid;) {
      const auto size = utf8_sequence(rest.substr(at));
      valid = size != 0;
      at += size;
    }
    if (valid) return;
    std::string fixed;
    while (!rest.empty()) {
      const auto size = utf8_sequence(rest);
      if (size == 0) {
        fixed += "\xef\xbf\xbd";
        rest.remove_prefix(1);
      } else {
        fixed.append(rest.substr(0, size));
        rest.remove_prefix(size);
      }
    }
    *text = fixed;
  } else if (auto* array = value.if_array()) {
    for (auto& item : *array) make_utf8(item);
  } else if (auto* object = value.if_object()) {
    for (auto& [key, item] : *object) make_utf8(item);
  }
}

json::object tool_answer(json::object structured, bool is_error) {
  json::value whole(std::move(structured));
  make_utf8(whole);
  structured = std::move(whole.as_object());
  json::object answer;
  answer["content"] =
      json::array{json::object{{"type", "text"}, {"text", json::serialize(structured)}}};
  answer["structuredContent"] = std::move(structured);
  answer["isError"] = is_error;
  return answer;
}

json::object failed(std::string_view status, std::string message) {
  return tool_answer(json::object{{"status", status}, {"message", std::move(message)}}, true);
}

// A value as JSON: integers and booleans as themselves where the (masked) text still reads
// as one, everything else as the text PostgreSQL sent (numerics keep their precision).
json::value json_value(const std::optional<std::string>& value, ValueKind kind) {
  if (!value) return nullptr;
  const std::string& text = *value;
  if (kind == ValueKind::integer) {
    int64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size()) return number;
  }
  if (kind == ValueKind::boolean && (text == "t" || text == "f")) return text == "t";
  return json::string(text);
}

std::string_view transaction_name(char status) {
  switch (status) {
    case 'T':
      return "in_transaction";
    case 'E':
      return "failed_transaction";
    default:
      return "idle";
  }
}

json::object sql_error_json(const ToolError& error) {
  json::object out{{"code", error.code}, {"message", error.message}};
  if (!error.detail.empty()) out["detail"] = error.detail;
  return out;
}

}  // namespace

Adopt McpServer::adopter(std::string protocol) const {
  return [adopt = wiring_.adopt,
          protocol = std::move(protocol)](gateway::InProcessConnection connection) {
    return adopt(protocol, std::move(connection));
  };
}

std::string McpServer::tool_client_address(const McpRequest& request) {
  return fmt::format("mcp/{}/{}", request.client_address, ++tool_sessions_);
}

HoldProbe McpServer::hold_probe(const gateway::GatewayContext& context,
                                std::string client_address) {
  return [live = context.live_sessions, address = std::move(client_address)] {
    return live ? live->held_review_of_client(address) : std::string();
  };
}

void McpServer::journal(const gateway::GatewayContext& context, const McpRequest& request,
                        std::string_view session, std::string client_address, std::string command,
                        std::string connection, std::string outcome) {
  if (!context.journal) return;
  const auto& caller = *request.caller;
  audit::Event event;
  event.event = std::string(audit::kEventMcp);
  event.id = "mcp." + review::new_review_id().substr(2);
  event.time = std::chrono::system_clock::now();
  event.session = std::string(session);
  event.subject = caller.subject;
  event.subject_kind = std::string(identity::to_string(caller.kind));
  event.groups = caller.groups;
  event.auth = std::string(identity::to_string(caller.method));
  event.credential = caller.credential;
  event.client_addr = std::move(client_address);
  event.connection = std::move(connection);
  event.protocol = "mcp";
  event.command = std::move(command);
  event.verdict = std::move(outcome);
  context.journal->append(std::move(event));
}

asio::awaitable<McpServer::ToolAnswer> McpServer::call_tool(Call& call, const ToolCall& tool) {
  std::string name = "list_connections";
  std::string connection;
  std::visit(
      [&](const auto& asked) {
        using Asked = std::decay_t<decltype(asked)>;
        if constexpr (std::is_same_v<Asked, QueryCall>) name = "query";
        if constexpr (std::is_same_v<Asked, ExecCall>) name = "exec";
        if constexpr (std::is_same_v<Asked, KubernetesCall>) name = "kubernetes";
        if constexpr (std::is_same_v<Asked, ReviewStatusCall>) {
          name = "review_status";
          connection = asked.review;
        } else if constexpr (!std::is_same_v<Asked, ListConnectionsCall>) {
          connection = asked.connection;
        }
      },
      tool);
  // Counted while it runs: a connection in use is not replaced as idle by another call.
  const bool on_connection = !connection.empty() && name != "review_status";
  auto& session = *call.session;
  if (on_connection) ++session.calls_on[connection];
  struct Done {
    McpSession& session;
    const std::string& connection;
    bool counted;
    ~Done() {
      if (counted && --session.calls_on[connection] == 0) session.calls_on.erase(connection);
    }
  } done{session, connection, on_connection};
  auto answer = co_await run_tool(call, tool);
  // What the call reached and how it ended, beside the front end's own records of it.
  std::string outcome = "ok";
  if (const auto* structured = answer.if_contains("structuredContent"))
    if (const auto* status = structured->as_object().if_contains("status");
        status && status->is_string())
      outcome = std::string(status->get_string());
  std::string address = "mcp/" + call.request.client_address;
  if (auto it = call.session->addresses.find(connection); it != call.session->addresses.end()) {
    address = it->second;
    call.session->used[connection] = std::chrono::steady_clock::now();
  }
  journal(call.context, call.request, call.session->id, std::move(address), "tools/call " + name,
          name == "review_status" ? std::string() : connection, std::move(outcome));
  co_return answer;
}

asio::awaitable<McpServer::ToolAnswer> McpServer::run_tool(Call& call, const ToolCall& tool) {
  if (std::holds_alternative<ListConnectionsCall>(tool)) co_return list_connections(call);
  if (const auto* review = std::get_if<ReviewStatusCall>(&tool))
    co_return review_status(call, *review);
  if (const auto* exec_call = std::get_if<ExecCall>(&tool))
    co_return co_await exec(call, *exec_call);
  if (const auto* request = std::get_if<KubernetesCall>(&tool))
    co_return co_await kubernetes(call, *request);
  co_return co_await query(call, std::get<QueryCall>(tool));
}

McpServer::ToolAnswer McpServer::list_connections(Call& call) {
  const auto& config = *call.context.config;
  const auto& who = *call.request.caller;
  json::array connections;
  for (const auto& connection : config.connections) {
    auto grant =
        policy::select_grant(config, who, connection.name,
                             gateway::access_request_check(call.context, who, connection.name));
    if (!grant) continue;
    json::object entry;
    entry["name"] = connection.name;
    entry["kind"] = config::to_string(connection.kind);
    json::array allow;
    for (const auto& item : grant->allow) allow.emplace_back(item);
    entry["allow"] = std::move(allow);
    entry["read_only"] = policy::is_read_only(*grant);
    entry["masked"] = !grant->masking.empty() && grant->masking != "none";
    json::array tools;
    switch (connection.kind) {
      case config::ConnectionKind::postgres:
        tools.emplace_back("query");
        break;
      case config::ConnectionKind::ssh:
        tools.emplace_back("exec");
        break;
      case config::ConnectionKind::kubernetes:
        tools.emplace_back("kubernetes");
        break;
      case config::ConnectionKind::mysql:
        tools.emplace_back("query");
        break;
    }
    entry["tools"] = std::move(tools);
    connections.push_back(std::move(entry));
  }
  return tool_answer(json::object{{"connections", std::move(connections)}}, false);
}

McpServer::ToolAnswer McpServer::review_status(Call& call, const ReviewStatusCall& asked) {
  if (!wiring_.reviews) return failed("error", "reviews are not available on this gateway");
  auto found = wiring_.reviews->find(asked.review);
  if (!found) return failed("error", "the review store cannot be read (see the gateway's log)");
  const auto& who = *call.request.caller;
  // Only its requester and those who may decide it learn of a review.
  if (!*found || ((*found)->requester != who.subject && !review::Reviews::may_decide(**found, who)))
    return failed("error", fmt::format("no review {} of yours", asked.review));
  const auto& review = **found;
  json::object out{{"review", review.id},
                   {"status", store::to_string(review.status)},
                   {"connection", review.connection},
                   {"rule", review.rule},
                   {"requester", review.requester}};
  if (!review.decided_by.empty()) out["decided_by"] = review.decided_by;
  if (!review.comment.empty()) out["comment"] = review.comment;
  if (review.status == store::ReviewStatus::approved)
    out["next"] = "send the same call again (identical text) to run it once";
  return tool_answer(std::move(out), false);
}

template <typename ToolSession, typename Open>
asio::awaitable<std::shared_ptr<ToolSession>> McpServer::connection(
    Call& call, std::map<std::string, std::shared_ptr<ToolSession>, std::less<>>& connections,
    const std::string& name, const std::string& address, Open open,
    std::optional<ToolError>& refusal) {
  auto& mcp = *call.session;
  if (auto it = connections.find(name); it != connections.end()) {
    // The front end ends a session idle for limits.idle_timeout: one about to be is replaced
    // before use (unless another call uses it now), so that a session ending under a call
    // always means a kill or a revocation.
    const auto idle = call.context.config->limits.idle_timeout;
    const auto margin =
        std::min<std::chrono::steady_clock::duration>(idle / 4, std::chrono::seconds(10));
    const bool stale = idle.count() > 0 && mcp.calls_on[name] <= 1 &&
                       std::chrono::steady_clock::now() - mcp.used[name] >= idle - margin;
    if (!it->second->ended() && !stale) {
      mcp.used[name] = std::chrono::steady_clock::now();
      co_return it->second;
    }
    it->second->close();
    connections.erase(it);
  }
  if (mcp.open_connections() >= kMaxConnectionsPerSession) {
    refusal = ToolError{.code = {},
                        .message = fmt::format("this MCP session has {} connections open; end "
                                               "the session and start another",
                                               kMaxConnectionsPerSession),
                        .detail = {}};
    co_return nullptr;
  }
  auto opened = co_await open();
  if (auto* refused = std::get_if<ToolError>(&opened)) {
    refusal = std::move(*refused);
    co_return nullptr;
  }
  auto session = std::get<std::shared_ptr<ToolSession>>(std::move(opened));
  // Another call of the session opened one meanwhile: it is used, and this one closed.
  if (auto it = connections.find(name); it != connections.end() && !it->second->ended()) {
    session->close();
    co_return it->second;
  }
  connections.insert_or_assign(name, session);
  mcp.used[name] = std::chrono::steady_clock::now();
  call.session->addresses[name] = address;
  co_return session;
}

McpServer::ToolAnswer McpServer::refused(const std::string& connection, const ToolError& why) {
  json::object out{{"status", "refused"}, {"connection", connection}, {"message", why.message}};
  if (!why.code.empty()) out["code"] = why.code;
  return tool_answer(std::move(out), true);
}

McpServer::ToolAnswer McpServer::session_ended(Call& call, const std::string& connection,
                                               const ToolError& why) {
  spdlog::info("event=mcp_session_end session={} subject={:?} reason={}", call.session->id,
               call.session->subject, identity::quote_untrusted(why.message));
  sessions_.remove(call.session->id);
  return tool_answer(
      json::object{
          {"status", "session_ended"}, {"connection", connection}, {"message", why.message}},
      true);
}

// Held and withdrawn when the call's wait ran out: nothing ran, the review stays open.
McpServer::ToolAnswer McpServer::pending_review(const std::string& connection,
                                                const std::string& review) {
  std::optional<store::ReviewRecord> record;
  if (wiring_.reviews)
    if (auto found = wiring_.reviews->find(review); found && *found) record = **found;
  const auto state = record ? record->status : store::ReviewStatus::pending;
  return tool_answer(
      json::object{{"status", "pending_review"},
                   {"connection", connection},
                   {"review", review},
                   {"rule", record ? record->rule : ""},
                   {"message", fmt::format("approval required: review {} is {}; call "
                                           "review_status, and once it is approved send the same "
                                           "call again to run it once",
                                           review, store::to_string(state))}},
      false);
}

asio::awaitable<McpServer::ToolAnswer> McpServer::query(Call& call, const QueryCall& asked) {
  std::optional<ToolError> refusal;
  const QueryLimits limits{.max_rows = asked.max_rows,
                           .max_bytes = kMaxResultBytes,
                           .wait = std::min(asked.wait, kMaxWait),
                           .timeout = std::min(asked.timeout, kMaxRunTimeout)};
  const std::string address = tool_client_address(call.request);
  // A MySQL connection goes to the MySQL front end; anything else to PostgreSQL's, which
  // refuses what is not one of its connections as it would refuse psql.
  const auto* target = call.context.config->find_connection(asked.connection);
  std::variant<QueryAnswer, ToolError> ran;
  if (target != nullptr && target->kind == config::ConnectionKind::mysql) {
    auto database = co_await connection(
        call, call.session->mysql_databases, asked.connection, address,
        [&]() {
          return MysqlToolSession::open(
              call.executor, adopter("mysql"), call.request.caller->subject, asked.connection,
              call.request.credential, address, hold_probe(call.context, address));
        },
        refusal);
    if (!database) co_return refused(asked.connection, *refusal);
    ran = co_await database->run(asked.sql, limits);
  } else {
    auto database = co_await connection(
        call, call.session->databases, asked.connection, address,
        [&]() {
          return PostgresToolSession::open(
              call.executor, adopter("postgres"), call.request.caller->subject, asked.connection,
              call.request.credential, address, hold_probe(call.context, address));
        },
        refusal);
    if (!database) co_return refused(asked.connection, *refusal);
    ran = co_await database->run(asked.sql, limits);
  }
  if (auto* ended = std::get_if<ToolError>(&ran))
    co_return session_ended(call, asked.connection, *ended);
  auto& answer = std::get<QueryAnswer>(ran);
  json::object out;
  out["connection"] = asked.connection;
  bool is_error = answer.error.has_value();
  std::string status = is_error ? "error" : "ok";
  if (!answer.review.empty()) {
    std::optional<store::ReviewRecord> review;
    if (wiring_.reviews)
      if (auto found = wiring_.reviews->find(answer.review); found && *found) review = **found;
    // Only a review of the caller's on this connection is one: a notice the statement itself
    // raised with the gateway's words names nothing the caller may learn of.
    if (review && review->requester == call.request.caller->subject &&
        review->connection == asked.connection) {
      out["review"] = answer.review;
      const auto state = review->status;
      if (state == store::ReviewStatus::pending || state == store::ReviewStatus::approved)
        co_return pending_review(asked.connection, answer.review);
      if (state == store::ReviewStatus::rejected) status = "rejected";
      if (state == store::ReviewStatus::expired) status = "expired";
    }
  }
  json::array results;
  for (const auto& result : answer.results) {
    json::array columns;
    for (const auto& column : result.columns)
      columns.push_back(json::object{{"name", column.name}, {"type", column.type}});
    json::array rows;
    for (const auto& row : result.rows) {
      json::array values;
      for (std::size_t i = 0; i < row.size(); ++i)
        values.push_back(json_value(
            row[i], i < result.columns.size() ? result.columns[i].kind : ValueKind::text));
      rows.push_back(std::move(values));
    }
    json::object entry{{"command", result.command},
                       {"columns", std::move(columns)},
                       {"rows", std::move(rows)},
                       {"row_count", result.rows_sent},
                       {"truncated", result.truncated}};
    if (result.affected_rows) entry["affected_rows"] = *result.affected_rows;
    results.push_back(std::move(entry));
  }
  out["status"] = status;
  out["results"] = std::move(results);
  if (answer.error) out["error"] = sql_error_json(*answer.error);
  if (!answer.notices.empty()) {
    json::array notices;
    for (const auto& notice : answer.notices) notices.emplace_back(notice);
    out["notices"] = std::move(notices);
  }
  out["transaction"] = transaction_name(answer.transaction);
  if (answer.timed_out) out["timed_out"] = true;
  co_return tool_answer(std::move(out), is_error || answer.timed_out);
}

asio::awaitable<McpServer::ToolAnswer> McpServer::exec(Call& call, const ExecCall& asked) {
  std::optional<ToolError> refusal;
  const std::string address = tool_client_address(call.request);
  auto host = co_await connection(
      call, call.session->hosts, asked.connection, address,
      [&]() {
        return SshToolSession::open(call.executor, adopter("ssh"), asked.connection,
                                    call.request.credential, address,
                                    hold_probe(call.context, address));
      },
      refusal);
  if (!host) co_return refused(asked.connection, *refusal);
  // Built before the co_await: GCC 12 relocates a temporary's string inside one without
  // fixing its pointer (a later free of the frame's own bytes).
  ExecRequest request{.command = asked.command,
                      .wait = std::min(asked.wait, kMaxWait),
                      .timeout = std::min(asked.timeout, kMaxRunTimeout)};
  auto ran = co_await host->run(request, kMaxResultBytes);
  if (auto* ended = std::get_if<ToolError>(&ran))
    co_return session_ended(call, asked.connection, *ended);
  auto& answer = std::get<ExecAnswer>(ran);
  if (!answer.review.empty()) co_return pending_review(asked.connection, answer.review);
  json::object out{{"connection", asked.connection},
                   {"status", answer.refusal.empty() ? "ok" : "refused"},
                   {"stdout", answer.stdout_text},
                   {"stderr", answer.stderr_text},
                   {"truncated", answer.truncated}};
  if (answer.exit_status) out["exit_status"] = *answer.exit_status;
  if (answer.timed_out) out["timed_out"] = true;
  if (!answer.refusal.empty()) out["message"] = answer.refusal;
  co_return tool_answer(std::move(out), !answer.refusal.empty() || answer.timed_out);
}

asio::awaitable<McpServer::ToolAnswer> McpServer::kubernetes(Call& call,
                                                             const KubernetesCall& asked) {
  std::optional<ToolError> refusal;
  const std::string address = tool_client_address(call.request);
  auto cluster = co_await connection(
      call, call.session->clusters, asked.connection, address,
      [&]() {
        return KubernetesToolSession::open(call.executor, adopter("kubernetes"), address,
                                           hold_probe(call.context, address));
      },
      refusal);
  if (!cluster) co_return refused(asked.connection, *refusal);
  // Built before the co_await: GCC 12 relocates a temporary's string inside one without
  // fixing its pointer (a later free of the frame's own bytes).
  KubernetesRequest request{.connection = asked.connection,
                            .method = asked.method,
                            .path = asked.path,
                            .body = asked.body,
                            .content_type = asked.content_type,
                            .wait = std::min(asked.wait, kMaxWait)};
  auto ran = co_await cluster->run(call.request.credential, std::move(request), kMaxResultBytes);
  if (auto* ended = std::get_if<ToolError>(&ran))
    co_return session_ended(call, asked.connection, *ended);
  auto& answer = std::get<KubernetesAnswer>(ran);
  if (!answer.review.empty()) co_return pending_review(asked.connection, answer.review);
  const bool ok = answer.status >= 200 && answer.status < 300;
  json::object out{{"connection", asked.connection},
                   {"status", ok ? "ok" : "error"},
                   {"http_status", answer.status},
                   {"truncated", answer.truncated}};
  // The API server's JSON (an object, a list, a Status) as JSON; anything else as text.
  boost::system::error_code ec;
  json::value parsed;
  if (!answer.truncated && answer.content_type.starts_with("application/json"))
    parsed = json::parse(answer.body, ec);
  if (!answer.truncated && !ec && !parsed.is_null())
    out["body"] = std::move(parsed);
  else
    out["body_text"] = answer.body;
  co_return tool_answer(std::move(out), !ok);
}

}  // namespace portcullis::proto::mcp
