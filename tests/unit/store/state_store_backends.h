// The state stores the store tests run against, each test on a new, empty one: a SQLite file
// in a temporary folder, or a database of its own on one real PostgreSQL server shared by the
// whole test binary (started when the first test needs it, stopped at exit).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {

inline constexpr std::string_view kSqliteBackend = "sqlite";
inline constexpr std::string_view kPostgresBackend = "postgres";

// The values a test suite over both stores is instantiated with (::testing::ValuesIn).
std::vector<std::string> state_store_backends();
// "sqlite" or "postgres", the suffix of each instantiated test's name.
std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info);

// The PostgreSQL server this test binary's tests share.
PostgresServer& shared_postgres_server();

// Creates a new, empty database on `server` owned by its SCRAM role and returns the state URL
// that opens it as that role, password included.
std::string fresh_postgres_url(const PostgresServer& server);

// The state URL of a new, empty store of `backend`; a SQLite file is made in `dir`.
std::string fresh_state_url(std::string_view backend, const TempDir& dir);

}  // namespace portcullis::testing
