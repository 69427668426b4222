// PostgreSQL statement classifier. libpg_query parses the text with PostgreSQL's own grammar
// and prints the raw parse tree as JSON; simdjson reads it (MEASURED.md: the cheapest walkable
// tree); statement_analysis.cc classifies each statement, tree_walk.cc collects what it
// touches, secret_redaction.cc cuts secrets out of its text. The rules are documented in
// docs/policy.md, "Statement classification".
#include "sql/postgres/classifier.h"

#include <pg_query.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "sql/postgres/parse_tree.h"
#include "sql/postgres/secret_redaction.h"
#include "sql/postgres/statement_analysis.h"
#include "sql/postgres/tree_walk.h"

namespace portcullis::sql::postgres {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

namespace {

// Nested SQL text (query_to_xml('SELECT query_to_xml(...)')) is classified this deep at most;
// deeper is unknown.
constexpr int kMaxSqlTextNesting = 4;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Classification unparsable(std::string_view sql, std::string error) {
  Classification c;
  Statement s = unknown_statement();
  s.text = std::string(sql);
  c.statements.push_back(std::move(s));
  c.parse_error = std::move(error);
  return c;
}

// libpg_query's fingerprint of one statement's text (hex): the same for statements that
// differ only in constants. Empty when the text does not parse on its own.
std::string fingerprint(const std::string& text) {
  struct Result {
    PgQueryFingerprintResult r;
    ~Result() { pg_query_free_fingerprint_result(r); }
  } result{pg_query_fingerprint(text.c_str())};
  if (result.r.error != nullptr || result.r.fingerprint_str == nullptr) return {};
  return result.r.fingerprint_str;
}

// A thread keeps its tree reader's buffers between statements; one huge statement should not
// pin megabytes for the thread's lifetime.
constexpr std::size_t kMaxRetainedParserCapacity = 4 * 1024 * 1024;

Classification classify_tree(std::string_view sql, const char* json,
                             simdjson::dom::parser& parser) {
  element doc;
  if (auto err = parser.parse(json, std::strlen(json)).get(doc); err != SUCCESS) {
    return unparsable(sql,
                      std::string("cannot read the parse tree: ") + simdjson::error_message(err));
  }
  object root;
  element stmts_el;
  array stmts;
  if (doc.get_object().get(root) != SUCCESS || !get_field(root, "stmts", stmts_el) ||
      stmts_el.get_array().get(stmts) != SUCCESS) {
    return unparsable(sql, "cannot read the parse tree");
  }
  Classification c;
  for (element raw : stmts) {
    object raw_obj;
    if (raw.get_object().get(raw_obj) != SUCCESS) continue;
    const int64_t location = int_field(raw_obj, "stmt_location");
    const int64_t length = int_field(raw_obj, "stmt_len");
    std::string_view type;
    object node;
    const bool has_node = unwrap_field(raw_obj, "stmt", type, node);
    Statement s = has_node ? analyze(type, node, 0) : unknown_statement();
    std::size_t begin =
        std::min(static_cast<std::size_t>(std::max<int64_t>(location, 0)), sql.size());
    std::size_t end =
        length > 0 ? std::min(begin + static_cast<std::size_t>(length), sql.size()) : sql.size();
    std::string_view own = sql.substr(begin, end - begin);
    std::string_view trimmed = trim(own);
    s.text = std::string(trimmed);
    if (has_node) {
      // The tree's locations count in the whole text; the statement's text starts here.
      const std::size_t text_offset = begin + static_cast<std::size_t>(trimmed.data() - own.data());
      s.redacted_text = redact_secret_literals(
          s.text, text_offset, find_secret_literals(type, node, s.functions), s.kind);
    }
    // The fingerprint hashes every value that is not a constant to it, secrets included (a
    // role's password, an option's value, a conninfo): a hash of a secret must not be recorded
    // either, so a statement with secrets is fingerprinted on its redacted text, and a withheld
    // one not at all.
    if (s.redacted_text.empty()) {
      s.fingerprint = fingerprint(s.text);
    } else if (s.redacted_text != withheld_text(s.kind)) {
      s.fingerprint = fingerprint(s.redacted_text);
    }
    c.statements.push_back(std::move(s));
  }
  return c;
}

thread_local int sql_text_nesting = 0;

}  // namespace

Classification classify_nested(std::string_view sql) {
  if (sql_text_nesting >= kMaxSqlTextNesting || sql.find('\0') != std::string_view::npos) {
    return unparsable(sql, "SQL text nested too deep");
  }
  struct Nesting {
    Nesting() { ++sql_text_nesting; }
    ~Nesting() { --sql_text_nesting; }
  } nesting;
  std::string text(sql);
  PgQueryParseResult r = pg_query_parse(text.c_str());
  struct Free {
    PgQueryParseResult& r;
    ~Free() { pg_query_free_parse_result(r); }
  } free_result{r};
  if (r.error != nullptr || r.parse_tree == nullptr) return unparsable(sql, "unparsable SQL text");
  // The caller is walking the thread's shared parser's document: this one needs its own.
  simdjson::dom::parser parser;
  return classify_tree(sql, r.parse_tree, parser);
}

namespace {

// Frees libpg_query's result on every path out.
class ParseResult {
 public:
  explicit ParseResult(PgQueryParseResult r) : r_(r) {}
  ~ParseResult() { pg_query_free_parse_result(r_); }
  ParseResult(const ParseResult&) = delete;
  ParseResult& operator=(const ParseResult&) = delete;
  const PgQueryParseResult* operator->() const { return &r_; }

 private:
  PgQueryParseResult r_;
};

}  // namespace

Classification classify(std::string_view sql) {
  try {
    // The wire protocol ends a query at its first NUL; text that holds one is not what the
    // server would see.
    if (sql.find('\0') != std::string_view::npos) {
      return unparsable(sql, "the text contains a NUL byte");
    }
    std::string text(sql);
    ParseResult result(pg_query_parse(text.c_str()));
    if (result->error != nullptr) {
      std::string message = result->error->message != nullptr ? result->error->message : "";
      if (result->error->cursorpos > 0) {
        message += " at position " + std::to_string(result->error->cursorpos);
      }
      return unparsable(sql, std::move(message));
    }
    if (result->parse_tree == nullptr) return unparsable(sql, "no parse tree");
    thread_local simdjson::dom::parser parser;
    Classification c = classify_tree(sql, result->parse_tree, parser);
    if (parser.capacity() > kMaxRetainedParserCapacity) parser = simdjson::dom::parser{};
    return c;
  } catch (const std::exception& e) {
    return unparsable(sql, std::string("classifier error: ") + e.what());
  } catch (...) {
    return unparsable(sql, "classifier error");
  }
}

}  // namespace portcullis::sql::postgres
