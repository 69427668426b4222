// GET /api/v1/openapi.json: the OpenAPI 3.0 description of the API, written by hand beside the
// endpoints it describes (docs/api.md says the same in prose). Open to anyone: it holds no
// data, and clients generate code from it before they have a token.
#include <string_view>

#include "api/endpoints.h"

namespace portcullis::api {
namespace {

constexpr std::string_view kOpenApi = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "Portcullis REST API",
    "version": "1",
    "description": "The gateway's REST API: health, the audit journal (search, verify, live stream) and metrics. Authenticate with `Authorization: Bearer TOKEN`, where TOKEN is a gateway token, an OIDC JWT or an API key. Admin groups (api.admin_groups) may call everything; auditor groups (api.auditor_groups) may read the journal."
  },
  "paths": {
    "/api/v1/health": {
      "get": {
        "operationId": "getHealth",
        "summary": "Liveness, and readiness as the audit journal's health",
        "security": [],
        "responses": {
          "200": {"description": "Serving; the journal takes writes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"description": "The journal cannot be written: every command is refused until it can", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
        }
      }
    },
    "/api/v1/audit": {
      "get": {
        "operationId": "searchAudit",
        "summary": "Search the journal: statements joined with their outcome, or other records",
        "description": "Requires an auditor or admin group. The newest `limit` matches, oldest first.",
        "parameters": [
          {"$ref": "#/components/parameters/subject"},
          {"$ref": "#/components/parameters/connection"},
          {"$ref": "#/components/parameters/instance"},
          {"$ref": "#/components/parameters/session"},
          {"$ref": "#/components/parameters/credential"},
          {"$ref": "#/components/parameters/verdict"},
          {"name": "event", "in": "query", "description": "Which records; statements (joined with their result record) when absent", "schema": {"$ref": "#/components/schemas/EventType"}},
          {"$ref": "#/components/parameters/since"},
          {"$ref": "#/components/parameters/contains"},
          {"name": "limit", "in": "query", "description": "Newest matches returned", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
          {"name": "before", "in": "query", "description": "Only records whose cursor is below this one: the page before a page whose smallest `cursor` it is", "schema": {"type": "integer", "minimum": 1}}
        ],
        "responses": {
          "200": {"description": "The matches", "content": {"application/json": {"schema": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}}}}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "500": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/audit/verify": {
      "get": {
        "operationId": "verifyAudit",
        "summary": "Check the whole journal: hash chain, kept results and signed checkpoints",
        "description": "Requires an auditor or admin group. A journal that fails the check is a 200 with ok false.",
        "responses": {
          "200": {"description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyReport"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "500": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/audit/stream": {
      "get": {
        "operationId": "streamAudit",
        "summary": "Records as they are committed, as Server-Sent Events",
        "description": "Requires an auditor or admin group. Each event has `id:` the record's cursor (its seq; with several instances sharing a store, its place among every instance's records) and `data:` its JSON; every record type unless `event` is given. Starts after the current tail, from `since` when given, or after the cursor in Last-Event-ID. A comment line is sent every 15 s while idle. An `error` event ends the stream when the journal cannot be read, or when the caller, checked again every 5 s, is no longer a journal reader (code unauthorized).",
        "parameters": [
          {"$ref": "#/components/parameters/subject"},
          {"$ref": "#/components/parameters/connection"},
          {"$ref": "#/components/parameters/instance"},
          {"$ref": "#/components/parameters/session"},
          {"$ref": "#/components/parameters/credential"},
          {"$ref": "#/components/parameters/verdict"},
          {"name": "event", "in": "query", "description": "Which records; every type when absent", "schema": {"$ref": "#/components/schemas/EventType"}},
          {"$ref": "#/components/parameters/since"},
          {"$ref": "#/components/parameters/contains"},
          {"name": "Last-Event-ID", "in": "header", "description": "Resume after this seq", "schema": {"type": "integer", "minimum": 0}}
        ],
        "responses": {
          "200": {"description": "An endless event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "500": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/audit/events/{cursor}": {
      "get": {
        "operationId": "getAuditEvent",
        "summary": "One record, joined with its outcome, with the masked result rows kept for it",
        "description": "Requires an auditor or admin group. `results` is null when no rows were kept.",
        "parameters": [{"name": "cursor", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {
          "200": {"description": "The record", "content": {"application/json": {"schema": {"type": "object", "required": ["event", "results"], "properties": {"event": {"$ref": "#/components/schemas/AuditEvent"}, "results": {"type": "object", "nullable": true, "properties": {"columns": {"type": "array", "items": {"type": "string"}}, "rows": {"type": "array", "items": {"type": "array", "items": {"type": "string", "nullable": true}}}, "truncated": {"type": "boolean"}}}}}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "500": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/me": {
      "get": {
        "operationId": "getMe",
        "summary": "Who the credential is and the API roles its groups give",
        "responses": {
          "200": {"description": "The caller", "content": {"application/json": {"schema": {"type": "object", "required": ["subject", "kind", "groups", "roles"], "properties": {"subject": {"type": "string"}, "kind": {"type": "string", "enum": ["user", "service"]}, "groups": {"type": "array", "items": {"type": "string"}}, "roles": {"type": "object", "properties": {"admin": {"type": "boolean"}, "auditor": {"type": "boolean"}}}}}}}},
          "401": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/console/config": {
      "get": {
        "operationId": "getConsoleConfig",
        "summary": "What the web console's sign-in page offers: the OIDC providers marked `console: true`",
        "security": [],
        "responses": {
          "200": {"description": "The providers", "content": {"application/json": {"schema": {"type": "object", "properties": {"oidc": {"type": "array", "items": {"type": "object", "properties": {"issuer": {"type": "string"}, "client_id": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}}}}}}}}
        }
      }
    },
    "/api/v1/reviews/stream": {
      "get": {
        "operationId": "streamReviews",
        "summary": "The pending reviews the caller may see, as Server-Sent Events",
        "description": "An `reviews` event with `{\"reviews\": [...]}` at the start and whenever the list changes (looked at every 500 ms); a comment line every 15 s while idle. The credential is checked again every 5 s: an `error` event ends the stream once it is refused.",
        "responses": {
          "200": {"description": "An endless event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/reviews": {
      "get": {
        "operationId": "listReviews",
        "summary": "Reviews the caller may see: those it may decide, its own; every review for admin and auditor groups",
        "parameters": [{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "approved", "rejected", "expired", "executed"]}}],
        "responses": {
          "200": {"description": "Newest first, at most 1000", "content": {"application/json": {"schema": {"type": "object", "properties": {"reviews": {"type": "array", "items": {"$ref": "#/components/schemas/Review"}}}}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/reviews/{id}": {
      "get": {
        "operationId": "getReview",
        "summary": "One review (404 also when the caller may not see it)",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The review", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/reviews/{id}/approve": {
      "post": {
        "operationId": "approveReview",
        "summary": "Approve: the caller must be a reviewer the rule names and not the requester; one vote per reviewer",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Comment"}}}},
        "responses": {
          "200": {"description": "The review after the vote (approved once min_approvals reviewers approved)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/reviews/{id}/reject": {
      "post": {
        "operationId": "rejectReview",
        "summary": "Reject: decides the review at once; the held statement fails with the comment",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Comment"}}}},
        "responses": {
          "200": {"description": "The rejected review", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/access-requests": {
      "post": {
        "operationId": "requestAccess",
        "summary": "Ask for just-in-time access to a connection whose access rule has requires_request: true",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["connection", "duration", "reason"], "properties": {
          "connection": {"type": "string"}, "duration": {"type": "string", "description": "30m, 2h, ... at most the rule's max_duration"}, "reason": {"type": "string"}}}}}},
        "responses": {
          "201": {"description": "The access review, pending", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/sessions": {
      "get": {
        "operationId": "listSessions",
        "summary": "Live client sessions (admin groups)",
        "responses": {
          "200": {"description": "The sessions", "content": {"application/json": {"schema": {"type": "object", "properties": {"sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}}}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/sessions/{id}/kill": {
      "post": {
        "operationId": "killSession",
        "summary": "End a live session now (admin groups); its client gets a FATAL error",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "Ended", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}, "killed": {"type": "boolean"}}}}}},
          "202": {"description": "Not a session of this instance: asked of the others sharing the state store, whichever serves it ends it", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}, "killed": {"type": "boolean"}, "asked_instances": {"type": "boolean"}}}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/sessions/{id}/recording": {
      "get": {
        "operationId": "getSessionRecording",
        "summary": "The asciicast v2 recording (masked output) of an SSH session's interactive shell (audit readers)",
        "parameters": [
          {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "part", "in": "query", "required": false, "description": "The shell's number in its session, from 1", "schema": {"type": "integer", "minimum": 1}}
        ],
        "responses": {
          "200": {"description": "The recording", "content": {"application/x-asciicast": {"schema": {"type": "string"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/revocations": {
      "post": {
        "operationId": "revokeSubject",
        "summary": "Refuse every credential of a subject issued up to now and end its live sessions (admin groups)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["subject"], "properties": {"subject": {"type": "string"}, "reason": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "Revoked", "content": {"application/json": {"schema": {"type": "object", "properties": {"subject": {"type": "string"}, "revoked_at": {"type": "string", "format": "date-time"}, "sessions_ended": {"type": "integer", "description": "on this instance"}, "instances_told": {"type": "boolean", "description": "with several instances: whether the others were told to end theirs"}}}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/reload": {
      "post": {
        "operationId": "reloadConfiguration",
        "summary": "Reload the configuration file, as SIGHUP does, on this instance and every other sharing the state store (admin groups); the gateway's log says how it went",
        "responses": {
          "202": {"description": "Asked", "content": {"application/json": {"schema": {"type": "object", "properties": {"reloading": {"type": "boolean"}, "instances_told": {"type": "boolean"}}}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/ssh/certificates": {
      "post": {
        "operationId": "issueSshCertificate",
        "summary": "Certify the caller's ssh-ed25519 public key for SSH logins, for no longer than the credential presented and identity.ssh.max_certificate_ttl (portcullis ssh login)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["public_key"], "properties": {"public_key": {"type": "string", "description": "the line of a .pub file: ssh-ed25519 BASE64 [comment]"}}}}}},
        "responses": {
          "201": {"description": "Certified", "content": {"application/json": {"schema": {"type": "object", "properties": {"certificate": {"type": "string", "description": "the line of KEY-cert.pub"}, "key_id": {"type": "string"}, "serial": {"type": "string"}, "valid_after": {"type": "string", "format": "date-time"}, "valid_before": {"type": "string", "format": "date-time"}}}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/ssh/keys": {
      "post": {
        "operationId": "registerSshKey",
        "summary": "Register a public key to a subject, for SSH logins as that subject with these groups (admin groups; portcullis ssh keys add)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["subject", "public_key"], "properties": {
          "subject": {"type": "string"},
          "groups": {"type": "array", "items": {"type": "string"}},
          "public_key": {"type": "string", "description": "the line of a .pub file: TYPE BASE64 [comment]; ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of at least 2048 bits, not a certificate"},
          "expires_in": {"type": "string", "description": "a duration such as 30d; not with expires_at"},
          "expires_at": {"type": "string", "format": "date-time", "description": "not with expires_in"}}}}}},
        "responses": {
          "201": {"description": "Registered", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SshKey"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      },
      "get": {
        "operationId": "listSshKeys",
        "summary": "Registered public keys, removed ones included, oldest first (admin groups; portcullis ssh keys list)",
        "parameters": [{"name": "subject", "in": "query", "description": "Only this subject's keys", "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The keys", "content": {"application/json": {"schema": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"$ref": "#/components/schemas/SshKey"}}}}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/ssh/keys/{id}": {
      "delete": {
        "operationId": "removeSshKey",
        "summary": "Remove a registered key: it logs in no more (admin groups; portcullis ssh keys remove)",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "Removed", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}, "removed": {"type": "boolean"}}}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "operationId": "getOpenApi",
        "summary": "This document",
        "security": [],
        "responses": {"200": {"description": "OpenAPI 3.0 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    },
    "/metrics": {
      "get": {
        "operationId": "getMetrics",
        "summary": "Prometheus metrics (text exposition format 0.0.4)",
        "description": "Open to anyone on a loopback listener; elsewhere requires an admin group.",
        "responses": {
          "200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      }
    }
  },
  "security": [{"bearer": []}],
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer", "description": "A gateway token, an OIDC JWT or an API key"}
    },
    "parameters": {
      "subject": {"name": "subject", "in": "query", "description": "Who acted", "schema": {"type": "string"}},
      "connection": {"name": "connection", "in": "query", "description": "Which connection", "schema": {"type": "string"}},
      "instance": {"name": "instance", "in": "query", "description": "Which gateway instance recorded it (several instances sharing a store)", "schema": {"type": "string"}},
      "session": {"name": "session", "in": "query", "description": "Which session (its id)", "schema": {"type": "string"}},
      "credential": {"name": "credential", "in": "query", "description": "Which credential logged in, exactly as records name it (`ssh_key ID FINGERPRINT`, `api_key NAME`, ...). Not indexed: narrow with `subject` or `since` on a long journal", "schema": {"type": "string"}},
      "verdict": {"name": "verdict", "in": "query", "schema": {"type": "string", "enum": ["allow", "deny", "prepared", "review_pending", "approved", "rejected", "expired"]}},
      "since": {"name": "since", "in": "query", "description": "Records at or after this time: RFC 3339 with an offset, a date (midnight UTC), or a duration back from now (15m, 2h, 1d)", "schema": {"type": "string"}},
      "contains": {"name": "contains", "in": "query", "description": "Text the command contains, as written (no wildcards)", "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "Refused or failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
          "code": {"type": "string", "description": "bad_request, invalid_parameter, tls_required, unauthorized, forbidden, not_found, conflict, method_not_allowed, payload_too_large, headers_too_large, journal_unavailable, unavailable, internal"},
          "message": {"type": "string"}}}}
      },
      "Health": {
        "type": "object",
        "required": ["status", "audit"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}, "audit": {"type": "string", "enum": ["ok", "unavailable"]}}
      },
      "SshKey": {
        "type": "object",
        "description": "A public key registered to a subject. removed_at and removed_by are null while it is in force.",
        "required": ["id", "subject", "groups", "public_key", "fingerprint", "created_at", "created_by"],
        "properties": {
          "id": {"type": "string"},
          "subject": {"type": "string"},
          "groups": {"type": "array", "items": {"type": "string"}},
          "public_key": {"type": "string"},
          "fingerprint": {"type": "string", "description": "SHA256:... as ssh-keygen -l prints it"},
          "created_at": {"type": "string", "format": "date-time"},
          "created_by": {"type": "string"},
          "expires_at": {"type": "string", "format": "date-time", "nullable": true},
          "removed_at": {"type": "string", "format": "date-time", "nullable": true},
          "removed_by": {"type": "string", "nullable": true}
        }
      },
      "EventType": {"type": "string", "enum": ["connect", "disconnect", "statement", "result", "review", "api", "mcp"]},
      "Review": {
        "type": "object",
        "description": "A held statement (kind statement) or a just-in-time access request (kind access).",
        "required": ["id", "kind", "status", "requester", "connection", "rule", "reviewers", "min_approvals", "approvals", "created", "expires"],
        "properties": {
          "id": {"type": "string"}, "kind": {"type": "string", "enum": ["statement", "access"]},
          "status": {"type": "string", "enum": ["pending", "approved", "rejected", "expired", "executed"]},
          "requester": {"type": "string"}, "protocol": {"type": "string", "description": "Statement: the front end that holds it (postgres)"}, "session": {"type": "string"}, "connection": {"type": "string"},
          "command": {"type": "string", "description": "The held statement, secrets replaced by ***"},
          "rule": {"type": "string"},
          "reviewers": {"type": "object", "properties": {"groups": {"type": "array", "items": {"type": "string"}}, "subjects": {"type": "array", "items": {"type": "string"}}}},
          "min_approvals": {"type": "integer"},
          "approvals": {"type": "array", "items": {"type": "object", "properties": {"reviewer": {"type": "string"}, "comment": {"type": "string"}, "time": {"type": "string", "format": "date-time"}}}},
          "decided_by": {"type": "string"}, "comment": {"type": "string"}, "reason": {"type": "string"},
          "duration_s": {"type": "integer"}, "created": {"type": "string", "format": "date-time"},
          "expires": {"type": "string", "format": "date-time"}, "decided": {"type": "string", "format": "date-time"},
          "grant_expires": {"type": "string", "format": "date-time"}, "executed": {"type": "string", "format": "date-time"},
          "may_decide": {"type": "boolean", "description": "Whether the caller may approve or reject it now"}
        }
      },
      "Session": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "subject": {"type": "string"}, "protocol": {"type": "string"}, "connection": {"type": "string"},
          "client_addr": {"type": "string"}, "started": {"type": "string", "format": "date-time"}, "commands": {"type": "integer"},
          "bytes_in": {"type": "integer"}, "bytes_out": {"type": "integer"}, "held_review": {"type": "string"}
        }
      },
      "Comment": {"type": "object", "properties": {"comment": {"type": "string"}}},
      "AuditEvent": {
        "type": "object",
        "description": "A journal record (field names as docs/audit.md gives them; absent fields are left out). A search hit of a statement also carries its outcome and result_seq.",
        "properties": {
          "seq": {"type": "integer"}, "id": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
          "instance": {"type": "string"}, "event": {"$ref": "#/components/schemas/EventType"}, "session": {"type": "string"},
          "subject": {"type": "string"}, "subject_kind": {"type": "string"}, "groups": {"type": "array", "items": {"type": "string"}},
          "auth": {"type": "string"},
          "credential": {"type": "string", "description": "Which credential logged in: `ssh_key ID SHA256:FINGERPRINT`, `ssh_certificate SERIAL KEY_ID`, `api_key NAME` or `jti JTI`; absent when none is named (a token without `jti`, a record written before the field existed). Never a secret."},
          "client_addr": {"type": "string"}, "connection": {"type": "string"}, "protocol": {"type": "string"},
          "command": {"type": "string"}, "params": {"type": "array", "items": {"type": "string", "nullable": true}},
          "fingerprint": {"type": "string"}, "kinds": {"type": "array", "items": {"type": "string"}}, "classes": {"type": "array", "items": {"type": "string"}},
          "verdict": {"type": "string"}, "rule": {"type": "string"}, "reviewer": {"type": "string"}, "statement": {"type": "string"},
          "rows": {"type": "integer"}, "bytes_in": {"type": "integer"}, "bytes_out": {"type": "integer"},
          "masked": {"type": "object", "additionalProperties": {"type": "integer"}}, "duration_us": {"type": "integer"},
          "error": {"type": "string"}, "result_seq": {"type": "integer"}, "cursor": {"type": "integer", "description": "Search hits: the record's place among every instance's records (what `before` takes)"}, "prev_hash": {"type": "string"}, "hash": {"type": "string"}
        },
        "additionalProperties": true
      },
      "VerifyReport": {
        "type": "object",
        "required": ["ok", "records_checked", "checkpoints_checked", "last_seq", "last_checkpoint_seq", "unanchored_records"],
        "properties": {
          "ok": {"type": "boolean"}, "records_checked": {"type": "integer"}, "checkpoints_checked": {"type": "integer"},
          "external_checkpoints_checked": {"type": "integer"}, "last_seq": {"type": "integer"}, "last_checkpoint_seq": {"type": "integer"},
          "unanchored_records": {"type": "integer", "description": "Records after the last signed checkpoint"},
          "first_bad_seq": {"type": "integer"}, "message": {"type": "string"}
        }
      }
    }
  }
})json";

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_openapi(Call&) {
  co_return json_response(http::status::ok, std::string(kOpenApi));
}

}  // namespace portcullis::api
