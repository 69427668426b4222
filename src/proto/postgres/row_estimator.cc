// Planner estimates of the rows a write touches.
#include "proto/postgres/row_estimator.h"

#include "proto/postgres/encoder.h"
#include "proto/postgres/explain_plan.h"

namespace portcullis::proto::postgres {
namespace {

namespace asio = boost::asio;

}  // namespace

asio::awaitable<Result<uint64_t>> RowEstimator::estimate(
    std::string_view statement, const std::vector<std::optional<std::string>>& params,
    std::string_view search_path, const BackendTarget& target) {
  std::string request;
  // Names resolve as in the session: the role's default search_path, then the session's SET.
  MessageWriter(request).begin('Q').cstring("RESET search_path").finish();
  int ready = 1;
  if (!search_path.empty()) {
    MessageWriter(request).begin('Q').cstring(search_path).finish();
    ++ready;
  }
  MessageWriter parse(request);
  parse.begin('P').cstring("").cstring(std::string("EXPLAIN (FORMAT JSON) ") +
                                       std::string(statement));
  parse.int16(0).finish();
  MessageWriter bind(request);
  bind.begin('B').cstring("").cstring("").int16(0).int16(static_cast<int16_t>(params.size()));
  for (const auto& value : params) {
    if (!value) {
      bind.int32(-1);
      continue;
    }
    bind.int32(static_cast<int32_t>(value->size())).bytes(*value);
  }
  bind.int16(0).finish();
  MessageWriter(request).begin('E').cstring("").int32(0).finish();
  MessageWriter(request).begin('S').finish();
  ++ready;
  auto answer = co_await connection_.run(request, target, ready);
  if (!answer) co_return answer.error();
  if (!answer->error.empty()) co_return make_error("the planner refused it: " + answer->error);
  if (answer->rows.empty()) co_return make_error("the planner gave no plan");
  const auto plan = data_row_text(answer->rows.back(), 0);
  if (!plan) co_return make_error("the planner gave no plan");
  co_return largest_plan_rows(*plan);
}

}  // namespace portcullis::proto::postgres
