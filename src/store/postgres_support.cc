// Connecting to PostgreSQL and running parameterised statements through libpq.
#include "store/postgres_support.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace portcullis::store {
namespace {

// A state store that does not answer within this long counts as unreachable: calls then fail
// with "unavailable" instead of holding a session (libpq's connect_timeout, in seconds).
constexpr const char* kConnectTimeoutSeconds = "5";
// A database host that vanishes while a statement is on its way or awaited (no FIN, no RST)
// would otherwise hold the call for the kernel's TCP timeouts, many minutes: unacknowledged
// data fails the connection after tcp_user_timeout, a silent peer after keepalives_idle +
// keepalives_count * keepalives_interval (10 + 3 * 5 s).
constexpr const char* kTcpUserTimeoutMs = "30000";
constexpr const char* kKeepalivesIdleSeconds = "10";
constexpr const char* kKeepalivesIntervalSeconds = "5";
constexpr const char* kKeepalivesCount = "3";
// What pg_stat_activity shows for the gateway's connections.
constexpr const char* kApplicationName = "portcullis";

// libpq's messages end in a newline and continue on tab-indented lines: one line for a log.
std::string one_line(std::string_view text) {
  std::string line;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

}  // namespace

std::string redact_url_password(std::string_view url) {
  std::string out(url);
  const auto scheme_end = out.find("://");
  if (scheme_end == std::string::npos) return out;
  const std::size_t authority = scheme_end + 3;
  // User info ends at an '@'. libpq takes the first one, but a password with an unencoded '@'
  // or '/' in it must not show its tail: everything up to the last '@' before the parameters
  // is hidden, which hides too much only from a database name with an '@' in it.
  std::size_t query = out.find('?', authority);
  const std::size_t at = out.rfind('@', query == std::string::npos ? query : query - 1);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = out.find(':', authority);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password given as a parameter: ?password=... or &password=...
  query = out.find('?', authority);
  if (query == std::string::npos) return out;
  for (std::size_t pos = query; pos < out.size();) {
    const std::size_t start = pos + 1;
    std::size_t end = out.find('&', start);
    if (end == std::string::npos) end = out.size();
    constexpr std::string_view kKey = "password=";
    if (std::string_view(out).substr(start, end - start).starts_with(kKey)) {
      out.replace(start + kKey.size(), end - start - kKey.size(), "***");
      end = start + kKey.size() + 3;
    }
    pos = end;
  }
  return out;
}

Result<PgConnection> pg_connect(std::string_view url) {
  const std::string dbname(url);
  const char* password = std::getenv(kStatePasswordVariable);
  // Keywords are applied in order and a later one wins: those before `dbname` are defaults the
  // URL may override (a password in it, a longer connect_timeout).
  std::vector<const char*> keywords = {"application_name",    "connect_timeout",
                                       "tcp_user_timeout",    "keepalives_idle",
                                       "keepalives_interval", "keepalives_count"};
  std::vector<const char*> values = {kApplicationName,           kConnectTimeoutSeconds,
                                     kTcpUserTimeoutMs,          kKeepalivesIdleSeconds,
                                     kKeepalivesIntervalSeconds, kKeepalivesCount};
  if (password != nullptr && *password != '\0') {
    keywords.push_back("password");
    values.push_back(password);
  }
  keywords.push_back("dbname");
  values.push_back(dbname.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PgConnection conn(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) return make_error("cannot allocate a PostgreSQL connection");
  // libpq prints notices on stderr by default ("relation ... already exists, skipping" from
  // the migrations); the gateway has nothing to tell an operator about them.
  PQsetNoticeReceiver(
      conn.get(), [](void*, const PGresult*) {}, nullptr);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return make_error("unavailable",
                      fmt::format("cannot connect to the state store {}: {}",
                                  redact_url_password(url), one_line(PQerrorMessage(conn.get()))));
  return conn;
}

bool PgExecution::ok() const {
  if (!result) return false;
  const auto status = PQresultStatus(result.get());
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

std::string PgExecution::sqlstate() const {
  if (!result) return {};
  const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  return state != nullptr ? state : "";
}

std::string PgExecution::constraint() const {
  if (!result) return {};
  const char* name = PQresultErrorField(result.get(), PG_DIAG_CONSTRAINT_NAME);
  return name != nullptr ? name : "";
}

PgExecution pg_exec(PGconn* conn, std::string_view sql, const std::vector<PgParam>& params) {
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  PgExecution execution;
  // Sent and awaited separately (PQexecParams does both): a failed send is a statement that
  // never ran, which the store may retry on a new connection even when it writes.
  if (PQsendQueryParams(conn, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, /*resultFormat=*/0) == 0)
    return execution;
  execution.sent = true;
  // One statement gives one result; the rest (none, or the error of a lost connection) are
  // read so that the connection is ready for the next statement.
  while (PGresult* next = PQgetResult(conn)) {
    if (!execution.result || PQresultStatus(next) == PGRES_FATAL_ERROR)
      execution.result.reset(next);
    else
      PQclear(next);
  }
  return execution;
}

std::string pg_error_message(PGconn* conn, const PgExecution& execution) {
  if (execution.result) {
    const char* message = PQresultErrorMessage(execution.result.get());
    if (message != nullptr && *message != '\0') return one_line(message);
  }
  return one_line(PQerrorMessage(conn));
}

bool pg_is_null(const PGresult* result, int row, int column) {
  return PQgetisnull(result, row, column) != 0;
}

std::string pg_text(const PGresult* result, int row, int column) {
  if (pg_is_null(result, row, column)) return {};
  return std::string(PQgetvalue(result, row, column),
                     static_cast<std::size_t>(PQgetlength(result, row, column)));
}

int64_t pg_int64(const PGresult* result, int row, int column) {
  const char* text = PQgetvalue(result, row, column);
  const char* end = text + PQgetlength(result, row, column);
  int64_t value = 0;
  std::from_chars(text, end, value);
  return value;
}

std::optional<int64_t> pg_optional_int64(const PGresult* result, int row, int column) {
  if (pg_is_null(result, row, column)) return std::nullopt;
  return pg_int64(result, row, column);
}

int64_t pg_affected_rows(const PGresult* result) {
  const char* text = PQcmdTuples(const_cast<PGresult*>(result));
  int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

}  // namespace portcullis::store
