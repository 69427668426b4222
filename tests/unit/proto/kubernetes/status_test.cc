// The Status objects refusals are answered with: what kubectl reads of them.
#include "proto/kubernetes/status.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace portcullis::proto::kubernetes {
namespace {

TEST(Status, ARefusalIsAForbiddenStatusKubectlPrints) {
  const auto code = status_of(gateway::RefusalReason::denied);
  EXPECT_EQ(code.http, 403u);
  const auto status = boost::json::parse(
      status_json(code, "portcullis: blocked by rule \"r\": \"quoted\"\nand a newline"));
  const auto& object = status.as_object();
  EXPECT_EQ(object.at("kind").as_string(), "Status");
  EXPECT_EQ(object.at("apiVersion").as_string(), "v1");
  EXPECT_EQ(object.at("status").as_string(), "Failure");
  EXPECT_EQ(object.at("reason").as_string(), "Forbidden");
  EXPECT_EQ(object.at("code").as_int64(), 403);
  EXPECT_EQ(object.at("message").as_string(),
            "portcullis: blocked by rule \"r\": \"quoted\"\nand a newline");
}

TEST(Status, EachReasonHasItsCode) {
  using gateway::RefusalReason;
  EXPECT_EQ(status_of(RefusalReason::authentication_failed).http, 401u);
  EXPECT_EQ(status_of(RefusalReason::authentication_failed).reason, "Unauthorized");
  EXPECT_EQ(status_of(RefusalReason::busy).http, 429u);
  EXPECT_EQ(status_of(RefusalReason::too_large).http, 413u);
  EXPECT_EQ(status_of(RefusalReason::unavailable).http, 503u);
  EXPECT_EQ(status_of(RefusalReason::session_ended).http, 503u);
  EXPECT_EQ(status_of(RefusalReason::rejected).http, 403u);
  EXPECT_EQ(status_of(RefusalReason::expired).http, 403u);
  EXPECT_EQ(status_of(RefusalReason::access_denied).http, 403u);
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
