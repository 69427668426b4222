// What the statement analysis files share: reading a statement's tokens by position, and
// turning a walk's facts into a Statement.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "sql/mysql/lexer.h"
#include "sql/mysql/statement_analysis.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

// Statements wrapped in statements (EXPLAIN EXPLAIN ..., PREPARE of a PREPARE) deeper than
// this are unknown.
inline constexpr int kMaxDepth = 4;

using Tokens = std::span<const Token>;

inline bool word_at(Tokens t, std::size_t i, std::string_view w) {
  return i < t.size() && is_word(t[i], w);
}
inline bool punct_at(Tokens t, std::size_t i, std::string_view p) {
  return i < t.size() && is_punct(t[i], p);
}

// GLOBAL, SESSION, LOCAL, PERSIST, PERSIST_ONLY: a SET's or SHOW's scope.
inline bool is_scope_word(const Token& t) {
  return is_word(t, "global") || is_word(t, "session") || is_word(t, "local") ||
         is_word(t, "persist") || is_word(t, "persist_only");
}

// Index of the first `word` at parenthesis depth 0 from `from`, or t.size().
std::size_t find_top(Tokens t, std::size_t from, std::string_view word);

Statement make(std::string kind, ClassSet classes);

// Applies what the walk found. `runs` is false for statements that only store expressions (a
// view's query, a column default): their functions run later, under another statement.
void apply_facts(Statement& s, Facts& f, bool runs);

// Adds the objects `from` touches to `into`.
void merge_objects(Statement& into, const Statement& from);

// insert, replace, update, delete, load_data.
bool is_dml_kind(std::string_view kind);

}  // namespace portcullis::sql::mysql
