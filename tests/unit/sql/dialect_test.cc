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

TEST(DialectTest, MysqlIsRefusedAsUnknownUntilItIsBuilt) {
  for (std::string_view sql : {"SELECT 1", "", "SELECT 1; DROP TABLE t"}) {
    Classification c = classify(sql, Dialect::mysql);
    ASSERT_EQ(c.statements.size(), 1u) << sql;
    EXPECT_EQ(c.statements[0].kind, "unknown");
    EXPECT_EQ(c.statements[0].classes, static_cast<ClassSet>(StatementClass::unknown));
    EXPECT_EQ(c.statements[0].text, sql);
    EXPECT_NE(c.parse_error.find("mysql dialect is not built yet"), std::string::npos)
        << c.parse_error;
  }
}

TEST(DialectTest, CacheClassifiesInItsOwnDialect) {
  ClassificationCache postgres;
  ClassificationCache mysql(Dialect::mysql, 10);
  EXPECT_EQ(postgres.dialect(), Dialect::postgres);
  EXPECT_EQ(mysql.dialect(), Dialect::mysql);
  EXPECT_EQ(postgres.classify("SELECT 1")->statements[0].kind, "select");
  EXPECT_EQ(mysql.classify("SELECT 1")->statements[0].kind, "unknown");
  EXPECT_EQ(mysql.classify("SELECT 1")->statements[0].kind, "unknown");
  EXPECT_EQ(mysql.hits(), 1u);
}

}  // namespace
}  // namespace portcullis::sql
