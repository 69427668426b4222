// One JSON-RPC 2.0 message read from an HTTP body, and the results and errors written back:
// what MCP clients send, and what the endpoint refuses and with which code and id.
#include "proto/mcp/json_rpc.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <string>
#include <variant>

namespace portcullis::proto::mcp {
namespace {

namespace json = boost::json;

RpcMessage decoded(std::string_view body) {
  auto out = decode_message(body);
  if (auto* failure = std::get_if<RpcFailure>(&out)) {
    ADD_FAILURE() << "refused " << body << ": " << failure->message;
    return {};
  }
  return std::get<RpcMessage>(std::move(out));
}

RpcFailure refused(std::string_view body) {
  auto out = decode_message(body);
  if (!std::holds_alternative<RpcFailure>(out)) {
    ADD_FAILURE() << "accepted " << body;
    return {};
  }
  return std::get<RpcFailure>(std::move(out));
}

TEST(JsonRpcDecode, ReadsARequestWithAStringId) {
  const auto message =
      decoded(R"({"jsonrpc":"2.0","id":"abc-1","method":"tools/call","params":{"name":"query"}})");
  EXPECT_EQ(message.kind, MessageKind::request);
  EXPECT_EQ(message.id, json::value("abc-1"));
  EXPECT_EQ(message.method, "tools/call");
  EXPECT_EQ(message.params, (json::object{{"name", "query"}}));
}

TEST(JsonRpcDecode, ReadsARequestWithAnIntegerId) {
  const auto message = decoded(R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})");
  EXPECT_EQ(message.kind, MessageKind::request);
  ASSERT_TRUE(message.id.is_int64());
  EXPECT_EQ(message.id.get_int64(), 7);
  EXPECT_EQ(message.method, "tools/list");
  EXPECT_TRUE(message.params.empty());
}

TEST(JsonRpcDecode, KeepsIdsAtTheEndsOfTheIntegerRange) {
  EXPECT_EQ(decoded(R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"})").id,
            json::value(INT64_MIN));
  EXPECT_EQ(decoded(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})").id,
            json::value(UINT64_MAX));
  EXPECT_EQ(decoded(R"({"jsonrpc":"2.0","id":"","method":"ping"})").id, json::value(""));
}

TEST(JsonRpcDecode, ReadsANotificationWithoutAnId) {
  const auto message = decoded(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(message.kind, MessageKind::notification);
  EXPECT_TRUE(message.id.is_null());
  EXPECT_EQ(message.method, "notifications/initialized");
}

TEST(JsonRpcDecode, ReadsAResponseAsOneToDrop) {
  for (std::string_view body : {
           R"({"jsonrpc":"2.0","id":3,"result":{}})",
           R"({"jsonrpc":"2.0","id":"s","error":{"code":-32601,"message":"no"}})",
           R"({"jsonrpc":"2.0","id":4,"result":null})",
       }) {
    SCOPED_TRACE(body);
    const auto message = decoded(body);
    EXPECT_EQ(message.kind, MessageKind::response);
    EXPECT_FALSE(message.id.is_null());
    EXPECT_TRUE(message.method.empty());
  }
}

TEST(JsonRpcDecode, KeepsParamsAsSent) {
  const auto message = decoded(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
      R"("capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
  EXPECT_EQ(message.params.at("protocolVersion"), json::value("2025-06-18"));
  EXPECT_TRUE(message.params.at("capabilities").is_object());
  EXPECT_EQ(message.params.at("clientInfo").at("name"), json::value("c"));
}

struct Refusal {
  std::string_view name;
  std::string_view body;
  int code;
  json::value id;  // the id the error is answered with
};

class JsonRpcRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(JsonRpcRefusal, AnswersWithTheCodeAndId) {
  const auto& refusal = GetParam();
  const auto failure = refused(refusal.body);
  EXPECT_EQ(failure.code, refusal.code);
  EXPECT_EQ(failure.id, refusal.id);
  EXPECT_FALSE(failure.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, JsonRpcRefusal,
    ::testing::Values(
        Refusal{"NotJson", "this is not json", kParseError, nullptr},
        Refusal{"Empty", "", kParseError, nullptr},
        Refusal{"Truncated", R"({"jsonrpc":"2.0","id":1,"method":"ping")", kParseError, nullptr},
        Refusal{"TrailingGarbage", R"({"jsonrpc":"2.0","id":1,"method":"ping"} x)", kParseError,
                nullptr},
        Refusal{"LoneSurrogate", R"({"jsonrpc":"2.0","id":"\ud800","method":"ping"})", kParseError,
                nullptr},
        Refusal{"InvalidUtf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", kParseError,
                nullptr},
        Refusal{
            "Batch",
            R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])",
            kInvalidRequest, nullptr},
        Refusal{"EmptyBatch", "[]", kInvalidRequest, nullptr},
        Refusal{"String", R"("ping")", kInvalidRequest, nullptr},
        Refusal{"Number", "42", kInvalidRequest, nullptr},
        Refusal{"Null", "null", kInvalidRequest, nullptr},
        Refusal{"MissingJsonrpc", R"({"id":5,"method":"ping"})", kInvalidRequest, 5},
        Refusal{"OldJsonrpc", R"({"jsonrpc":"1.0","id":5,"method":"ping"})", kInvalidRequest, 5},
        Refusal{"NumericJsonrpc", R"({"jsonrpc":2.0,"id":"a","method":"ping"})", kInvalidRequest,
                "a"},
        Refusal{"NullId", R"({"jsonrpc":"2.0","id":null,"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"FloatId", R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"WholeFloatId", R"({"jsonrpc":"2.0","id":1.0,"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"ObjectId", R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"ArrayId", R"({"jsonrpc":"2.0","id":[1],"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"BoolId", R"({"jsonrpc":"2.0","id":true,"method":"ping"})", kInvalidRequest,
                nullptr},
        Refusal{"MissingMethod", R"({"jsonrpc":"2.0","id":9})", kInvalidRequest, 9},
        Refusal{"MissingMethodNoId", R"({"jsonrpc":"2.0"})", kInvalidRequest, nullptr},
        Refusal{"ResultWithoutId", R"({"jsonrpc":"2.0","result":{}})", kInvalidRequest, nullptr},
        Refusal{"NumericMethod", R"({"jsonrpc":"2.0","id":9,"method":1})", kInvalidRequest, 9},
        Refusal{"NullMethod", R"({"jsonrpc":"2.0","id":9,"method":null})", kInvalidRequest, 9},
        Refusal{"EmptyMethod", R"({"jsonrpc":"2.0","id":"e","method":""})", kInvalidRequest, "e"},
        Refusal{"ParamsArray", R"({"jsonrpc":"2.0","id":11,"method":"tools/call","params":[1]})",
                kInvalidParams, 11},
        Refusal{"ParamsString", R"({"jsonrpc":"2.0","id":"p","method":"tools/call","params":"x"})",
                kInvalidParams, "p"},
        Refusal{"ParamsNull", R"({"jsonrpc":"2.0","id":12,"method":"ping","params":null})",
                kInvalidParams, 12}),
    [](const auto& info) { return std::string(info.param.name); });

// An object holding `depth` levels of nesting in all (the message itself is the first).
std::string nested_message(std::size_t depth) {
  std::string body = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)";
  const std::size_t arrays = depth - 2;
  body += std::string(arrays, '[') + std::string(arrays, ']') + "}}";
  return body;
}

TEST(JsonRpcDecode, TakesNestingUpToTheLimit) {
  const auto message = decoded(nested_message(kMaxDepth));
  EXPECT_EQ(message.kind, MessageKind::request);
  EXPECT_TRUE(message.params.at("a").is_array());
}

TEST(JsonRpcDecode, RefusesNestingDeeperThanTheLimitAsAParseError) {
  const auto failure = refused(nested_message(kMaxDepth + 1));
  EXPECT_EQ(failure.code, kParseError);
  EXPECT_TRUE(failure.id.is_null());
  // Far deeper, as an attacker would send it: refused before a stack is spent on it.
  const auto deep = refused(std::string(100'000, '[') + std::string(100'000, ']'));
  EXPECT_EQ(deep.code, kParseError);
}

TEST(JsonRpcEncode, WritesAResultWithItsId) {
  for (const json::value& id : {json::value("req-1"), json::value(42), json::value(-1)}) {
    SCOPED_TRACE(json::serialize(id));
    const auto out = json::parse(encode_result(id, json::object{{"tools", json::array{}}}));
    const auto& object = out.as_object();
    EXPECT_EQ(object.size(), 3u);
    EXPECT_EQ(object.at("jsonrpc"), json::value("2.0"));
    EXPECT_EQ(object.at("id"), id);
    EXPECT_EQ(object.at("result"), (json::object{{"tools", json::array{}}}));
  }
}

TEST(JsonRpcEncode, WritesAnErrorWithItsCodeMessageAndId) {
  const std::string message = "unknown tool \"q\\\"\"\nnext line \xc3\xa9";
  const auto out = json::parse(encode_error(json::value(8), kInvalidParams, message));
  const auto& object = out.as_object();
  EXPECT_EQ(object.size(), 3u);
  EXPECT_EQ(object.at("jsonrpc"), json::value("2.0"));
  EXPECT_EQ(object.at("id"), json::value(8));
  const auto& error = object.at("error").as_object();
  EXPECT_EQ(error.size(), 2u);
  EXPECT_EQ(error.at("code"), json::value(kInvalidParams));
  EXPECT_EQ(error.at("message"), json::value(message));
}

TEST(JsonRpcEncode, WritesANullIdForAnUnreadableMessage) {
  const auto failure = refused("{");
  const auto out = json::parse(encode_error(failure.id, failure.code, failure.message));
  EXPECT_TRUE(out.at("id").is_null());
  EXPECT_EQ(out.at("error").at("code"), json::value(kParseError));
}

TEST(JsonRpcEncode, AnswersADecodedRequestWithTheSameId) {
  for (std::string_view body : {R"({"jsonrpc":"2.0","id":"x-9","method":"ping"})",
                                R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})"}) {
    SCOPED_TRACE(body);
    const auto message = decoded(body);
    const auto out = json::parse(encode_result(message.id, json::object{}));
    EXPECT_EQ(out.at("id"), json::parse(body).at("id"));
  }
}

}  // namespace
}  // namespace portcullis::proto::mcp
