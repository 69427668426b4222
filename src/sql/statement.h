// What the classifier says about SQL text: one Statement per statement in the text, with
// the facts guardrails and grants decide on. Protocol-neutral: PostgreSQL fills it from
// libpg_query's parse tree, MySQL and MariaDB (sql/mysql/) from the tokens of their lexing
// rules, with their kinds listed in sql/mysql/classifier.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::sql {

// Statement classes (INTERFACE.md). A statement can be in several: a SELECT with a
// writable CTE is read and write; SELECT pg_read_file(...) is read and admin.
enum class StatementClass : uint32_t {
  read = 1u << 0,
  write = 1u << 1,
  ddl = 1u << 2,
  dcl = 1u << 3,          // GRANT/REVOKE, roles, SET ROLE, SET SESSION AUTHORIZATION
  admin = 1u << 4,        // server-level statements, dangerous functions, server files
  transaction = 1u << 5,  // BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...
  session = 1u << 6,      // SET/SHOW/RESET of harmless settings, DISCARD, LISTEN, ...
  unknown = 1u << 7,      // the grammar rejects it, or the classifier cannot place it
};

using ClassSet = uint32_t;

inline constexpr ClassSet operator|(StatementClass a, StatementClass b) {
  return static_cast<ClassSet>(a) | static_cast<ClassSet>(b);
}
inline constexpr bool has(ClassSet set, StatementClass c) {
  return (set & static_cast<ClassSet>(c)) != 0;
}

std::string_view to_string(StatementClass c);
// Names of the classes in a set, in the enum's order.
std::vector<std::string_view> class_names(ClassSet set);

// How COPY ... TO STDOUT / FROM STDIN shapes its rows, from the statement's options (the
// CopyOutResponse says only text or binary).
struct CopyOptions {
  std::string format = "text";  // "text", "csv" or "binary"
  // As written in the statement; empty when not given (the format's default applies).
  std::string delimiter;
  std::string quote;
  std::string escape;
  std::optional<std::string> null;
  bool header = false;
  std::string table;                 // the relation as written, empty for COPY (query)
  std::vector<std::string> columns;  // the column list, empty when none was written
};

struct Statement {
  // Lower-case name of PostgreSQL's statement type as documented in docs/policy.md:
  // "select", "insert", "update", "delete", "merge", "copy_from", "copy_to",
  // "copy_program", "create_table", "drop_table", "truncate", "grant", "set", "do",
  // "call", "execute", "prepare", "explain", "begin", ... ; "unknown" when unparsable.
  std::string kind;
  // For EXPLAIN, PREPARE and CREATE RULE-like wrappers: the kind of the statement inside
  // ("delete" for EXPLAIN ANALYZE DELETE ..., "update" for PREPARE p AS UPDATE ...).
  // Empty otherwise. Guardrails on statement kinds match `kind` or `inner_kind`.
  std::string inner_kind;
  // Kinds of the data-modifying statements anywhere inside this one, itself included
  // ("delete" for WITH d AS (DELETE ...) SELECT ...). Guardrails on statement kinds match
  // these too, so a write cannot hide in a CTE.
  std::vector<std::string> nested_kinds;
  ClassSet classes = 0;
  // Relations as written, lower-cased where unquoted: "orders", "public.orders".
  std::vector<std::string> tables_read;
  std::vector<std::string> tables_written;
  // Every function called anywhere in the tree, lower-cased, schema-qualified as written:
  // "now", "pg_catalog.pg_read_file".
  std::vector<std::string> functions;
  // UPDATE or DELETE with no WHERE, or with a WHERE that is constant true (WHERE true,
  // WHERE 1=1, WHERE 'a'='a') — the statement itself or one nested in it (a writable CTE).
  bool where_absent = false;
  // SET/RESET/SHOW: the setting's name, lower-cased ("all" for RESET ALL).
  std::string setting;
  // The statement would open or switch to a read-write transaction or session:
  // BEGIN/START TRANSACTION READ WRITE, SET TRANSACTION READ WRITE,
  // SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE, SET (or set_config of)
  // default_transaction_read_only / transaction_read_only to off.
  bool lifts_read_only = false;
  // The statement would change how the server reads later query text (client_encoding,
  // standard_conforming_strings, by SET, RESET, set_config or ALTER ... SET), or might
  // (set_config with a computed name): the classifier reads text as UTF-8 with standard
  // strings, and the two readings must never diverge.
  bool changes_text_reading = false;
  // The statement runs code whose calls the classifier cannot see or name: a DO block, a
  // fast-path FunctionCall by an unknown OID. A guardrail on `functions` matches it, since
  // it cannot be shown not to call them.
  bool calls_unknown_functions = false;
  // The statement reads every table of a schema or of the database (schema_to_xml,
  // database_to_xml): `tables_read` cannot name them. Class unknown as well.
  bool touches_all_tables = false;
  // PREPARE name AS ... / EXECUTE name / DEALLOCATE name: the prepared statement's name.
  std::string prepared_name;
  // FETCH / MOVE / CLOSE / DECLARE: the cursor or portal it names (a portal bound with the extended
  // protocol is a cursor too: the session decides such a FETCH as the statement behind the portal).
  std::string cursor_name;
  // Column lineage for masking: the last name of every column reference anywhere in the
  // statement (lower-cased where unquoted), and whether a whole row of a relation is used as
  // a value (`row_to_json(t)`, `t::text`, `count(t.*)`). A top-level `SELECT *` is not one:
  // PostgreSQL expands it into the table's own columns.
  std::vector<std::string> columns_referenced;
  bool whole_row_reference = false;
  // The statement's own text within the whole (from libpg_query's stmt_location/len).
  std::string text;
  // COPY to the client or from it (kinds copy_to, copy_from): its row format.
  std::optional<CopyOptions> copy;
  // libpg_query's fingerprint (pg_query_fingerprint, 16 hex digits) of `text`, or of
  // `redacted_text` when the statement holds a secret, since the fingerprint hashes secrets
  // that are not constants to it (a role's password). Equal for statements that differ only in
  // constants. Empty for text the grammar rejects and for withheld text.
  std::string fingerprint;
  // `text` with each secret literal (a password, a conninfo with a password, a secret option
  // or setting value) replaced by '***', for records that must not keep secrets; or, when a
  // secret cannot be located exactly, "<kind> (text withheld: contains a secret)". Empty when
  // the statement holds no secret the parse tree shows (sql/postgres/secret_redaction.h).
  std::string redacted_text;
};

struct Classification {
  std::vector<Statement> statements;
  // Set when the grammar rejects the text: then `statements` holds one Statement of kind
  // "unknown" and class unknown, with the whole text.
  std::string parse_error;

  ClassSet classes() const {
    ClassSet all = 0;
    for (const auto& s : statements) all |= s.classes;
    return all;
  }
};

}  // namespace portcullis::sql
