// Checks the MySQL classifier against a real MariaDB: a corpus of statements (templates times
// evasions: comments, executable and versioned comments, multi-statements, quotes, EXECUTE
// IMMEDIATE) runs in a read-only session, and every statement the server refuses as a write
// (ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION) must be classified as more than a read, so that
// nothing classified read-only is one.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sql/mysql/classifier.h"
#include "support/child_process.h"
#include "support/mariadb_server.h"

namespace portcullis::testing {
namespace {

using sql::ClassSet;
using sql::StatementClass;

// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
constexpr int kReadOnlyRefusal = 1792;

// Runs each hex-encoded statement of stdin on a new connection in a read-only session, with
// multi-statements on (as a gateway's client may), and prints the first error code, 0 if none.
// PyMySQL talks the protocol itself: the mariadb command-line client would split the text at
// its own idea of the semicolons first.
constexpr std::string_view kDriver = R"(
import binascii, sys
import pymysql
from pymysql.constants import CLIENT
host, port, user, password, database = sys.argv[1:6]
for line in sys.stdin:
    sql = binascii.unhexlify(line.strip()).decode("utf-8")
    code = 0
    conn = pymysql.connect(host=host, port=int(port), user=user, password=password,
                           database=database, client_flag=CLIENT.MULTI_STATEMENTS,
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute(sql)
            while cur.nextset():
                pass
    except pymysql.err.MySQLError as e:
        code = e.args[0] if e.args and isinstance(e.args[0], int) else -1
    finally:
        try:
            conn.close()
        except Exception:
            pass
    print(code, flush=True)
)";

// Debian's python3-pymysql is installed for the system interpreter.
constexpr const char* kSystemPython = "/usr/bin/python3";

// Statements over the tables the fixture creates: reads, locking reads, writes, DDL, and
// statements that only look like writes.
constexpr std::string_view kTemplates[] = {
    "SELECT * FROM t",
    "SELECT a, COUNT(*) FROM t GROUP BY a",
    "SELECT * FROM t WHERE id IN (SELECT id FROM u)",
    "SELECT * FROM t FOR UPDATE",
    "SELECT * FROM t LOCK IN SHARE MODE",
    "SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)",
    "SELECT * FROM t JOIN u ON t.id = u.id FOR UPDATE",
    "SELECT a INTO @v FROM t LIMIT 1",
    "SELECT NEXT VALUE FOR sq",
    "SELECT NEXTVAL(sq)",
    "SELECT SETVAL(sq, 100)",
    "SELECT LASTVAL(sq)",
    "SELECT * FROM v",
    "SELECT b FROM t WHERE b = 'it''s'",
    "INSERT INTO t VALUES (100, 1, 'x')",
    "INSERT INTO t (id, a) SELECT id + 1000, a FROM u",
    "INSERT INTO t VALUES (1, 1, 'x') ON DUPLICATE KEY UPDATE a = a + 1",
    "INSERT IGNORE INTO t VALUES (1, 1, 'x')",
    "REPLACE INTO t VALUES (1, 1, 'x')",
    "UPDATE t SET a = a + 1",
    "UPDATE t SET a = 1 WHERE id = 1",
    "UPDATE t JOIN u ON t.id = u.id SET t.a = u.a",
    "DELETE FROM t WHERE id = 1",
    "DELETE FROM t",
    "DELETE t FROM t JOIN u ON t.id = u.id",
    "DELETE FROM t USING t JOIN u ON t.id = u.id",
    "DELETE FROM t WHERE id = 1 RETURNING id",
    "TRUNCATE TABLE u",
    "CREATE TABLE n (a INT)",
    "CREATE TEMPORARY TABLE tmp (a INT)",
    "CREATE TABLE n2 AS SELECT * FROM t",
    "DROP TABLE IF EXISTS nope",
    "ALTER TABLE u ADD COLUMN c INT",
    "CREATE INDEX i ON u (a)",
    "RENAME TABLE u TO u2",
    "CREATE VIEW v2 AS SELECT 1",
    "CREATE SEQUENCE sq2",
    "CREATE PROCEDURE pr() SELECT 1",
    "CREATE FUNCTION fn() RETURNS INT RETURN 1",
    "CREATE USER someone",
    "LOCK TABLES t WRITE",
    "OPTIMIZE TABLE t",
    "REPAIR TABLE t",
    "ANALYZE DELETE FROM t",
    "DO 1",
    "DO SLEEP(0)",
    "SET @v = (SELECT COUNT(*) FROM t)",
    "SET NAMES utf8mb4",
    "SHOW TABLES",
    "SHOW VARIABLES LIKE 'version'",
    "DESCRIBE t",
    "EXPLAIN SELECT * FROM t",
    "HANDLER t OPEN",
    "CHECKSUM TABLE t",
    "VALUES (1)",
    "(SELECT id FROM t) UNION (SELECT id FROM u)",
    "WITH c AS (SELECT * FROM t) SELECT * FROM c",
};

// The same statement as a client could dress it up.
std::vector<std::string> evasions(std::string_view s) {
  const std::string sql(s);
  std::string lower = sql;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string commented = sql;
  if (auto space = commented.find(' '); space != std::string::npos) {
    commented.replace(space, 1, "/**/");
  }
  std::string quoted;  // inside a string literal: quotes doubled
  for (char c : sql) {
    if (c == '\'') quoted += '\'';
    if (c == '\\') quoted += '\\';
    quoted += c;
  }
  return {
      sql,
      lower,
      commented,
      "/* leading */ " + sql,
      sql + " -- trailing",
      sql + " # trailing",
      "/*!" + sql + " */",
      "/*!50000 " + sql + " */",
      "/*M!100000 " + sql + " */",
      "/*!50700 " + sql + " */",   // MariaDB skips MySQL 5.7+ versions
      "/*!999999 " + sql + " */",  // a version to come
      "SELECT 1; " + sql,
      "SELECT '\\''; " + sql,
      "SELECT 1 -- ;\n; " + sql,
      "EXECUTE IMMEDIATE '" + quoted + "'",
      "SET STATEMENT max_statement_time = 100 FOR " + sql,
  };
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// "10.11.6-MariaDB-0+deb12u1" → 101106
uint32_t version_id(const std::string& version) {
  unsigned major = 0, minor = 0, patch = 0;
  if (std::sscanf(version.c_str(), "%u.%u.%u", &major, &minor, &patch) != 3) return 0;
  return major * 10000 + minor * 100 + patch;
}

std::string names(ClassSet classes) {
  std::string out;
  for (std::string_view n : sql::class_names(classes)) {
    if (!out.empty()) out += '|';
    out += n;
  }
  return out.empty() ? "nothing" : out;
}

bool more_than_read(ClassSet classes) {
  constexpr ClassSet kWritelike =
      static_cast<ClassSet>(StatementClass::write) | static_cast<ClassSet>(StatementClass::ddl) |
      static_cast<ClassSet>(StatementClass::dcl) | static_cast<ClassSet>(StatementClass::admin) |
      static_cast<ClassSet>(StatementClass::unknown);
  return (classes & kWritelike) != 0;
}

TEST(MysqlClassifierDifferentialTest, WhatTheServerRefusesAsAWriteIsNeverClassifiedAsARead) {
  MariadbServer server;
  const RunResult setup = server.mariadb_root(
      "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20));"
      "CREATE TABLE u LIKE t;"
      "INSERT INTO t VALUES (1, 1, 'x'), (2, 2, 'y');"
      "INSERT INTO u VALUES (1, 5, 'z');"
      "CREATE SEQUENCE sq;"
      "CREATE VIEW v AS SELECT id, a FROM t;");
  ASSERT_TRUE(setup.ok()) << setup.describe();

  const uint32_t version = version_id(server.version());
  ASSERT_GT(version, 100000u) << server.version();
  const sql::mysql::Reading reading{.no_backslash_escapes = false,
                                    .ansi_quotes = false,
                                    .mariadb = true,
                                    .server_version = version};

  std::vector<std::string> corpus;
  for (std::string_view t : kTemplates) {
    for (std::string& e : evasions(t)) corpus.push_back(std::move(e));
  }
  std::string input;
  for (const auto& s : corpus) input += hex(s) + "\n";

  ChildOptions driver;
  driver.argv = {kSystemPython,
                 "-c",
                 std::string(kDriver),
                 server.host(),
                 std::to_string(server.port()),
                 server.native_user().name,
                 server.native_user().password,
                 std::string(MariadbServer::kDatabase)};
  driver.stdin_data = input;
  const RunResult run = run_command(driver, std::chrono::seconds(300));
  ASSERT_TRUE(run.ok()) << run.describe();

  std::istringstream codes(run.stdout_text);
  std::size_t refused = 0;
  std::size_t read_only = 0;
  for (const std::string& s : corpus) {
    int code = 0;
    ASSERT_TRUE(codes >> code) << "no result for: " << s;
    const sql::Classification c = sql::mysql::classify(s, reading);
    const ClassSet classes = c.classes();
    if (!more_than_read(classes)) ++read_only;
    if (code != kReadOnlyRefusal) continue;
    ++refused;
    EXPECT_TRUE(more_than_read(classes))
        << s << "\n  refused as a write by the server, classified " << names(classes);
  }
  // The corpus must exercise both sides, or the test proves nothing.
  EXPECT_GT(refused, corpus.size() / 4);
  EXPECT_GT(read_only, corpus.size() / 4);
}

}  // namespace
}  // namespace portcullis::testing
