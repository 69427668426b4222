// The CLI's REST API client against HttpReceiver (a test double standing in for the
// gateway's API): what it sends, and how answers and failures become messages and exit
// statuses.
#include "cli/api_client.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>

#include "http_receiver.h"
#include "support/free_port.h"
#include "support/test_certificates.h"

namespace portcullis::cli {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::HttpReceiver;

constexpr auto kPatience = 10s;

ApiClient client_for(const std::string& url, std::filesystem::path ca_file = {},
                     std::chrono::milliseconds timeout = kApiTimeout) {
  ApiClientOptions options;
  options.url = url;
  options.token = Secret("tok-123.secret");
  options.ca_file = std::move(ca_file);
  options.timeout = timeout;
  auto client = ApiClient::create(std::move(options));
  if (!client) throw std::runtime_error(client.error().message);
  return std::move(*client);
}

TEST(ApiClient, GetSendsTheBearerTokenAndPath) {
  HttpReceiver api({}, Answer{200, R"({"reviews":[{"id":"r-1"}]})"});
  const ApiResult result = client_for(api.url("")).get("/api/v1/reviews?status=pending");
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result.value().at("reviews").at(0).at("id"), "r-1");

  ASSERT_EQ(api.requests().size(), 1u);
  const auto request = api.requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/api/v1/reviews?status=pending");
  EXPECT_EQ(request.header("authorization"), "Bearer tok-123.secret");
  EXPECT_EQ(request.header("accept"), "application/json");
  EXPECT_EQ(request.header("host"), "127.0.0.1:" + std::to_string(api.port()));
  EXPECT_TRUE(request.body.empty());
}

TEST(ApiClient, PostSendsAJsonBody) {
  HttpReceiver api({}, Answer{200, R"({"id":"r-1","status":"approved"})"});
  const ApiResult result =
      client_for(api.url("")).post("/api/v1/reviews/r-1/approve", {{"comment", "looks \"fine\""}});
  ASSERT_TRUE(result) << result.error().message;
  const auto request = api.requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v1/reviews/r-1/approve");
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(boost::json::parse(request.body),
            boost::json::parse(R"({"comment":"looks \"fine\""})"));
}

TEST(ApiClient, KeepsTheBasePathOfTheApiUrl) {
  HttpReceiver api;
  ASSERT_TRUE(client_for(api.url("/portcullis/")).get("/api/v1/sessions"));
  EXPECT_EQ(api.requests().at(0).target, "/portcullis/api/v1/sessions");
}

TEST(ApiClient, EncodesIdsAsOnePathSegment) {
  EXPECT_EQ(path_segment("r-7k3qx9p2m4"), "r-7k3qx9p2m4");
  EXPECT_EQ(path_segment("../x?y=1"), "..%2Fx%3Fy%3D1");
}

TEST(ApiClient, RefusalGivesTheApiMessageAndExitStatusOne) {
  HttpReceiver api(
      {},
      Answer{409, R"({"error":{"code":"already_decided","message":"review r-1 is approved"}})"});
  const ApiResult result = client_for(api.url("")).post("/api/v1/reviews/r-1/reject", {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().exit_status, 1);
  EXPECT_EQ(result.error().http_status, 409u);
  EXPECT_EQ(result.error().code, "already_decided");
  EXPECT_EQ(result.error().message, "review r-1 is approved");
}

TEST(ApiClient, RefusalWithoutTheErrorShapeGivesTheStatus) {
  HttpReceiver api({}, Answer{502, "<html>bad gateway</html>", "text/html"});
  const ApiResult result = client_for(api.url("")).get("/api/v1/sessions");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().exit_status, 1);
  EXPECT_EQ(result.error().message, "the API answered HTTP 502 Bad Gateway");
}

TEST(ApiClient, AnswerThatIsNotJsonIsNotTheApi) {
  HttpReceiver api({}, Answer{200, "<html>hello</html>", "text/html"});
  const ApiResult result = client_for(api.url("")).get("/api/v1/sessions");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().exit_status, 2);
  EXPECT_NE(result.error().message.find("did not answer like the Portcullis API"),
            std::string::npos)
      << result.error().message;
}

TEST(ApiClient, ConnectionRefusedIsAClearErrorWithExitStatusTwo) {
  const std::string where = "127.0.0.1:" + std::to_string(portcullis::testing::free_tcp_port());
  const ApiResult result = client_for("http://" + where).get("/api/v1/sessions");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().exit_status, 2);
  EXPECT_EQ(result.error().message, "cannot reach the API at " + where + ": Connection refused");
}

TEST(ApiClient, ApiThatNeverAnswersTimesOut) {
  HttpReceiver api({}, Answer{.hang = true});
  const auto before = std::chrono::steady_clock::now();
  const ApiResult result = client_for(api.url(""), {}, 300ms).get("/api/v1/sessions");
  ASSERT_FALSE(result);
  EXPECT_LT(std::chrono::steady_clock::now() - before, kPatience);
  EXPECT_EQ(result.error().exit_status, 2);
  EXPECT_NE(result.error().message.find("did not answer within"), std::string::npos)
      << result.error().message;
}

TEST(ApiClient, ErrorsNeverShowTheToken) {
  HttpReceiver api({}, Answer{401, R"({"error":{"code":"unauthorized","message":"bad token"}})"});
  const ApiResult refused = client_for(api.url("")).get("/api/v1/sessions");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.find("tok-123"), std::string::npos);
  const std::string where = "127.0.0.1:" + std::to_string(portcullis::testing::free_tcp_port());
  const ApiResult unreachable = client_for("http://" + where).get("/api/v1/sessions");
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().message.find("tok-123"), std::string::npos);
}

TEST(ApiClient, HttpsVerifiesTheApiWithTheGivenCa) {
  portcullis::testing::TestCertificates certificates;
  HttpReceiver api({}, Answer{200, R"({"sessions":[]})"},
                   testing::ReceiverTls{certificates.cert_file(), certificates.key_file()});
  const ApiResult trusted =
      client_for(api.url("", "localhost"), certificates.ca_file()).get("/api/v1/sessions");
  ASSERT_TRUE(trusted) << trusted.error().message;
  EXPECT_EQ(api.requests().at(0).server_name, "localhost");
  EXPECT_EQ(api.requests().at(0).header("authorization"), "Bearer tok-123.secret");

  // The system's roots do not know the test CA: refused before the token is sent.
  const ApiResult untrusted = client_for(api.url("", "localhost")).get("/api/v1/sessions");
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().exit_status, 2);
  EXPECT_NE(untrusted.error().message.find("is not trusted"), std::string::npos)
      << untrusted.error().message;
  EXPECT_EQ(api.requests().size(), 1u);
}

TEST(ApiClient, RefusesUnusableApiUrls) {
  for (const char* bad : {"ftp://127.0.0.1", "127.0.0.1:18080", "http://127.0.0.1:18080/?x=1"}) {
    ApiClientOptions options;
    options.url = bad;
    options.token = Secret("t");
    EXPECT_FALSE(ApiClient::create(std::move(options))) << bad;
  }
}

TEST(ApiClient, ShowsTextFromTheApiSafely) {
  EXPECT_EQ(printable("DELETE\nFROM\tx\x1b[2J"), "DELETE FROM x\\x1b[2J");
  EXPECT_EQ(printable("a\nb", /*keep_newlines=*/true), "a\nb");
  EXPECT_EQ(shorten("abcdef", 4), "abc…");
  EXPECT_EQ(shorten("héllo", 5), "héllo");
  EXPECT_EQ(short_time("2026-11-25T21:04:05.123456789Z"), "2026-11-25T21:04:05Z");
  EXPECT_EQ(short_time(""), "-");
}

}  // namespace
}  // namespace portcullis::cli
