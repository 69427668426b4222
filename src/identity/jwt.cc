// Splitting, decoding and JSON-parsing a compact JWT; the untrusted-input front of identity/.
#include "identity/jwt.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "identity/base64url.h"

namespace portcullis::identity {
namespace {

// Nesting allowed in a header or payload; real claims sets are two or three levels deep.
constexpr std::size_t kMaxJsonDepth = 16;

Result<boost::json::object> decode_json_part(std::string_view encoded, std::string_view part) {
  auto bytes = base64url_decode(encoded);
  if (!bytes) return make_error(fmt::format("malformed token: {} is not valid base64url", part));
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*bytes, ec, {}, options);
  if (ec) return make_error(fmt::format("malformed token: {} is not valid JSON", part));
  auto* object = value.if_object();
  if (object == nullptr)
    return make_error(fmt::format("malformed token: {} is not a JSON object", part));
  return std::move(*object);
}

}  // namespace

Result<Jwt> parse_jwt(std::string_view token) {
  if (token.empty()) return make_error("no token presented");
  if (token.size() > kMaxTokenLength)
    return make_error(fmt::format("token too long (more than {} bytes)", kMaxTokenLength));
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return make_error("malformed token: expected three dot-separated parts");

  Jwt jwt;
  auto header = decode_json_part(token.substr(0, first), "header");
  if (!header) return header.error();
  jwt.header = std::move(*header);

  const auto* alg = jwt.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string())
    return make_error("malformed token: header has no \"alg\" string");
  jwt.alg = std::string(alg->get_string());
  if (const auto* kid = jwt.header.if_contains("kid")) {
    if (!kid->is_string()) return make_error("malformed token: header \"kid\" is not a string");
    jwt.kid = std::string(kid->get_string());
  }
  // RFC 7515 4.1.11: extensions marked critical must be understood; this gateway knows none.
  if (jwt.header.contains("crit"))
    return make_error("token uses critical header extensions, which are not supported");

  auto payload = decode_json_part(token.substr(first + 1, second - first - 1), "payload");
  if (!payload) return payload.error();
  jwt.payload = std::move(*payload);

  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature) return make_error("malformed token: signature is not valid base64url");
  jwt.signature = std::move(*signature);
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

std::string jws_signing_input(const boost::json::object& header,
                              const boost::json::object& payload) {
  return base64url_encode(boost::json::serialize(header)) + "." +
         base64url_encode(boost::json::serialize(payload));
}

}  // namespace portcullis::identity
