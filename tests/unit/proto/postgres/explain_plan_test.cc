#include "proto/postgres/explain_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::proto::postgres {
namespace {

TEST(LargestPlanRows, TakesTheLargestEstimateOfEveryNode) {
  // EXPLAIN (FORMAT JSON) DELETE FROM big WHERE id > 0, as PostgreSQL 15 writes it.
  const std::string plan = R"([{"Plan": {"Node Type": "ModifyTable", "Operation": "Delete",
    "Plan Rows": 0, "Plans": [{"Node Type": "Seq Scan", "Relation Name": "big",
    "Plan Rows": 999, "Plan Width": 6}]}}])";
  auto rows = largest_plan_rows(plan);
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, 999u);
}

TEST(LargestPlanRows, RoundsFractionalEstimatesUp) {
  auto rows = largest_plan_rows(R"([{"Plan": {"Plan Rows": 0.4}}])");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, 1u);
}

TEST(LargestPlanRows, ReadsDeepPlansOfManyJoins) {
  std::string plan = R"({"Plan Rows": 7})";
  for (int i = 0; i < 100; ++i) plan = R"({"Plan Rows": 1, "Plans": [)" + plan + "]}";
  auto rows = largest_plan_rows("[{\"Plan\": " + plan + "}]");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, 7u);
}

TEST(LargestPlanRows, RefusesWhatIsNotAPlan) {
  EXPECT_FALSE(largest_plan_rows("not json"));
  EXPECT_FALSE(largest_plan_rows("[]"));
  EXPECT_FALSE(largest_plan_rows(R"([{"Plan": {"Plan Rows": "many"}}])"));
  EXPECT_FALSE(largest_plan_rows(std::string(5000, '[') + std::string(5000, ']')));
}

TEST(LargestPlanRows, SaturatesHugeEstimates) {
  auto rows = largest_plan_rows(R"([{"Plan": {"Plan Rows": 1e300}}])");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, UINT64_MAX);
}

}  // namespace
}  // namespace portcullis::proto::postgres
