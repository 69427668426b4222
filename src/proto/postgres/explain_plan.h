// Reading the planner's EXPLAIN (FORMAT JSON) output. Pure: text in, a number out.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::postgres {

// The largest "Plan Rows" anywhere in EXPLAIN (FORMAT JSON) output: the rows of the write
// itself and of every node feeding it, so that a write hidden in a CTE or behind a join is
// counted too. An error when the text is not such a plan.
Result<uint64_t> largest_plan_rows(std::string_view explain_json);

}  // namespace portcullis::proto::postgres
