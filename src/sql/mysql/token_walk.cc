// The walk over a statement's tokens. MySQL has no parser the gateway can link, so the walk
// reads the grammar's shapes that matter to classification (table references after FROM and
// JOIN, calls, CTEs, locking clauses) and leaves everything else alone; when in doubt it
// reports more tables, functions and columns, never fewer.
#include "sql/mysql/token_walk.h"

#include <algorithm>
#include <optional>

#include "sql/mysql/catalog_rules.h"
#include "sql/mysql/keywords.h"

namespace portcullis::sql::mysql {

namespace {

// Parentheses nested deeper than this make the statement unknown: a real statement never
// nests so deep, and the walk's CTE recursion must stay bounded.
constexpr int kMaxTokenWalkDepth = 64;

bool is_name(const Token& t) {
  return t.kind == TokenKind::quoted_identifier ||
         (t.kind == TokenKind::word && !is_reserved(t.text));
}

bool is_name_part(const Token& t) {
  // After a '.', reserved words are names too (db.select is a table named select).
  return t.kind == TokenKind::quoted_identifier || t.kind == TokenKind::word;
}

struct Level {
  TableUse list = TableUse::none;  // a comma here starts another table reference
  bool call = false;               // the parentheses of a function call
};

class Walk {
 public:
  Walk(std::span<const Token> tokens, Facts& facts, int depth)
      : t_(tokens), facts_(facts), depth_(depth) {}

  void run(TableUse first) {
    levels_.push_back(Level{.list = first, .call = false});
    expect_ = first;
    std::size_t i = 0;
    while (i < t_.size()) i = step(i);
  }

 private:
  bool word_at(std::size_t i, std::string_view w) const {
    return i < t_.size() && is_word(t_[i], w);
  }
  bool punct_at(std::size_t i, std::string_view p) const {
    return i < t_.size() && is_punct(t_[i], p);
  }

  std::size_t step(std::size_t i) {
    const Token& t = t_[i];
    switch (t.kind) {
      case TokenKind::punctuation:
        return punctuation(i);
      case TokenKind::at_at:
        expect_ = TableUse::none;
        return skip_system_variable(i);
      case TokenKind::word:
        if (auto next = keyword(i)) return *next;
        return name(i);
      case TokenKind::quoted_identifier:
        return name(i);
      default:
        expect_ = TableUse::none;
        return i + 1;
    }
  }

  std::size_t punctuation(std::size_t i) {
    const std::string_view p = t_[i].text;
    if (p == "(") {
      if (static_cast<int>(levels_.size()) + depth_ > kMaxTokenWalkDepth) {
        facts_.too_deep = true;
        return t_.size();
      }
      // A parenthesised table list keeps its use: FROM (a JOIN b).
      levels_.push_back(Level{.list = next_paren_is_call_ ? TableUse::none : expect_,
                              .call = next_paren_is_call_});
      if (next_paren_is_call_) expect_ = TableUse::none;
      next_paren_is_call_ = false;
      if (word_at(i + 1, "select")) facts_.subquery = true;
      return i + 1;
    }
    next_paren_is_call_ = false;
    if (p == ")") {
      const bool call = levels_.back().call;
      if (levels_.size() > 1) levels_.pop_back();
      expect_ = TableUse::none;
      // A derived table's alias: (SELECT ...) AS d, (SELECT ...) d.
      if (!call && levels_.back().list != TableUse::none) return skip_alias(i + 1, {});
      return i + 1;
    }
    if (p == ",") {
      expect_ = levels_.back().list;
      return i + 1;
    }
    expect_ = TableUse::none;
    return i + 1;
  }

  static bool is_scope(const Token& t) {
    return is_word(t, "global") || is_word(t, "session") || is_word(t, "local") ||
           is_word(t, "persist") || is_word(t, "persist_only");
  }

  // @@[scope.]name[.component]
  std::size_t skip_system_variable(std::size_t i) {
    std::size_t j = i + 1;
    if (j + 1 < t_.size() && is_scope(t_[j]) && is_punct(t_[j + 1], ".")) j += 2;
    if (j < t_.size() && is_name_part(t_[j])) ++j;
    if (j + 1 < t_.size() && is_punct(t_[j], ".") && is_name_part(t_[j + 1])) j += 2;
    return j;
  }

  // Keywords that steer the walk; nullopt for a word that is a name (or a keyword that means
  // nothing here).
  std::optional<std::size_t> keyword(std::size_t i) {
    const std::string_view w = t_[i].text;
    const bool in_call = levels_.back().call;
    if (iequals(w, "from")) {
      // EXTRACT(YEAR FROM d), TRIM(x FROM s), SUBSTRING(s FROM 2) name no table.
      if (in_call) return i + 1;
      levels_.back().list = TableUse::read;
      expect_ = TableUse::read;
      return i + 1;
    }
    if (iequals(w, "join") || iequals(w, "straight_join")) {
      expect_ = levels_.back().list == TableUse::write ? TableUse::write : TableUse::read;
      return i + 1;
    }
    if (iequals(w, "table")) {
      // TABLE t as a query (MySQL 8): in a subquery, after UNION, as INSERT's source.
      expect_ = TableUse::read;
      return i + 1;
    }
    if (iequals(w, "with")) return with_clause(i);
    if (iequals(w, "into")) {
      if (word_at(i + 1, "outfile") || word_at(i + 1, "dumpfile")) facts_.into_outfile = true;
      levels_.back().list = TableUse::none;
      expect_ = TableUse::none;
      return i + 1;
    }
    if (iequals(w, "for") && (word_at(i + 1, "update") || word_at(i + 1, "share"))) {
      facts_.locking = true;
      levels_.back().list = TableUse::none;
      expect_ = TableUse::none;
      return i + 2;
    }
    if (iequals(w, "lock") && word_at(i + 1, "in") && word_at(i + 2, "share") &&
        word_at(i + 3, "mode")) {
      facts_.locking = true;
      levels_.back().list = TableUse::none;
      expect_ = TableUse::none;
      return i + 4;
    }
    if ((iequals(w, "next") || iequals(w, "previous")) && word_at(i + 1, "value") &&
        word_at(i + 2, "for")) {
      // MariaDB sequences: NEXT VALUE FOR s advances s for every session.
      const bool next = iequals(w, "next");
      if (next) facts_.write_function = true;
      std::size_t end = i + 3;
      std::string seq = table_name(t_, i + 3, end);
      if (!seq.empty()) add_name(next ? facts_.tables_written : facts_.tables_read, seq);
      return std::max(end, i + 3);
    }
    if (iequals(w, "as")) {
      // An alias is no column: SELECT a AS b, CAST(x AS SIGNED).
      expect_ = TableUse::none;
      if (i + 1 < t_.size() && is_name(t_[i + 1]) && !punct_at(i + 2, "(")) return i + 2;
      return i + 1;
    }
    if ((iequals(w, "use") || iequals(w, "force") || iequals(w, "ignore")) &&
        (word_at(i + 1, "index") || word_at(i + 1, "key"))) {
      // Index hints: USE INDEX [FOR JOIN] (i1, i2) name indexes, not columns.
      std::size_t j = i + 2;
      while (j < t_.size() && !is_punct(t_[j], "(") && j < i + 6) ++j;
      if (j < t_.size() && is_punct(t_[j], "("))
        return std::min(matching_paren(t_, j) + 1, t_.size());
      return j;
    }
    if (iequals(w, "partition") && punct_at(i + 1, "(") && expect_ == TableUse::none &&
        levels_.back().list != TableUse::none) {
      // t PARTITION (p0, p1): partition names.
      return std::min(matching_paren(t_, i + 1) + 1, t_.size());
    }
    // Clauses that end a FROM list.
    static constexpr std::string_view kEndsList[] = {
        "where", "group",     "order",     "having", "limit",  "window",
        "union", "except",    "intersect", "set",    "select", "values",
        "value", "returning", "procedure", "on",     "using",
    };
    for (std::string_view e : kEndsList) {
      if (iequals(w, e)) {
        if (!iequals(w, "on") && !iequals(w, "using")) levels_.back().list = TableUse::none;
        expect_ = TableUse::none;
        return i + 1;
      }
    }
    // Join words keep the expectation: FROM a NATURAL LEFT OUTER JOIN b.
    static constexpr std::string_view kJoinWords[] = {"natural", "left",  "right",   "inner",
                                                      "outer",   "cross", "lateral", "full"};
    for (std::string_view e : kJoinWords) {
      if (iequals(w, e) && !punct_at(i + 1, "(")) return i + 1;
    }
    if (is_reserved(w) && !punct_at(i + 1, "(")) {
      expect_ = TableUse::none;
      return i + 1;
    }
    return std::nullopt;
  }

  // WITH [RECURSIVE] name [(columns)] AS (query) [, ...]: the names are no tables, the
  // queries are walked. WITH ROLLUP, WITH CHECK OPTION and the like are skipped.
  std::size_t with_clause(std::size_t i) {
    std::size_t j = i + 1;
    if (word_at(j, "recursive")) ++j;
    const bool cte =
        j < t_.size() && is_name(t_[j]) && (punct_at(j + 1, "(") || word_at(j + 1, "as"));
    if (!cte) return i + 1;
    while (j < t_.size() && is_name(t_[j])) {
      facts_.cte_names.insert(to_lower(identifier_value(t_[j])));
      ++j;
      if (punct_at(j, "(")) j = std::min(matching_paren(t_, j) + 1, t_.size());
      if (!word_at(j, "as")) break;
      ++j;
      if (!punct_at(j, "(")) break;
      const std::size_t close = matching_paren(t_, j);
      if (depth_ + static_cast<int>(levels_.size()) >= kMaxTokenWalkDepth) {
        facts_.too_deep = true;
        return t_.size();
      }
      walk(t_.subspan(j + 1, close - j - 1), facts_, TableUse::none,
           depth_ + static_cast<int>(levels_.size()));
      j = std::min(close + 1, t_.size());
      if (!punct_at(j, ",")) break;
      ++j;
    }
    expect_ = TableUse::none;
    return j;
  }

  std::size_t skip_alias(std::size_t j, const std::string& table) {
    std::string alias;
    if (word_at(j, "as") && j + 1 < t_.size() && is_name_part(t_[j + 1])) {
      alias = identifier_value(t_[j + 1]);
      j += 2;
    } else if (j < t_.size() && is_name(t_[j]) && !punct_at(j + 1, "(") &&
               !is_syntax_alias_stop(t_[j])) {
      alias = identifier_value(t_[j]);
      j += 1;
    }
    if (!alias.empty() && !table.empty()) facts_.aliases.emplace_back(alias, table);
    return j;
  }

  // Unreserved words that may follow a table reference without being its alias.
  static bool is_syntax_alias_stop(const Token& t) {
    return t.kind == TokenKind::word &&
           (iequals(t.text, "for") || iequals(t.text, "lock") || iequals(t.text, "returning") ||
            iequals(t.text, "nowait") || iequals(t.text, "skip"));
  }

  std::size_t name(std::size_t i) {
    // A dotted chain: a, t.a, db.t.a, db.f.
    std::size_t last = i;
    while (last + 2 < t_.size() && is_punct(t_[last + 1], ".") && is_name_part(t_[last + 2])) {
      last += 2;
    }
    const bool call = punct_at(last + 1, "(");
    const bool single = last == i;
    if (call && !(single && t_[i].kind == TokenKind::word && is_not_function(t_[i].text))) {
      std::string fn;
      for (std::size_t k = i; k <= last; k += 2) {
        if (!fn.empty()) fn.push_back('.');
        fn += to_lower(identifier_value(t_[k]));
      }
      note_function(fn, single);
      add_name(facts_.functions, std::move(fn));
      next_paren_is_call_ = true;
      expect_ = TableUse::none;
      return last + 1;
    }
    if (call) return last + 1;  // IN (...), VALUES (...): a keyword before its parentheses
    if (expect_ != TableUse::none &&
        (t_[i].kind == TokenKind::quoted_identifier || !is_reserved(t_[i].text))) {
      const TableUse use = expect_;
      expect_ = TableUse::none;
      std::size_t end = i;
      std::string table = table_name(t_, i, end);
      const bool cte =
          single && !facts_.cte_names.empty() && facts_.cte_names.contains(to_lower(table));
      if (!cte)
        add_name(use == TableUse::write ? facts_.tables_written : facts_.tables_read, table);
      std::size_t j = end;
      if (word_at(j, "partition") && punct_at(j + 1, "(")) {
        j = std::min(matching_paren(t_, j + 1) + 1, t_.size());
      }
      return skip_alias(j, table);
    }
    if (t_[i].kind == TokenKind::word && single &&
        (is_reserved(t_[i].text) || is_syntax_word(t_[i].text) || is_not_function(t_[i].text))) {
      return i + 1;
    }
    if (punct_at(last + 1, ".") && punct_at(last + 2, "*")) return last + 3;  // t.*
    add_name(facts_.columns, to_lower(identifier_value(t_[last])));
    return last + 1;
  }

  void note_function(const std::string& fn, bool single) {
    if (!single) {
      facts_.unknown_function = true;  // db.f: a stored function
      return;
    }
    if (is_admin_function(fn)) {
      facts_.admin_function = true;
    } else if (is_write_function(fn)) {
      facts_.write_function = true;
    } else if (!is_read_function(fn)) {
      facts_.unknown_function = true;
    }
  }

  std::span<const Token> t_;
  Facts& facts_;
  int depth_;
  std::vector<Level> levels_;
  TableUse expect_ = TableUse::none;
  bool next_paren_is_call_ = false;
};

}  // namespace

void add_name(std::vector<std::string>& list, std::string value) {
  if (!value.empty()) list.push_back(std::move(value));
}

void unique_names(std::vector<std::string>& list) {
  if (list.size() < 2) return;
  std::vector<bool> keep(list.size());
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) keep[i] = seen.insert(list[i]).second;
  }
  std::size_t out = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!keep[i]) continue;
    if (out != i) list[out] = std::move(list[i]);
    ++out;
  }
  list.resize(out);
}

std::size_t matching_paren(std::span<const Token> tokens, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < tokens.size(); ++i) {
    if (is_punct(tokens[i], "(")) ++depth;
    if (is_punct(tokens[i], ")") && --depth == 0) return i;
  }
  return tokens.size();
}

std::string table_name(std::span<const Token> tokens, std::size_t i, std::size_t& end) {
  end = i;
  if (i >= tokens.size() || !is_name_part(tokens[i])) return {};
  std::string name = identifier_value(tokens[i]);
  end = i + 1;
  // db.t; a third part would be a column, which a table reference does not have.
  if (end + 1 < tokens.size() && is_punct(tokens[end], ".") && is_name_part(tokens[end + 1])) {
    name += '.';
    name += identifier_value(tokens[end + 1]);
    end += 2;
  }
  return name;
}

void walk(std::span<const Token> tokens, Facts& facts, TableUse first, int depth) {
  if (depth > kMaxTokenWalkDepth) {
    facts.too_deep = true;
    return;
  }
  Walk(tokens, facts, depth).run(first);
}

}  // namespace portcullis::sql::mysql
