// EXPLAIN (FORMAT JSON) output, read with Boost.JSON.
#include "proto/postgres/explain_plan.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

namespace portcullis::proto::postgres {
namespace {

namespace json = boost::json;

// Each plan level nests two JSON levels ("Plans": [{...}]); a join of many tables nests deeper
// than Boost.JSON's default limit of 32. This bounds the parse and the walk instead.
constexpr int kMaxPlanDepth = 1024;

bool largest_rows(const json::value& node, double& largest, int depth) {
  if (depth > kMaxPlanDepth) return false;
  if (const auto* object = node.if_object()) {
    for (const auto& [key, value] : *object) {
      if (key == "Plan Rows" && value.is_number()) {
        largest = std::max(largest, value.to_number<double>());
      } else if (!largest_rows(value, largest, depth + 1)) {
        return false;
      }
    }
  } else if (const auto* array = node.if_array()) {
    for (const auto& value : *array)
      if (!largest_rows(value, largest, depth + 1)) return false;
  }
  return true;
}

}  // namespace

Result<uint64_t> largest_plan_rows(std::string_view explain_json) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = kMaxPlanDepth;
  const auto plan = json::parse(explain_json, ec, {}, options);
  if (ec) return make_error("the plan cannot be read: " + ec.message());
  double largest = -1;
  if (!largest_rows(plan, largest, 0)) return make_error("the plan nests too deep");
  if (largest < 0) return make_error("the plan has no row estimate");
  if (largest >= 1.8e19) return uint64_t{UINT64_MAX};
  return static_cast<uint64_t>(std::ceil(largest));
}

}  // namespace portcullis::proto::postgres
