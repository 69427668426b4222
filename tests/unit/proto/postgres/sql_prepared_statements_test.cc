// SQL-level EXECUTE resolved as the statement it runs, with its own arguments' effects kept.
#include "proto/postgres/sql_prepared_statements.h"

#include <gtest/gtest.h>

#include "sql/classifier.h"

namespace portcullis::proto::postgres {
namespace {

std::shared_ptr<const sql::Classification> classify(std::string_view text) {
  return std::make_shared<const sql::Classification>(sql::classify(text));
}

TEST(SqlPreparedStatements, ExecuteIsDecidedAsThePreparedStatement) {
  SqlPreparedStatements prepared;
  prepared.apply(*classify("PREPARE wipe AS DELETE FROM t"));
  auto resolved = prepared.resolve(classify("EXECUTE wipe"), nullptr);
  const auto& s = resolved->statements.front();
  EXPECT_EQ(s.kind, "execute");
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_TRUE(s.where_absent);
  EXPECT_TRUE(sql::has(s.classes, sql::StatementClass::write));
}

TEST(SqlPreparedStatements, ArgumentsOfExecuteKeepTheirOwnEffects) {
  SqlPreparedStatements prepared;
  prepared.apply(*classify("PREPARE p(text) AS SELECT $1"));
  auto lifted = prepared.resolve(
      classify("EXECUTE p(set_config('default_transaction_read_only', 'off', false))"), nullptr);
  EXPECT_TRUE(lifted->statements.front().lifts_read_only);
  auto reads = prepared.resolve(classify("EXECUTE p(pg_read_file('/etc/hostname'))"), nullptr);
  const auto& functions = reads->statements.front().functions;
  EXPECT_NE(std::find(functions.begin(), functions.end(), "pg_read_file"), functions.end());
}

TEST(SqlPreparedStatements, ExplainAnalyzeExecuteIsResolvedToo) {
  SqlPreparedStatements prepared;
  prepared.apply(*classify("PREPARE wipe AS DELETE FROM t"));
  auto resolved = prepared.resolve(classify("EXPLAIN ANALYZE EXECUTE wipe"), nullptr);
  const auto& s = resolved->statements.front();
  EXPECT_EQ(s.inner_kind, "delete");
  EXPECT_TRUE(s.where_absent);
  auto unknown = prepared.resolve(classify("EXPLAIN ANALYZE EXECUTE nosuch"), nullptr);
  EXPECT_TRUE(sql::has(unknown->statements.front().classes, sql::StatementClass::unknown));
}

TEST(SqlPreparedStatements, ProtocolStatementsThatExecuteAreFollowed) {
  SqlPreparedStatements prepared;
  prepared.apply(*classify("PREPARE del(int) AS DELETE FROM t WHERE id = $1"));
  // `s` was prepared with Parse as the text EXECUTE del(2).
  auto fallback = [](std::string_view name) -> std::shared_ptr<const sql::Classification> {
    if (name == "s") return classify("EXECUTE del(2)");
    return nullptr;
  };
  auto resolved = prepared.resolve(classify("EXECUTE s"), fallback);
  EXPECT_EQ(resolved->statements.front().inner_kind, "delete");
  EXPECT_TRUE(sql::has(resolved->statements.front().classes, sql::StatementClass::write));
}

TEST(SqlPreparedStatements, ANamePreparedTwiceIsAmbiguousUntilDeallocated) {
  SqlPreparedStatements prepared;
  prepared.apply(*classify("PREPARE p AS SELECT 1"));
  prepared.apply(*classify("PREPARE p AS DELETE FROM t"));
  auto ambiguous = prepared.resolve(classify("EXECUTE p"), nullptr);
  EXPECT_TRUE(sql::has(ambiguous->statements.front().classes, sql::StatementClass::unknown));
  prepared.apply(*classify("DEALLOCATE p"));
  prepared.apply(*classify("PREPARE p AS SELECT 2"));
  auto clear = prepared.resolve(classify("EXECUTE p"), nullptr);
  EXPECT_EQ(clear->statements.front().classes,
            static_cast<sql::ClassSet>(sql::StatementClass::read));
}

}  // namespace
}  // namespace portcullis::proto::postgres
