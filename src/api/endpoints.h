// The API's endpoints, one file each; router.cc says which path, method and callers reach them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "api/endpoint.h"

namespace portcullis::api {

// GET /api/v1/health: liveness, and readiness as the audit journal's health (503 when it
// cannot be written, since every command is refused then).
boost::asio::awaitable<std::optional<Response>> get_health(Call& call);

// GET /api/v1/audit: statements with their outcome, or other records, that match the filters.
boost::asio::awaitable<std::optional<Response>> get_audit_search(Call& call);

// GET /api/v1/audit/verify: the hash chain and signed checkpoints, checked.
boost::asio::awaitable<std::optional<Response>> get_audit_verify(Call& call);

// GET /api/v1/audit/stream: records as they are committed, as Server-Sent Events.
boost::asio::awaitable<std::optional<Response>> get_audit_stream(Call& call);

// GET /metrics: Prometheus text format.
boost::asio::awaitable<std::optional<Response>> get_metrics(Call& call);

// GET /api/v1/openapi.json: the OpenAPI 3.0 description of these endpoints.
boost::asio::awaitable<std::optional<Response>> get_openapi(Call& call);

}  // namespace portcullis::api
