// Secrets in recorded statement text: the parse tree says which literals of a statement are
// secrets (passwords, conninfo strings, secret options and settings), PostgreSQL's own
// scanner says where each literal starts and ends, and the literal becomes '***'. Pure
// functions, no I/O. The rules are documented in docs/policy.md, "Secrets in recorded
// statement text".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace simdjson::dom {
class object;
}  // namespace simdjson::dom

namespace portcullis::sql::postgres {

// What a secret literal becomes: a string constant, so the text still reads as SQL.
inline constexpr std::string_view kRedactedLiteral = "'***'";

// How a secret literal is found among the statement's tokens, from what the tree gives.
enum class SecretAnchor {
  // The literal is the token that starts at `location` (an A_Const's location). A sign
  // token there takes the number after it along; U&'...' takes its UESCAPE '...' along.
  literal_at,
  // The literal is the first string constant among the two tokens after the one that starts
  // at `location` (a DefElem's: PASSWORD 'x', ENCRYPTED PASSWORD 'x', an option's name 'x').
  string_after,
  // The literal is the string constant right after a CONNECTION keyword: a subscription's
  // conninfo, which the tree gives without a location.
  string_after_connection,
};

struct SecretLiteral {
  SecretAnchor anchor = SecretAnchor::literal_at;
  // Byte offset into the whole query text, as libpg_query's tree gives it (unused for
  // string_after_connection).
  int64_t location = -1;
};

// The secret literals of one statement. `type` and `node` are the statement's node in
// libpg_query's JSON tree ("CreateRoleStmt" and its fields); `functions` are the functions
// the classifier found called in it, so that only statements calling dblink are walked for
// calls.
std::vector<SecretLiteral> find_secret_literals(std::string_view type,
                                                const simdjson::dom::object& node,
                                                const std::vector<std::string>& functions);

// `text` with each of `secrets` replaced by kRedactedLiteral. `text` is the statement's own
// text and `text_offset` its byte offset in the whole query text the tree's locations count
// in. Empty when `secrets` is empty. When the text cannot be scanned or a literal cannot be
// located, the whole text is withheld: withheld_text(kind).
std::string redact_secret_literals(std::string_view text, std::size_t text_offset,
                                   const std::vector<SecretLiteral>& secrets,
                                   std::string_view kind);

// What is recorded instead of a statement whose secret could not be located:
// "create_role (text withheld: contains a secret)".
std::string withheld_text(std::string_view kind);

}  // namespace portcullis::sql::postgres
