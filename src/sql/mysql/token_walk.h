// What a run of tokens touches: the tables it reads or writes, the functions it calls, the
// columns it names, and the clauses that change its classes (locking reads, INTO OUTFILE).
#pragma once

#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sql/mysql/lexer.h"

namespace portcullis::sql::mysql {

enum class TableUse { none, read, write };

struct Facts {
  std::vector<std::string> tables_read;
  std::vector<std::string> tables_written;
  std::vector<std::string> functions;         // lower case, qualified as written
  std::vector<std::string> columns;           // last name of each column reference, lower case
  std::unordered_set<std::string> cte_names;  // lower case
  std::vector<std::pair<std::string, std::string>> aliases;  // alias → table, as written
  bool locking = false;           // FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE
  bool into_outfile = false;      // INTO OUTFILE, INTO DUMPFILE
  bool unknown_function = false;  // a function not known to only compute (a stored function)
  bool write_function = false;    // get_lock, nextval, NEXT VALUE FOR, ...
  bool admin_function = false;    // load_file, sys_exec, master_pos_wait, ...
  bool subquery = false;          // a SELECT inside parentheses
  bool too_deep = false;          // nesting the walk would not follow
};

// Walks `tokens`. `first` says what a table reference at the start is (the target list of an
// UPDATE or single-table DELETE is written); every other FROM/JOIN table is read.
void walk(std::span<const Token> tokens, Facts& facts, TableUse first = TableUse::none,
          int depth = 0);

// A table reference's name at tokens[i]: db.t with the quotes removed, case kept; empty when
// tokens[i] is not a name. `end` is set to the index after it.
std::string table_name(std::span<const Token> tokens, std::size_t i, std::size_t& end);

// Index of the ')' matching the '(' at tokens[open], or tokens.size().
std::size_t matching_paren(std::span<const Token> tokens, std::size_t open);

inline bool is_word(const Token& t, std::string_view lower_word) {
  return t.kind == TokenKind::word && iequals(t.text, lower_word);
}
inline bool is_punct(const Token& t, std::string_view p) {
  return t.kind == TokenKind::punctuation && t.text == p;
}

// Appends a name; the lists are made unique once, at the end (unique_names), so that a
// statement with many names costs linear time, not quadratic.
void add_name(std::vector<std::string>& list, std::string value);
// Removes repeated names, keeping each first one in place.
void unique_names(std::vector<std::string>& list);

}  // namespace portcullis::sql::mysql
