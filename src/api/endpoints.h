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

// GET /api/v1/audit/events/{cursor}: one record, joined with its outcome, and the masked result
// rows kept for it.
boost::asio::awaitable<std::optional<Response>> get_audit_event(Call& call);

// GET /api/v1/me: the caller's subject, groups and API roles.
boost::asio::awaitable<std::optional<Response>> get_me(Call& call);

// GET / and GET /assets/{file}: the web console; GET /api/v1/console/config: the sign-in
// providers it offers (console.cc).
boost::asio::awaitable<std::optional<Response>> get_console(Call& call);
boost::asio::awaitable<std::optional<Response>> get_console_config(Call& call);

// GET /api/v1/reviews[?status=]: the reviews the caller may see (reviews.cc).
boost::asio::awaitable<std::optional<Response>> get_reviews(Call& call);
// GET /api/v1/reviews/stream: the pending ones, as Server-Sent Events (review_stream.cc).
boost::asio::awaitable<std::optional<Response>> get_review_stream(Call& call);
// GET /api/v1/reviews/{id}
boost::asio::awaitable<std::optional<Response>> get_review(Call& call);
// POST /api/v1/reviews/{id}/approve and /reject, body {"comment": "..."}.
boost::asio::awaitable<std::optional<Response>> post_review_approve(Call& call);
boost::asio::awaitable<std::optional<Response>> post_review_reject(Call& call);
// POST /api/v1/access-requests {"connection", "duration", "reason"}: just-in-time access.
boost::asio::awaitable<std::optional<Response>> post_access_request(Call& call);

// GET /api/v1/sessions, POST /api/v1/sessions/{id}/kill (sessions.cc).
boost::asio::awaitable<std::optional<Response>> get_sessions(Call& call);
boost::asio::awaitable<std::optional<Response>> post_session_kill(Call& call);
// GET /api/v1/sessions/{id}/recording[?part=N]: the asciicast recording of the session's
// (N-th) interactive shell (session_recordings.cc).
boost::asio::awaitable<std::optional<Response>> get_session_recording(Call& call);
// POST /api/v1/revocations {"subject", "reason"}: revoke a subject now.
boost::asio::awaitable<std::optional<Response>> post_revocation(Call& call);
// POST /api/v1/reload: reload the configuration here and on the other instances (reload.cc).
boost::asio::awaitable<std::optional<Response>> post_reload(Call& call);

// POST /api/v1/ssh/certificates {"public_key"}: the caller's key certified for SSH logins
// (ssh_certificates.cc).
boost::asio::awaitable<std::optional<Response>> post_ssh_certificate(Call& call);

// POST /api/v1/ssh/keys {"subject", "groups", "public_key", "expires_in" | "expires_at"},
// GET /api/v1/ssh/keys[?subject=], DELETE /api/v1/ssh/keys/{id}: public keys registered to
// subjects for SSH logins (ssh_keys.cc).
boost::asio::awaitable<std::optional<Response>> post_ssh_key(Call& call);
boost::asio::awaitable<std::optional<Response>> get_ssh_keys(Call& call);
boost::asio::awaitable<std::optional<Response>> delete_ssh_key(Call& call);

// GET /metrics: Prometheus text format.
boost::asio::awaitable<std::optional<Response>> get_metrics(Call& call);
// POST, GET and DELETE /mcp: the Model Context Protocol endpoint (proto/mcp).
boost::asio::awaitable<std::optional<Response>> handle_mcp(Call& call);

// GET /api/v1/openapi.json: the OpenAPI 3.0 description of these endpoints.
boost::asio::awaitable<std::optional<Response>> get_openapi(Call& call);

}  // namespace portcullis::api
