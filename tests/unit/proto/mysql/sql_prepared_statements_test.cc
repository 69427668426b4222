// SQL-level PREPARE / EXECUTE on a MySQL session: an EXECUTE is decided as the statement the
// backend prepared under that name, with MySQL's rules for names, replacement, failure, CALL
// and compound statements.
#include "proto/mysql/sql_prepared_statements.h"

#include <gtest/gtest.h>

#include "sql/mysql/classifier.h"

namespace portcullis::proto::mysql {
namespace {

using sql::StatementClass;

sql::Classification classify(std::string_view text) {
  return sql::mysql::classify(text, sql::mysql::Reading{});
}

// Runs `text` as the backend would if every statement succeeded.
void run(SqlPreparedStatements& prepared, std::string_view text) {
  for (const auto& statement : classify(text).statements) prepared.on_answer(statement, true);
}

sql::Statement resolved(const SqlPreparedStatements& prepared, std::string_view text,
                        std::size_t index = 0) {
  auto c = classify(text);
  prepared.resolve(c);
  return c.statements.at(index);
}

bool unknown(const sql::Statement& s) {
  return sql::has(s.classes, StatementClass::unknown);
}

TEST(MysqlSqlPreparedStatements, ExecuteTakesThePreparedStatementsFacts) {
  SqlPreparedStatements prepared;
  run(prepared, "PREPARE del FROM 'DELETE FROM items'");
  const auto s = resolved(prepared, "EXECUTE DEL USING @x");
  EXPECT_EQ(s.kind, "execute");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_TRUE(sql::has(s.classes, StatementClass::write));
  EXPECT_FALSE(unknown(s));
  EXPECT_TRUE(s.where_absent);
  EXPECT_EQ(s.tables_written, std::vector<std::string>{"items"});
}

TEST(MysqlSqlPreparedStatements, UnknownNamesAreClassUnknown) {
  SqlPreparedStatements prepared;
  EXPECT_TRUE(unknown(resolved(prepared, "EXECUTE s")));
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  run(prepared, "DEALLOCATE PREPARE s");
  EXPECT_TRUE(unknown(resolved(prepared, "EXECUTE s")));
  EXPECT_EQ(prepared.size(), 0u);
}

TEST(MysqlSqlPreparedStatements, AFailedPrepareLeavesNoStatementUnderItsName) {
  SqlPreparedStatements prepared;
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  prepared.on_answer(classify("PREPARE s FROM 'DELETE FROM items'").statements[0], false);
  EXPECT_TRUE(unknown(resolved(prepared, "EXECUTE s")));
}

TEST(MysqlSqlPreparedStatements, APrepareReplacesTheName) {
  SqlPreparedStatements prepared;
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  run(prepared, "PREPARE S FROM 'UPDATE items SET name = 1 WHERE id = 2'");
  EXPECT_EQ(resolved(prepared, "EXECUTE s").inner_kind, "update");
}

TEST(MysqlSqlPreparedStatements, FollowsTheTextsOwnPrepareAndDeallocate) {
  SqlPreparedStatements prepared;
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  const auto replaced = resolved(prepared, "PREPARE s FROM 'DELETE FROM items'; EXECUTE s", 1);
  EXPECT_EQ(replaced.inner_kind, "delete");
  EXPECT_TRUE(unknown(resolved(prepared, "DEALLOCATE PREPARE s; EXECUTE s", 1)));
  // The backend has not run the text yet: its own names are still what it prepared before.
  EXPECT_EQ(resolved(prepared, "EXECUTE s").inner_kind, "select");
}

TEST(MysqlSqlPreparedStatements, ProceduresAndCompoundStatementsMakeEveryNameUnknown) {
  SqlPreparedStatements prepared;
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  // A procedure may prepare any name: after a CALL in the same text, nothing is known...
  EXPECT_TRUE(unknown(resolved(prepared, "CALL p(); EXECUTE s", 1)));
  // ...and once it ran, the backend's names are not known either.
  run(prepared, "CALL p()");
  EXPECT_TRUE(unknown(resolved(prepared, "EXECUTE s")));
  run(prepared, "PREPARE s FROM 'SELECT 1'");
  // An EXECUTE inside a compound statement is not resolved: the whole is unknown.
  const auto compound = resolved(prepared, "BEGIN NOT ATOMIC EXECUTE s; END");
  EXPECT_TRUE(unknown(compound));
}

TEST(MysqlSqlPreparedStatements, TheServerNeverPreparesPreparedStatementCommands) {
  // ER_UNSUPPORTED_PS: the classifier calls them unknown rather than guess.
  for (const char* text :
       {"PREPARE s FROM 'EXECUTE t'", "PREPARE s FROM 'DEALLOCATE PREPARE t'",
        "PREPARE s FROM 'PREPARE t FROM ''SELECT 1'''", "EXECUTE IMMEDIATE 'EXECUTE t'"}) {
    const auto c = classify(text);
    ASSERT_EQ(c.statements.size(), 1u) << text;
    EXPECT_TRUE(unknown(c.statements[0])) << text;
  }
}

}  // namespace
}  // namespace portcullis::proto::mysql
