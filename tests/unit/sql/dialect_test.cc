#include "sql/dialect.h"

#include <gtest/gtest.h>

#include "sql/classification_cache.h"
#include "sql/classifier.h"

namespace portcullis::sql {
namespace {

TEST(DialectTest, NamesEveryDialect) {
  EXPECT_EQ(to_string(Dialect::postgres), "postgres");
  EXPECT_EQ(to_string(Dialect::mysql), "mysql");
}

TEST(DialectTest, PostgresIsTheDefault) {
  Classification c = classify("DELETE FROM t");
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].kind, "delete");
  EXPECT_TRUE(c.parse_error.empty());
  EXPECT_EQ(classify_postgres("DELETE FROM t").statements[0].kind, "delete");
}

TEST(DialectTest, MysqlTextIsReadByTheMysqlClassifier) {
  // An executable comment is code to MySQL and a comment to PostgreSQL.
  Classification c = classify("SELECT 1 /*! ; DROP TABLE t */", Dialect::mysql);
  ASSERT_EQ(c.statements.size(), 2u);
  EXPECT_EQ(c.statements[0].kind, "select");
  EXPECT_EQ(c.statements[1].kind, "drop_table");
  EXPECT_TRUE(c.parse_error.empty());
  EXPECT_EQ(classify("SELECT 1 /*! ; DROP TABLE t */").statements.size(), 1u);
  EXPECT_TRUE(classify("", Dialect::mysql).statements.empty());
}

TEST(DialectTest, CacheClassifiesInItsOwnDialect) {
  ClassificationCache postgres;
  ClassificationCache mysql(Dialect::mysql, 10);
  EXPECT_EQ(postgres.dialect(), Dialect::postgres);
  EXPECT_EQ(mysql.dialect(), Dialect::mysql);
  EXPECT_EQ(postgres.classify("SELECT 1")->statements[0].kind, "select");
  EXPECT_EQ(postgres.classify("REPLACE INTO t VALUES (1)")->statements[0].kind, "unknown");
  EXPECT_EQ(mysql.classify("REPLACE INTO t VALUES (1)")->statements[0].kind, "replace");
  EXPECT_EQ(mysql.classify("REPLACE INTO t VALUES (1)")->statements[0].kind, "replace");
  EXPECT_EQ(mysql.hits(), 1u);
}

}  // namespace
}  // namespace portcullis::sql
