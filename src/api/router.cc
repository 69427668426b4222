// The route table and the checks made before an endpoint runs: the path exists, the method is
// one it serves, the bearer token is valid, and the caller's groups allow it.
#include "api/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "api/bearer_auth.h"
#include "api/endpoints.h"
#include "api/roles.h"

namespace portcullis::api {
namespace {

enum class Access {
  anyone,
  authenticated,    // any valid credential; the endpoint decides what the caller may do
  journal_readers,  // auditor or admin groups
  admins,
  // Anyone on a loopback listener (only local processes reach it, the trust the PostgreSQL
  // listener gives plain TCP there, and a local Prometheus needs no token); admins elsewhere.
  metrics_readers,
};

struct Route {
  std::string_view path;
  http::verb method;
  Access access;
  Handler handler;
};

constexpr std::array kRoutes{
    Route{"/api/v1/health", http::verb::get, Access::anyone, &get_health},
    Route{"/api/v1/openapi.json", http::verb::get, Access::anyone, &get_openapi},
    Route{"/api/v1/audit", http::verb::get, Access::journal_readers, &get_audit_search},
    Route{"/api/v1/audit/verify", http::verb::get, Access::journal_readers, &get_audit_verify},
    Route{"/api/v1/audit/stream", http::verb::get, Access::journal_readers, &get_audit_stream},
    Route{"/api/v1/audit/events/{id}", http::verb::get, Access::journal_readers, &get_audit_event},
    Route{"/api/v1/me", http::verb::get, Access::authenticated, &get_me},
    Route{"/api/v1/console/config", http::verb::get, Access::anyone, &get_console_config},
    Route{"/api/v1/reviews", http::verb::get, Access::authenticated, &get_reviews},
    // Before /api/v1/reviews/{id}, which "stream" would match too.
    Route{"/api/v1/reviews/stream", http::verb::get, Access::authenticated, &get_review_stream},
    Route{"/api/v1/reviews/{id}", http::verb::get, Access::authenticated, &get_review},
    Route{"/api/v1/reviews/{id}/approve", http::verb::post, Access::authenticated,
          &post_review_approve},
    Route{"/api/v1/reviews/{id}/reject", http::verb::post, Access::authenticated,
          &post_review_reject},
    Route{"/api/v1/access-requests", http::verb::post, Access::authenticated, &post_access_request},
    Route{"/api/v1/sessions", http::verb::get, Access::admins, &get_sessions},
    Route{"/api/v1/sessions/{id}/kill", http::verb::post, Access::admins, &post_session_kill},
    Route{"/api/v1/sessions/{id}/recording", http::verb::get, Access::journal_readers,
          &get_session_recording},
    Route{"/api/v1/revocations", http::verb::post, Access::admins, &post_revocation},
    Route{"/api/v1/reload", http::verb::post, Access::admins, &post_reload},
    Route{"/api/v1/ssh/certificates", http::verb::post, Access::authenticated,
          &post_ssh_certificate},
    Route{"/api/v1/ssh/keys", http::verb::post, Access::admins, &post_ssh_key},
    Route{"/api/v1/ssh/keys", http::verb::get, Access::admins, &get_ssh_keys},
    Route{"/api/v1/ssh/keys/{id}", http::verb::delete_, Access::admins, &delete_ssh_key},
    Route{"/metrics", http::verb::get, Access::metrics_readers, &get_metrics},
    Route{"/mcp", http::verb::post, Access::authenticated, &handle_mcp},
    Route{"/mcp", http::verb::get, Access::authenticated, &handle_mcp},
    Route{"/mcp", http::verb::delete_, Access::authenticated, &handle_mcp},
    Route{"/", http::verb::get, Access::anyone, &get_console},
    Route{"/assets/{id}", http::verb::get, Access::anyone, &get_console},
};

// Whether `path` fits `pattern`, where a `{id}` segment matches one non-empty segment of
// letters, digits, '-', '_' or '.'; the matched segments are appended to `params`.
bool path_matches(std::string_view pattern, std::string_view path,
                  std::vector<std::string>* params) {
  std::vector<std::string> found;
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const auto pattern_end = std::min(pattern.find('/'), pattern.size());
    const auto path_end = std::min(path.find('/'), path.size());
    const auto pattern_segment = pattern.substr(0, pattern_end);
    const auto path_segment = path.substr(0, path_end);
    if (pattern_segment == "{id}") {
      if (path_segment.empty() || path_segment.size() > 128) return false;
      for (char c : path_segment)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
          return false;
      found.emplace_back(path_segment);
    } else if (pattern_segment != path_segment) {
      return false;
    }
    pattern.remove_prefix(pattern_end);
    path.remove_prefix(path_end);
  }
  if (params != nullptr) *params = std::move(found);
  return true;
}

// A 401 tells the client how to authenticate (RFC 6750 section 3); `error` only when a token
// was presented and refused.
Response unauthorized(std::string_view message, bool token_presented) {
  auto response = error_response(http::status::unauthorized, "unauthorized", message);
  response.set(http::field::www_authenticate,
               token_presented ? "Bearer realm=\"portcullis\", error=\"invalid_token\""
                               : "Bearer realm=\"portcullis\"");
  return response;
}

Response forbidden(std::string_view needed) {
  return error_response(http::status::forbidden, "forbidden",
                        std::string("this needs a group listed in ") + std::string(needed));
}

// Why `caller` may not use a route of `access`, or nullopt when it may.
std::optional<Response> refusal(Access access, const identity::Identity& caller,
                                const config::ApiConfig& api) {
  const Roles roles = roles_of(caller, api);
  switch (access) {
    case Access::anyone:
    case Access::authenticated:
      return std::nullopt;
    case Access::journal_readers:
      if (roles.may_read_journal()) return std::nullopt;
      return forbidden("api.auditor_groups or api.admin_groups");
    case Access::admins:
    case Access::metrics_readers:
      if (roles.admin) return std::nullopt;
      return forbidden("api.admin_groups");
  }
  return forbidden("api.admin_groups");
}

std::string allowed_methods(std::string_view path) {
  std::string allow;
  for (const auto& route : kRoutes)
    if (path_matches(route.path, path, nullptr)) {
      if (!allow.empty()) allow += ", ";
      const auto method = http::to_string(route.method);
      allow.append(method.data(), method.size());
    }
  return allow;
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> route(const Request& request,
                                                      std::shared_ptr<const ApiContext> context,
                                                      Services& services, RawWriter write,
                                                      std::string client_address) {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target)
    co_return error_response(http::status::bad_request, "bad_request",
                             "the request target is not a valid path and query");
  const std::string_view path = target->encoded_path();
  const Route* found = nullptr;
  std::vector<std::string> path_params;
  for (const auto& route : kRoutes)
    if (route.method == request.method() && path_matches(route.path, path, &path_params)) {
      found = &route;
      break;
    }
  if (found == nullptr) {
    const std::string allow = allowed_methods(path);
    if (allow.empty())
      co_return error_response(http::status::not_found, "not_found", "no such endpoint");
    auto response = error_response(http::status::method_not_allowed, "method_not_allowed",
                                   "this endpoint takes " + allow);
    response.set(http::field::allow, allow);
    co_return response;
  }

  Call call{request,          target->params(),         context,
            std::nullopt,     std::move(path_params),   services,
            std::move(write), std::move(client_address)};
  const bool open = found->access == Access::anyone ||
                    (found->access == Access::metrics_readers && services.loopback_listener);
  if (!open) {
    const auto authorization = request[http::field::authorization];
    auto caller = authenticate_bearer(authorization, *context, *services.state,
                                      std::chrono::system_clock::now());
    if (!caller) {
      spdlog::info("event=api_auth_failed path={} reason={:?}", found->path,
                   caller.error().message);
      co_return unauthorized(caller.error().message, !authorization.empty());
    }
    if (auto refused = refusal(found->access, *caller, context->config->api)) {
      spdlog::info("event=api_forbidden path={} subject={:?}", found->path, caller->subject);
      co_return std::move(*refused);
    }
    call.caller = std::move(*caller);
  }

  std::optional<Response> response;
  try {
    response = co_await found->handler(call);
  } catch (const std::exception& e) {
    // A bug, not an expected failure: answer 500 and keep serving everyone else.
    spdlog::error("event=api_handler_failed path={} error=\"{}\"", found->path, e.what());
    response = error_response(http::status::internal_server_error, "internal",
                              "internal error; the gateway's log has the details");
  }
  spdlog::debug("event=api_request method={} path={} subject={:?} status={}",
                std::string_view(request.method_string()), found->path,
                call.caller ? call.caller->subject : "-",
                response ? static_cast<unsigned>(response->result_int()) : 200u);
  co_return response;
}

}  // namespace portcullis::api
