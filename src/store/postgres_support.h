// What the PostgreSQL state store needs from libpq: owning handles, connecting by URL without
// ever printing its password, parameterised queries with text parameters, reading columns.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace portcullis::store {

struct PgConnectionDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConnection = std::unique_ptr<PGconn, PgConnectionDeleter>;

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// The password for a state URL that carries none, so that it need not be written into the
// configuration file. A password in the URL (or PGPASSFILE) still wins.
constexpr const char* kStatePasswordVariable = "PORTCULLIS_STATE_PASSWORD";

// The URL with the password of its user info and any `password=` parameter replaced by "***":
// the only form of a state URL that may appear in a message.
std::string redact_url_password(std::string_view url);

// Connects to the database a postgresql:// (or postgres://) URL names, as application
// "portcullis", giving up after a connect timeout. The error names the redacted URL and
// libpq's reason, never the password.
Result<PgConnection> pg_connect(std::string_view url);

// A text parameter; std::nullopt is SQL NULL.
using PgParam = std::optional<std::string>;

// The outcome of one statement. `sent` is false when the statement never left this process
// (the connection was already broken): then it cannot have run, let alone committed.
struct PgExecution {
  PgResult result;
  bool sent = false;

  // The statement completed: a command, or a query with its rows.
  bool ok() const;
  // The SQLSTATE of a failure ("23505" for a unique violation), empty if none.
  std::string sqlstate() const;
  // The constraint a failure violated, empty if none.
  std::string constraint() const;
};

// Runs one statement with text parameters ($1, $2, ...) whose types the server infers.
PgExecution pg_exec(PGconn* conn, std::string_view sql, const std::vector<PgParam>& params = {});

// libpq's last error for the connection or result, without its trailing newline.
std::string pg_error_message(PGconn* conn, const PgExecution& execution);

// Columns of a result row; a NULL text reads as empty.
bool pg_is_null(const PGresult* result, int row, int column);
std::string pg_text(const PGresult* result, int row, int column);
int64_t pg_int64(const PGresult* result, int row, int column);
std::optional<int64_t> pg_optional_int64(const PGresult* result, int row, int column);
// Rows a command changed (UPDATE, DELETE, INSERT).
int64_t pg_affected_rows(const PGresult* result);

}  // namespace portcullis::store
