// New, empty state stores for the store tests, SQLite or PostgreSQL.
#include "state_store_backends.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace portcullis::testing {

std::vector<std::string> state_store_backends() {
  return {std::string(kSqliteBackend), std::string(kPostgresBackend)};
}

std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

PostgresServer& shared_postgres_server() {
  // One cluster per binary: initdb costs a second or more, a database a few milliseconds.
  static auto server = std::make_unique<PostgresServer>();
  return *server;
}

std::string fresh_postgres_url(const PostgresServer& server) {
  static std::atomic<int> next_database = 0;
  const std::string database = fmt::format("state_{}", next_database++);
  // CREATE DATABASE cannot run in a transaction: one statement on its own connection.
  PGconn* conn = PQconnectdb(server.superuser_conninfo("postgres").c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(
        conn,
        fmt::format("CREATE DATABASE {} OWNER {}", database, server.scram_role().name).c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  if (!error.empty()) throw std::runtime_error("cannot create database " + database + ": " + error);
  return fmt::format("postgresql://{}:{}@{}:{}/{}", server.scram_role().name,
                     server.scram_role().password, server.host(), server.port(), database);
}

std::string fresh_state_url(std::string_view backend, const TempDir& dir) {
  if (backend == kPostgresBackend) return fresh_postgres_url(shared_postgres_server());
  return "sqlite://" + (dir / "state.db").string();
}

}  // namespace portcullis::testing
