#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "mysql_readings.h"
#include "sql/classifier.h"
#include "sql/mysql/classifier.h"

namespace portcullis::sql::mysql {
namespace {

std::string classes_of(ClassSet set) {
  std::string out;
  for (auto name : class_names(set)) {
    if (!out.empty()) out += '|';
    out += name;
  }
  return out;
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

struct ClassifierCase {
  std::string_view sql;
  // Each statement as "kind classes", joined by "; ".
  std::string_view expected;
  Reading reading = {};
};

std::string summary(std::string_view sql, const Reading& reading) {
  Classification c = classify(sql, reading);
  std::string out;
  for (const auto& s : c.statements) {
    if (!out.empty()) out += "; ";
    out += s.kind + " " + classes_of(s.classes);
  }
  return out;
}

TEST(MysqlClassifierTest, KindsAndClasses) {
  const ClassifierCase cases[] = {
      {"SELECT 1", "select read"},
      {"select * from t where a = 1", "select read"},
      {"(SELECT a FROM t) UNION (SELECT b FROM u)", "select read"},
      {"WITH x AS (SELECT 1) SELECT * FROM x", "select read"},
      {"VALUES ROW(1, 2)", "values read"},
      {"TABLE t", "table read"},
      {"SELECT * FROM t FOR UPDATE", "select read|write"},
      {"SELECT * FROM t FOR SHARE NOWAIT", "select read|write"},
      {"SELECT * FROM t LOCK IN SHARE MODE", "select read|write"},
      {"SELECT * FROM t WHERE a IN (SELECT b FROM u FOR UPDATE)", "select read|write"},
      {"SELECT * FROM t INTO OUTFILE '/tmp/x'", "select_into_outfile read|admin"},
      {"SELECT a INTO DUMPFILE '/tmp/x' FROM t", "select_into_outfile read|admin"},
      {"SELECT a INTO @v FROM t", "select read"},
      {"SELECT load_file('/etc/passwd')", "select read|admin"},
      {"SELECT LOAD_FILE('/etc/passwd')", "select read|admin"},
      {"SELECT sys_exec('id')", "select read|admin"},
      {"SELECT myfunc(1)", "select read|unknown"},
      {"SELECT db.myfunc(1)", "select read|unknown"},
      {"SELECT sleep(1), benchmark(10, md5('a'))", "select read"},
      {"SELECT get_lock('x', 1)", "select read|write"},
      {"SELECT NEXT VALUE FOR s", "select read|write"},
      {"SELECT CAST(a AS DECIMAL(10,2)), CONVERT(b, CHAR(3)), IF(c, 1, 2) FROM t", "select read"},
      {"SELECT EXTRACT(YEAR FROM d), TRIM(LEADING 'x' FROM s) FROM t", "select read"},
      {"INSERT INTO t VALUES (1)", "insert write"},
      {"INSERT INTO t (a) SELECT a FROM u", "insert write"},
      {"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a) + 1", "insert write"},
      {"REPLACE INTO t SET a = 1", "replace write"},
      {"UPDATE t SET a = 1 WHERE id = 2", "update write"},
      {"DELETE FROM t WHERE id = 2", "delete write"},
      {"DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", "delete write"},
      {"WITH d AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM d)", "delete write"},
      {"LOAD DATA INFILE '/tmp/x' INTO TABLE t", "load_data write|admin"},
      {"LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t FIELDS TERMINATED BY ','",
       "load_data write|admin"},
      {"LOAD XML LOCAL INFILE 'x.xml' INTO TABLE t", "load_data write|admin"},
      {"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10) DEFAULT 'x')", "create_table ddl"},
      {"CREATE TABLE t AS SELECT * FROM u", "create_table_as read|write|ddl"},
      {"CREATE INDEX i ON t (a)", "create_index ddl"},
      {"CREATE OR REPLACE VIEW v AS SELECT myfunc(a) FROM t", "create_view ddl"},
      {"CREATE DATABASE d", "create_database ddl|admin"},
      {"CREATE FUNCTION f RETURNS STRING SONAME 'lib_mysqludf_sys.so'",
       "create_function ddl|admin"},
      {"CREATE USER 'u'@'%' IDENTIFIED BY 'p'", "create_user dcl"},
      {"ALTER TABLE t ADD COLUMN c INT", "alter_table ddl"},
      {"ALTER USER 'u'@'%' IDENTIFIED BY 'p'", "alter_user dcl"},
      {"DROP TABLE t", "drop_table ddl"},
      {"DROP TABLE IF EXISTS a, b", "drop_table ddl"},
      {"DROP SCHEMA s", "drop_database ddl|admin"},
      {"DROP DATABASE IF EXISTS s", "drop_database ddl|admin"},
      {"DROP USER u", "drop_user dcl"},
      {"RENAME TABLE a TO b", "rename_table ddl"},
      {"TRUNCATE TABLE t", "truncate write"},
      {"TRUNCATE t", "truncate write"},
      {"GRANT SELECT ON db.* TO u", "grant dcl"},
      {"REVOKE ALL ON *.* FROM u", "revoke dcl"},
      {"SET PASSWORD = 'x'", "set_password dcl"},
      {"SET ROLE ALL", "set_role dcl"},
      {"SHOW TABLES", "show read"},
      {"SHOW GRANTS FOR CURRENT_USER", "show read"},
      {"SHOW PROCESSLIST", "show read"},
      {"SHOW TABLES WHERE load_file('/etc/passwd') IS NOT NULL", "show read|admin"},
      {"SHOW VARIABLES WHERE myfunc(Value)", "show read|unknown"},
      {"USE shop", "use session"},
      {"BEGIN", "begin transaction"},
      {"BEGIN WORK", "begin transaction"},
      {"START TRANSACTION", "start_transaction transaction"},
      {"START TRANSACTION READ ONLY", "start_transaction transaction"},
      {"START TRANSACTION WITH CONSISTENT SNAPSHOT", "start_transaction transaction"},
      {"COMMIT", "commit transaction"},
      {"ROLLBACK", "rollback transaction"},
      {"ROLLBACK TO SAVEPOINT s", "rollback_to transaction"},
      {"SAVEPOINT s", "savepoint transaction"},
      {"RELEASE SAVEPOINT s", "release transaction"},
      {"XA START 'x'", "xa transaction"},
      {"XA RECOVER", "xa admin|transaction"},
      {"KILL 12", "kill admin"},
      {"KILL QUERY 12", "kill admin"},
      {"FLUSH PRIVILEGES", "flush admin"},
      {"FLUSH TABLES WITH READ LOCK", "flush admin"},
      {"RESET MASTER", "reset admin"},
      {"PURGE BINARY LOGS TO 'x'", "purge admin"},
      {"SHUTDOWN", "shutdown admin"},
      {"INSTALL PLUGIN x SONAME 'x.so'", "install_plugin admin"},
      {"CHANGE MASTER TO MASTER_HOST = 'h'", "change_master admin"},
      {"START SLAVE", "start_replica admin"},
      {"STOP REPLICA", "stop_replica admin"},
      {"HANDLER t OPEN", "handler read"},
      {"HANDLER t READ FIRST", "handler read"},
      {"HANDLER t READ FIRST WHERE load_file('/etc/passwd')", "handler read|admin"},
      {"DELETE HISTORY FROM t", "delete write"},
      {"LOCK TABLES t READ", "lock_tables write"},
      {"UNLOCK TABLES", "unlock_tables session"},
      {"DO 1", "do read"},
      {"DO sleep(1)", "do read"},
      {"CALL p(1)", "call admin"},
      {"DESCRIBE t", "describe read"},
      {"DESC t", "describe read"},
      {"EXPLAIN SELECT * FROM t", "explain read"},
      {"EXPLAIN DELETE FROM t", "explain read"},
      {"EXPLAIN SELECT * FROM t WHERE a = (SELECT load_file('/etc/passwd'))", "explain read|admin"},
      {"EXPLAIN SELECT myfunc()", "explain read|unknown"},
      {"EXPLAIN ANALYZE SELECT * FROM t", "explain read"},
      {"EXPLAIN ANALYZE DELETE FROM t", "explain write"},
      {"ANALYZE DELETE FROM t", "explain write"},
      {"ANALYZE TABLE t", "analyze_table admin"},
      {"OPTIMIZE TABLE t", "optimize_table admin"},
      {"REPAIR TABLE t", "repair_table admin"},
      {"CHECK TABLE t", "check_table admin"},
      {"CHECKSUM TABLE t", "checksum_table read"},
      {"HELP 'select'", "help read"},
      {"SIGNAL SQLSTATE '45000'", "signal session"},
      {"GET DIAGNOSTICS @n = NUMBER", "get_diagnostics session"},
      {"BINLOG 'AAAA'", "binlog admin"},
      {"CACHE INDEX t IN c", "cache_index admin"},
      {"LOAD INDEX INTO CACHE t", "load_index admin"},
      {"DEALLOCATE PREPARE s", "deallocate session"},
      {"DROP PREPARE s", "deallocate session"},
      {"EXECUTE s", "execute "},
      {"EXECUTE s USING @a", "execute "},
      {"DELIMITER //", "unknown unknown"},
      {"FOO BAR", "unknown unknown"},
      {"BEGIN NOT ATOMIC SELECT 1; END", "compound_statement unknown"},
      // Comments between keywords, letter case, backticks.
      {"DELETE/**/FROM t", "delete write"},
      {"dElEtE /* x */ FrOm `t` -- y", "delete write"},
      {"/* leading */ SELECT 1", "select read"},
      {"# only a comment", ""},
      {"", ""},
      {"  ;  ; ", ""},
  };
  for (const ClassifierCase& c : cases) EXPECT_EQ(summary(c.sql, c.reading), c.expected) << c.sql;
}

TEST(MysqlClassifierTest, SettingsAreSessionOnlyWhenStockClientsSendThem) {
  const ClassifierCase cases[] = {
      {"SET NAMES utf8mb4", "set session"},
      {"SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'", "set session"},
      {"SET CHARACTER SET utf8", "set session"},
      {"SET autocommit = 1", "set session"},
      {"SET autocommit=0, time_zone = '+00:00'", "set session"},
      {"SET SESSION sql_mode = 'ANSI_QUOTES'", "set session"},
      {"SET @@sql_mode := ''", "set session"},
      {"SET @@session.time_zone = 'UTC'", "set session"},
      {"SET character_set_results = NULL", "set session"},
      {"SET @x = 1", "set session"},
      {"SET @x := 'a', @y = CONCAT('a', 'b')", "set session"},
      {"SET @x = (SELECT secret FROM t)", "set read|session"},
      {"SET @x = myfunc()", "set session|unknown"},
      {"SET @x = load_file('/etc/passwd')", "set admin|session"},
      {"SET GLOBAL max_connections = 10", "set admin"},
      {"SET PERSIST max_connections = 10", "set admin"},
      {"SET PERSIST_ONLY max_connections = 10", "set admin"},
      {"SET @@global.sql_mode = ''", "set admin"},
      {"SET GLOBAL a = 1, b = 2", "set admin"},
      {"SET sql_log_bin = 0", "set admin"},
      {"SET foreign_key_checks = 0", "set admin"},
      {"SET unique_checks = 0", "set admin"},
      {"SET sql_safe_updates = 1", "set session"},
      {"SET sql_safe_updates = 0", "set admin"},
      {"SET some_unknown_setting = 1", "set admin"},
      {"SET autocommit = 1, sql_log_bin = 0", "set admin|session"},
      {"SET SESSION TRANSACTION READ WRITE", "set_transaction session"},
      {"SET TRANSACTION READ WRITE", "set_transaction transaction"},
      {"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "set_transaction transaction"},
      {"SET GLOBAL TRANSACTION READ WRITE", "set_transaction admin"},
      {"SET transaction_read_only = 1", "set session"},
      {"SET transaction_read_only = 0", "set admin|session"},
      {"SET tx_read_only=OFF", "set admin|session"},
      {"SET @@session.transaction_read_only = 0", "set admin|session"},
      {"SET STATEMENT max_statement_time = 1 FOR SELECT * FROM t", "set_statement read|session"},
      {"SET STATEMENT max_statement_time = 1 FOR DELETE FROM t", "set_statement write|session"},
  };
  for (const ClassifierCase& c : cases) EXPECT_EQ(summary(c.sql, c.reading), c.expected) << c.sql;
}

TEST(MysqlClassifierTest, LiftingReadOnlyIsFlagged) {
  for (std::string_view sql :
       {"SET SESSION TRANSACTION READ WRITE", "SET TRANSACTION READ WRITE",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE", "START TRANSACTION READ WRITE",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE", "SET transaction_read_only = 0",
        "SET SESSION transaction_read_only = OFF", "SET tx_read_only = 0", "SET tx_read_only=OFF",
        "SET @@session.transaction_read_only=0", "SET @@transaction_read_only = DEFAULT",
        "SET GLOBAL transaction_read_only = 0", "SET autocommit = 1, transaction_read_only = 0",
        "SET STATEMENT transaction_read_only = 0 FOR DELETE FROM t",
        "PREPARE s FROM 'SET transaction_read_only = 0'"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_TRUE(c.statements[0].lifts_read_only) << sql;
  }
  for (std::string_view sql :
       {"START TRANSACTION READ ONLY", "START TRANSACTION", "BEGIN",
        "SET transaction_read_only = 1", "SET tx_read_only = ON",
        "SET SESSION TRANSACTION READ ONLY", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET autocommit = 0"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_FALSE(c.statements[0].lifts_read_only) << sql;
  }
}

TEST(MysqlClassifierTest, ChangesToTextReadingAreFlagged) {
  for (std::string_view sql :
       {"SET NAMES gbk", "SET CHARACTER SET gbk", "SET CHARSET gbk",
        "SET character_set_client = gbk", "SET sql_mode = 'ANSI_QUOTES'", "SET @@sql_mode = ''",
        "SET SESSION sql_mode = ''", "SET @@session.sql_mode = 'NO_BACKSLASH_ESCAPES'",
        "SET autocommit = 1, sql_mode = ''"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_TRUE(c.statements[0].changes_text_reading) << sql;
  }
  for (std::string_view sql :
       {"SET autocommit = 1", "SET time_zone = 'UTC'", "SET @sql_mode = 1", "SELECT @@sql_mode"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_FALSE(c.statements[0].changes_text_reading) << sql;
  }
}

TEST(MysqlClassifierTest, NamesTheSettingAndThePreparedStatement) {
  EXPECT_EQ(classify("SET @@SESSION.Time_Zone = 'UTC'", Reading{}).statements[0].setting,
            "time_zone");
  EXPECT_EQ(classify("SET GLOBAL max_connections = 1", Reading{}).statements[0].setting,
            "max_connections");
  EXPECT_EQ(classify("SET NAMES utf8mb4", Reading{}).statements[0].setting, "names");
  EXPECT_EQ(classify("SET @X = 1", Reading{}).statements[0].setting, "@x");
  EXPECT_EQ(classify("SHOW VARIABLES LIKE 'Autocommit'", Reading{}).statements[0].setting,
            "autocommit");
  EXPECT_EQ(classify("PREPARE s1 FROM 'SELECT 1'", Reading{}).statements[0].prepared_name, "s1");
  EXPECT_EQ(classify("EXECUTE s1 USING @a", Reading{}).statements[0].prepared_name, "s1");
  EXPECT_EQ(classify("DEALLOCATE PREPARE s1", Reading{}).statements[0].prepared_name, "s1");
}

TEST(MysqlClassifierTest, PreparedTextIsDecidedAsTheTextItRuns) {
  Statement s = classify("PREPARE s FROM 'DELETE FROM t'", Reading{}).statements[0];
  EXPECT_EQ(s.kind, "prepare");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_EQ(classes_of(s.classes), "write");
  EXPECT_TRUE(s.where_absent);
  EXPECT_EQ(joined(s.tables_written), "t");
  EXPECT_EQ(s.text, "PREPARE s FROM 'DELETE FROM t'");

  // The string's escapes are decoded first: \' is a quote inside the prepared text.
  s = classify(R"(PREPARE s FROM 'SELECT \'a\'; DROP TABLE t')", Reading{}).statements[0];
  EXPECT_EQ(classes_of(s.classes), "unknown");  // two statements cannot be prepared
  s = classify("PREPARE s FROM 'SELECT ' 'a'", Reading{}).statements[0];
  EXPECT_EQ(s.inner_kind, "select");
  EXPECT_EQ(classes_of(s.classes), "read");
  s = classify("PREPARE s FROM _utf8mb4'UPDATE t SET a = 1 WHERE id = ?'", Reading{}).statements[0];
  EXPECT_EQ(s.inner_kind, "update");
  EXPECT_FALSE(s.where_absent);

  for (std::string_view sql :
       {"PREPARE s FROM @v", "PREPARE s FROM CONCAT('DEL', 'ETE FROM t')", "EXECUTE IMMEDIATE @v",
        "PREPARE s FROM 'SELECT 1; SELECT 2'", "PREPARE s FROM 'SELECT \\'1'"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_EQ(classes_of(c.statements[0].classes), "unknown") << sql;
  }
  s = classify("EXECUTE IMMEDIATE 'DROP TABLE t'", Reading{}).statements[0];
  EXPECT_EQ(s.kind, "execute_immediate");
  EXPECT_EQ(s.inner_kind, "drop_table");
  EXPECT_EQ(classes_of(s.classes), "ddl");
}

TEST(MysqlClassifierTest, ExecutableCommentsAreDecidedAsTheBackendRunsThem) {
  const ClassifierCase cases[] = {
      {"SELECT 1 /*! ; DROP TABLE t */", "select read; drop_table ddl"},
      {"SELECT 1 /*!50000 ; DROP TABLE t */", "select read; drop_table ddl", mysql8()},
      {"SELECT 1 /*!99999 ; DROP TABLE t */", "select read", mysql8()},
      {"SELECT 1 /*!80037 ; DROP TABLE t */", "select read", mysql8()},
      {"SELECT 1 /*!80036 ; DROP TABLE t */", "select read; drop_table ddl", mysql8()},
      {"SELECT 1 /*!50700 ; DROP TABLE t */", "select read"},
      {"SELECT 1 /*M!50700 ; DROP TABLE t */", "select read; drop_table ddl"},
      {"SELECT 1 /*M!101100 ; DROP TABLE t */", "select read; drop_table ddl"},
      {"SELECT 1 /*M!101101 ; DROP TABLE t */", "select read"},
      {"SELECT 1 /*M! ; DROP TABLE t */", "select read", mysql8()},
      {"/*!DELETE FROM t*/", "delete write"},
      {"SELECT /*!40001 SQL_NO_CACHE */ * FROM t", "select read"},
      {"SELECT * FROM t /*! FOR UPDATE */", "select read|write"},
      {"SELECT * FROM t /*!99999 FOR UPDATE */", "select read"},
      {"SELECT 1 /*+ ; DROP TABLE t */", "select read"},
      {"SELECT 1 /* ; DROP TABLE t */", "select read"},
      {"SELECT 1 -- ; DROP TABLE t", "select read"},
      {"SELECT 1 --; DROP TABLE t", "select read; drop_table ddl"},
      {"SELECT 1 # ; DROP TABLE t\n; DELETE FROM t", "select read; delete write"},
  };
  for (const ClassifierCase& c : cases) EXPECT_EQ(summary(c.sql, c.reading), c.expected) << c.sql;
}

TEST(MysqlClassifierTest, QuotesAreReadAsTheBackendReadsThem) {
  const ClassifierCase cases[] = {
      {R"(SELECT '\'; DELETE FROM t; -- ')", "select read"},
      {R"(SELECT '\'; DELETE FROM t; -- ')", "select read; delete write; ", no_backslash()},
      {R"(SELECT 'a''; DELETE FROM t; -- ')", "select read"},
      {R"(SELECT "a\"; DELETE FROM t; -- ")", "select read"},
      {R"(SELECT "a\"; DELETE FROM t; -- ")", "select read; delete write", ansi()},
      {"SELECT `a``; DELETE FROM t; -- ` FROM u", "select read"},
      {"SELECT _utf8mb4'x; DROP TABLE t'", "select read"},
      {"SELECT \\N", "select read"},
  };
  for (const ClassifierCase& c : cases) {
    std::string expected(c.expected);
    if (expected.ends_with("; ")) expected.resize(expected.size() - 2);
    std::string got = summary(c.sql, c.reading);
    EXPECT_TRUE(got == expected || got == std::string(c.expected)) << c.sql << " gave " << got;
  }
}

TEST(MysqlClassifierTest, TheRestOfATextIsReadAsTheSettingsBeforeItLeaveIt) {
  const ClassifierCase cases[] = {
      {R"(SET sql_mode = 'ANSI_QUOTES'; SELECT "a\"; DELETE FROM t; -- ")",
       "set session; select read; delete write"},
      {R"(SET @@session.sql_mode = 'ANSI'; SELECT "a\"; DELETE FROM t; -- ")",
       "set session; select read; delete write"},
      {R"(SET sql_mode = 'ANSI_QUOTES'; SELECT "a\"; DELETE FROM t; -- ")",
       "set session; select read; delete write", mysql8()},
      {R"(SET sql_mode = ''; SELECT "a\"; DELETE FROM t; -- ")", "set session; select read",
       ansi()},
      {R"(SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT '\'; DELETE FROM t; -- ')",
       "set session; select read; delete write"},
      {R"(SET GLOBAL sql_mode = 'ANSI_QUOTES'; SELECT "a\"; DELETE FROM t; -- ")",
       "set admin; select read"},
      {R"(SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT 1; SELECT "a\"; DELETE FROM t; -- ")",
       "set_statement read|session; select read"},
      {"SET NAMES utf8mb4; SELECT 1", "set session; select read"},
      {"SET NAMES gbk; SELECT 1", "set session; unknown unknown"},
      {"SET character_set_client = sjis; SELECT 1", "set session; unknown unknown"},
      {"SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'); SELECT 1",
       "set session; unknown unknown"},
      {"SET sql_mode = 'ORACLE'; SELECT 1", "set session; unknown unknown"},
      {"EXECUTE s; SELECT 1", "execute ; unknown unknown"},
      {"SELECT 1; EXECUTE s", "select read; execute "},
      {"PREPARE s FROM 'SET sql_mode = \\'ANSI_QUOTES\\''; SELECT 1",
       "prepare session; unknown unknown"},
  };
  for (const ClassifierCase& c : cases) EXPECT_EQ(summary(c.sql, c.reading), c.expected) << c.sql;
}

TEST(MysqlClassifierTest, MultiStatementTextGivesEachStatementItsOwnText) {
  Classification c = classify("SELECT 1; DELETE FROM t ;\n UPDATE u SET a = 1 WHERE b", Reading{});
  ASSERT_EQ(c.statements.size(), 3u);
  EXPECT_EQ(c.statements[0].text, "SELECT 1");
  EXPECT_EQ(c.statements[1].text, "DELETE FROM t");
  EXPECT_EQ(c.statements[2].text, "UPDATE u SET a = 1 WHERE b");
  EXPECT_EQ(classes_of(c.classes()), "read|write");
}

TEST(MysqlClassifierTest, StoredProgramBodiesTakeTheRestOfTheText) {
  Classification c =
      classify("CREATE PROCEDURE p() BEGIN DELETE FROM t; END; DROP TABLE u", Reading{});
  ASSERT_EQ(c.statements.size(), 1u);
  const Statement& s = c.statements[0];
  EXPECT_EQ(s.kind, "create_procedure");
  EXPECT_TRUE(has(s.classes, StatementClass::ddl));
  EXPECT_NE(std::find(s.nested_kinds.begin(), s.nested_kinds.end(), "drop_table"),
            s.nested_kinds.end());
  EXPECT_EQ(s.text, "CREATE PROCEDURE p() BEGIN DELETE FROM t; END; DROP TABLE u");
}

TEST(MysqlClassifierTest, UnlexableTextIsUnknown) {
  for (std::string_view sql :
       {"SELECT 'abc", "SELECT 1 /* x", "SELECT `a", "SELECT 1 /*! , 2", "SELECT X'4'"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_EQ(c.statements[0].kind, "unknown");
    EXPECT_EQ(classes_of(c.statements[0].classes), "unknown");
    EXPECT_EQ(c.statements[0].text, sql);
    EXPECT_FALSE(c.parse_error.empty()) << sql;
  }
}

TEST(MysqlClassifierTest, WhereAbsentIncludesConstantTrueConditions) {
  for (std::string_view sql :
       {"DELETE FROM t", "UPDATE t SET a = 1", "DELETE FROM t WHERE 1", "DELETE FROM t WHERE TRUE",
        "DELETE FROM t WHERE 1=1", "DELETE FROM t WHERE 'a'='a'", "DELETE FROM t WHERE 'a' = 'A'",
        "UPDATE t SET a = 1 WHERE 1 = 1 OR 0", "DELETE FROM t WHERE NOT 0",
        "DELETE FROM t WHERE (2 > 1)", "DELETE FROM t WHERE '1abc' = 1",
        "DELETE FROM t WHERE 1 IS TRUE", "DELETE FROM t WHERE NOW()",
        "DELETE FROM t WHERE 1 ORDER BY id LIMIT 10", "DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a",
        "DELETE FROM t WHERE _utf8mb4'a' = 'a'", "PREPARE s FROM 'DELETE FROM t WHERE 1'"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_TRUE(c.statements[0].where_absent) << sql;
  }
  for (std::string_view sql :
       {"DELETE FROM t WHERE id = 1", "DELETE FROM t WHERE 0", "DELETE FROM t WHERE 1 = 0",
        "DELETE FROM t WHERE 'a' = 'b'", "DELETE FROM t WHERE NULL",
        "DELETE FROM t WHERE 1 AND id = 3", "UPDATE t SET a = 1 WHERE `id` = 2",
        "DELETE FROM t WHERE FALSE", "SELECT * FROM t"}) {
    Classification c = classify(sql, Reading{});
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_FALSE(c.statements[0].where_absent) << sql;
  }
}

struct Objects {
  std::string_view sql;
  std::string_view read;
  std::string_view written;
  std::string_view functions;
};

TEST(MysqlClassifierTest, NamesTheTablesAndFunctions) {
  const Objects cases[] = {
      {"SELECT * FROM t", "t", "", ""},
      {"SELECT * FROM db.t AS x JOIN `Other Db`.`T2` y ON x.a = y.b, t3", "db.t,Other Db.T2,t3", "",
       ""},
      {"SELECT * FROM t1 LEFT OUTER JOIN t2 USING (a) NATURAL JOIN t3", "t1,t2,t3", "", ""},
      {"SELECT * FROM t1 USE INDEX (i1), t2 FORCE INDEX FOR JOIN (i2)", "t1,t2", "", ""},
      {"SELECT (SELECT max(b) FROM u) FROM t WHERE EXISTS (SELECT 1 FROM v)", "u,t,v", "", "max"},
      {"SELECT * FROM (SELECT a FROM t) AS d JOIN u", "t,u", "", ""},
      {"WITH c AS (SELECT * FROM t) SELECT * FROM c JOIN u", "t,u", "", ""},
      {"SELECT * FROM dual", "", "", ""},
      {"SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$')) AS j", "", "",
       "json_table"},
      {"INSERT INTO t (a, b) SELECT a, b FROM u WHERE c IN (SELECT c FROM v)", "u,v", "t", ""},
      {"INSERT INTO db.t VALUES (1, NOW())", "", "db.t", "now"},
      {"INSERT INTO t TABLE u", "u", "t", ""},
      {"UPDATE t SET a = (SELECT b FROM u LIMIT 1)", "u", "t", ""},
      {"UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = t2.b", "", "t1,t2", ""},
      {"DELETE FROM t WHERE id IN (SELECT id FROM u)", "u", "t", ""},
      {"DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", "t1,t2", "t1", ""},
      {"DELETE a FROM t1 AS a JOIN t2 AS b ON a.x = b.x", "t1,t2", "t1", ""},
      {"DELETE FROM t1, t2 USING t1 JOIN t2 JOIN t3", "t1,t2,t3", "t1,t2", ""},
      {"DELETE HISTORY FROM t BEFORE SYSTEM_TIME NOW()", "", "t", "now"},
      {"DROP TABLE a, db.b", "", "a,db.b", ""},
      {"TRUNCATE TABLE t", "", "t", ""},
      {"LOCK TABLES t READ, u WRITE", "t", "u", ""},
      {"LOAD DATA INFILE 'x' INTO TABLE t SET c = UPPER(c)", "", "t", "upper"},
      {"SELECT UPPER(a), db.f(b), Count(*) FROM t", "t", "", "upper,db.f,count"},
      {"SELECT a FROM t WHERE b IN (1, 2) AND c = CHAR(65) AND EXISTS (SELECT 1)", "t", "", "char"},
      {"CALL db.proc(1)", "", "", "db.proc"},
  };
  for (const Objects& c : cases) {
    Classification r = classify(c.sql, Reading{});
    ASSERT_EQ(r.statements.size(), 1u) << c.sql;
    EXPECT_EQ(joined(r.statements[0].tables_read), c.read) << c.sql;
    EXPECT_EQ(joined(r.statements[0].tables_written), c.written) << c.sql;
    EXPECT_EQ(joined(r.statements[0].functions), c.functions) << c.sql;
  }
}

TEST(MysqlClassifierTest, NamesTheColumnsReferenced) {
  Classification c = classify(
      "SELECT c.Email, `Phone`, upper(name) AS n FROM customers c WHERE c.id = 1 ORDER BY n",
      Reading{});
  EXPECT_EQ(joined(c.statements[0].columns_referenced), "email,phone,name,id,n");
}

TEST(MysqlClassifierTest, SecretsAreCutOutOfTheRecordedText) {
  struct Redaction {
    std::string_view sql;
    std::string_view redacted;
  };
  const Redaction cases[] = {
      {"CREATE USER 'u'@'%' IDENTIFIED BY 'hunter2'", "CREATE USER 'u'@'%' IDENTIFIED BY '***'"},
      {"ALTER USER u IDENTIFIED WITH mysql_native_password BY 'p' PASSWORD EXPIRE",
       "ALTER USER u IDENTIFIED WITH mysql_native_password BY '***' PASSWORD EXPIRE"},
      {"CREATE USER u IDENTIFIED BY PASSWORD '*ABC'", "CREATE USER u IDENTIFIED BY PASSWORD '***'"},
      {"CREATE USER u IDENTIFIED VIA ed25519 USING PASSWORD('p') OR unix_socket",
       "CREATE USER u IDENTIFIED VIA ed25519 USING PASSWORD('***') OR unix_socket"},
      {"GRANT ALL ON *.* TO u IDENTIFIED BY _utf8mb4'p'",
       "GRANT ALL ON *.* TO u IDENTIFIED BY _utf8mb4'***'"},
      {"SET PASSWORD FOR u = PASSWORD('p')", "SET PASSWORD FOR u = PASSWORD('***')"},
      {"SET PASSWORD = 'p'", "SET PASSWORD = '***'"},
      {"CHANGE MASTER TO MASTER_HOST = 'h', MASTER_PASSWORD = 'p'",
       "CHANGE MASTER TO MASTER_HOST = 'h', MASTER_PASSWORD = '***'"},
      {"CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD 'p')",
       "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD '***')"},
      {"SELECT AES_ENCRYPT(card, 'key'), AES_DECRYPT(x, UNHEX('00'))",
       "SELECT AES_ENCRYPT(card, '***'), AES_DECRYPT(x, UNHEX('***'))"},
      {"PREPARE s FROM 'CREATE USER u IDENTIFIED BY ''p'''", "PREPARE s FROM '***'"},
      {"SET PASSWORD = ''X'41'", "SET PASSWORD = '***' '***'"},
      {"SELECT 'password', password FROM t", ""},
      {"SELECT 1", ""},
  };
  for (const Redaction& c : cases) {
    Classification r = classify(c.sql, Reading{});
    ASSERT_EQ(r.statements.size(), 1u) << c.sql;
    EXPECT_EQ(r.statements[0].redacted_text, c.redacted) << c.sql;
  }
  Classification body =
      classify("CREATE PROCEDURE p() BEGIN CREATE USER u IDENTIFIED BY 'p'; END", Reading{});
  ASSERT_EQ(body.statements.size(), 1u);
  EXPECT_EQ(body.statements[0].redacted_text,
            "create_procedure (text withheld: contains a secret)");
  Classification two = classify("SELECT 1; SET PASSWORD = 'p'", Reading{});
  ASSERT_EQ(two.statements.size(), 2u);
  EXPECT_EQ(two.statements[0].redacted_text, "");
  EXPECT_EQ(two.statements[1].redacted_text, "SET PASSWORD = '***'");
}

TEST(MysqlClassifierTest, LargeAndDeepStatementsCostLittle) {
  // Nesting the constant evaluator cannot follow: every row, as for any condition it cannot
  // show false.
  const std::string deep =
      "DELETE FROM t WHERE " + std::string(100000, '(') + "0" + std::string(100000, ')');
  Classification c = classify(deep, Reading{});
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_TRUE(c.statements[0].where_absent);
  const std::string negated = "DELETE FROM t WHERE " + std::string(100000, '-') + "1";
  EXPECT_TRUE(classify(negated, Reading{}).statements[0].where_absent);
  // Deeper than the walk follows: unknown.
  const std::string nested = "SELECT " + std::string(1000, '(') + "1" + std::string(1000, ')');
  EXPECT_TRUE(has(classify(nested, Reading{}).statements[0].classes, StatementClass::unknown));

  // Many names, each kept once (they are made unique in linear time; bench/ measures it).
  std::string wide = "SELECT ";
  for (int i = 0; i < 50000; ++i) {
    wide.push_back('c');
    wide.append(std::to_string(i % 40000));
    wide.push_back(',');
  }
  wide += "c0 FROM t";
  c = classify(wide, Reading{});
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].columns_referenced.size(), 40000u);
}

TEST(MysqlClassifierTest, UnicodeIdentifiersAreNames) {
  Classification c = classify("SELECT \xc3\xa9t\xc3\xa9 FROM \xe8\xa1\xa8 WHERE x = 1", Reading{});
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].kind, "select");
  EXPECT_EQ(joined(c.statements[0].tables_read), "\xe8\xa1\xa8");
}

TEST(MysqlClassifierTest, TheDialectEntryPointUsesIt) {
  Classification c = sql::classify("SELECT 1; DROP TABLE t", Dialect::mysql);
  ASSERT_EQ(c.statements.size(), 2u);
  EXPECT_EQ(c.statements[1].kind, "drop_table");
  EXPECT_TRUE(c.parse_error.empty());
}

}  // namespace
}  // namespace portcullis::sql::mysql
