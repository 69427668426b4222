// RowEstimator: the planner's estimate of the rows a write touches, for guardrails with
// `rows_over`. `WHERE id > 0` or `LIKE '%'` bound a DELETE only in syntax; the estimate is
// what the backend's planner expects it to touch, taken before the write is forwarded.
//
// It asks on a side connection (EXPLAIN (FORMAT JSON), the statement's own bound values), so
// that nothing is sent on the session's connection before the decision. Names resolve there as
// in the session: the session's SET search_path is replayed first; a search_path the gateway
// cannot follow (SET LOCAL, set_config) makes the estimate unknown, and the guardrail holds.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proto/postgres/side_connection.h"

namespace portcullis::proto::postgres {

class RowEstimator {
 public:
  // The largest row count in the plan of `statement` (a single statement; `$n` bound to
  // `params` in text form), or an error saying why there is none (the EXPLAIN failed, the
  // connection did). `search_path`: a SET search_path statement to run first, or empty for
  // the role's default.
  boost::asio::awaitable<Result<uint64_t>> estimate(
      std::string_view statement, const std::vector<std::optional<std::string>>& params,
      std::string_view search_path, const BackendTarget& target);
  void close() { connection_.close(); }

 private:
  SideConnection connection_{"portcullis row estimate"};
};

}  // namespace portcullis::proto::postgres
