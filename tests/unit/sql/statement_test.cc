#include "sql/statement.h"

#include <gtest/gtest.h>

namespace portcullis::sql {
namespace {

TEST(StatementClassTest, NamesEveryClass) {
  EXPECT_EQ(to_string(StatementClass::read), "read");
  EXPECT_EQ(to_string(StatementClass::write), "write");
  EXPECT_EQ(to_string(StatementClass::ddl), "ddl");
  EXPECT_EQ(to_string(StatementClass::dcl), "dcl");
  EXPECT_EQ(to_string(StatementClass::admin), "admin");
  EXPECT_EQ(to_string(StatementClass::transaction), "transaction");
  EXPECT_EQ(to_string(StatementClass::session), "session");
  EXPECT_EQ(to_string(StatementClass::unknown), "unknown");
}

TEST(StatementClassTest, ListsClassNamesInEnumOrder) {
  ClassSet set = StatementClass::admin | StatementClass::read;
  set |= static_cast<ClassSet>(StatementClass::unknown);
  EXPECT_EQ(class_names(set), (std::vector<std::string_view>{"read", "admin", "unknown"}));
  EXPECT_TRUE(class_names(0).empty());
}

TEST(StatementClassTest, ClassificationUnitesClassesOfAllStatements) {
  Classification c;
  c.statements.resize(2);
  c.statements[0].classes = static_cast<ClassSet>(StatementClass::read);
  c.statements[1].classes = static_cast<ClassSet>(StatementClass::ddl);
  EXPECT_EQ(c.classes(), StatementClass::read | StatementClass::ddl);
}

}  // namespace
}  // namespace portcullis::sql
