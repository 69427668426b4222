// Redaction of the values an ErrorResponse or NoticeResponse may quote, for a statement that
// reads columns the masking profile masks by a column rule. Such a value is masked whatever
// it holds, so content detection cannot decide what to keep: `select password_hash::int`
// fails with `invalid input syntax for type integer: "<the hash>"`. Pure: a message body in,
// a rewritten body out.
// Reference: https://www.postgresql.org/docs/15/protocol-error-fields.html
#pragma once

#include <string>
#include <string_view>

namespace portcullis::proto::postgres {

// The marker that stands where a quoted value was.
inline constexpr std::string_view kRedactedValue = "***";

// Rewrites `body` into `out`: in the message (M), everything between its first and its last
// double quote is replaced by the marker (PostgreSQL quotes the values it echoes; identifiers
// in quotes go too, which costs a name, never a value); the fields that quote data or
// statement text — detail (D), hint (H), context (W), internal query (q) and any field this
// code does not know — are left out. Severity, SQLSTATE, position, source location and the
// schema, table, column, type and constraint names are kept. Returns false (and leaves `out`
// empty) when the body is malformed: the caller must not forward it.
bool redact_error_values(std::string_view body, std::string& out);

}  // namespace portcullis::proto::postgres
