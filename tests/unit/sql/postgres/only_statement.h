// The classifier tests' way to one statement.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "sql/postgres/classifier.h"

namespace portcullis::sql::postgres {

// The only statement of `sql`; fails the test when there is not exactly one.
inline Statement one(std::string_view sql) {
  Classification c = classify(sql);
  EXPECT_EQ(c.statements.size(), 1u) << sql;
  EXPECT_TRUE(c.parse_error.empty()) << sql << ": " << c.parse_error;
  if (c.statements.empty()) return {};
  return c.statements.front();
}

}  // namespace portcullis::sql::postgres
