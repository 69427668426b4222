// GET / and GET /assets/{file}: the web console, a single page that uses only this REST API
// (docs/console.md), and GET /api/v1/console/config, what its sign-in page offers.
//
// Headers are what keep a page that shows journal contents safe to open: a Content-Security-
// Policy that allows only the console's own scripts and styles (no inline script, no eval), so
// that text an attacker put in a statement cannot run as script even if a bug rendered it as
// HTML; no framing (clickjacking an approve button); no referrer. The console keeps its
// credential in memory and sends it as a bearer token: there is no cookie, so no request
// another site makes the browser send carries the caller's authority (no CSRF).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <set>
#include <string>
#include <string_view>

#include "api/console_assets.h"
#include "api/endpoints.h"

namespace portcullis::api {
namespace {

std::string_view content_type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

// The scheme, host and port of `url` ("https://idp.example.com"), or empty when it is not an
// absolute http(s) URL.
std::string origin_of(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "https" && parsed->scheme() != "http")) return {};
  std::string origin(parsed->scheme());
  origin += "://";
  origin += parsed->encoded_host_and_port();
  return origin;
}

// The browser may fetch from this gateway and from the providers the console signs in with
// (their discovery document and token endpoint, on the issuer's origin).
std::string content_security_policy(const config::Config& config) {
  std::set<std::string> origins;
  for (const auto& provider : config.identity.oidc)
    if (provider.console)
      if (auto origin = origin_of(provider.issuer); !origin.empty()) origins.insert(origin);
  std::string connect = "'self'";
  for (const auto& origin : origins) connect += " " + origin;
  // 'wasm-unsafe-eval' lets the SSH replay's terminal emulator (WebAssembly) compile; it allows
  // no JavaScript eval and no inline script.
  return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
         "img-src 'self' data:; "
         "font-src 'self'; connect-src " +
         connect +
         "; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

const ConsoleAsset* find_asset(std::string_view path) {
  for (const auto& asset : console_assets())
    if (asset.path == path) return &asset;
  return nullptr;
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_console(Call& call) {
  auto target = boost::urls::parse_origin_form(call.request.target());
  std::string_view path = target ? std::string_view(target->encoded_path()) : "/";
  const bool page = path == "/";
  if (page) path = "/index.html";
  const ConsoleAsset* asset = find_asset(path);
  if (asset == nullptr) {
    if (page && console_assets().empty())
      co_return error_response(http::status::not_found, "console_not_built",
                               "this gateway was built without its web console (Node.js and "
                               "npm were missing at build time; see docs/console.md)");
    co_return error_response(http::status::not_found, "not_found", "no such file");
  }
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, content_type_of(path));
  // The page is read again each time (it names the current build's files); those files carry
  // their content's hash in their names, so a browser may keep them for good.
  response.set(http::field::cache_control,
               page ? "no-cache" : "public, max-age=31536000, immutable");
  response.set("Content-Security-Policy", content_security_policy(*call.context->config));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
  response.set("Cross-Origin-Opener-Policy", "same-origin");
  response.set("Cross-Origin-Resource-Policy", "same-origin");
  response.body() = std::string(asset->body);
  response.prepare_payload();
  co_return response;
}

boost::asio::awaitable<std::optional<Response>> get_console_config(Call& call) {
  boost::json::array providers;
  for (const auto& provider : call.context->config->identity.oidc) {
    if (!provider.console) continue;
    providers.push_back(
        boost::json::object{{"issuer", provider.issuer},
                            {"client_id", provider.audience},
                            {"scopes", boost::json::array{"openid", "profile", "email"}}});
  }
  co_return json_response(http::status::ok,
                          boost::json::serialize(boost::json::object{{"oidc", providers}}));
}

}  // namespace portcullis::api
