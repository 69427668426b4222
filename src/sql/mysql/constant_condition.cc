// A small evaluator for constant conditions, with MySQL's conversions: a string compared with
// a number is read as its numeric prefix ('1abc' = 1), strings compare case-insensitively
// (the default collations are _ci), NULL makes a comparison NULL.
#include "sql/mysql/constant_condition.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

namespace {

struct Value {
  enum class Type { null, number, string } type = Type::null;
  double number = 0;
  std::string text;
};

double numeric_prefix(const std::string& s) {
  // strtod reads what MySQL's string-to-number conversion reads, leading spaces included.
  const char* begin = s.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end == begin ? 0 : v;
}

double as_number(const Value& v) {
  return v.type == Value::Type::number ? v.number : numeric_prefix(v.text);
}

// nullopt: cannot evaluate (the caller treats the condition as selecting every row).
class Evaluator {
 public:
  Evaluator(std::span<const Token> t, const Reading& reading) : t_(t), reading_(reading) {}

  std::optional<Value> run() {
    auto v = or_expr();
    if (!v || i_ != t_.size()) return std::nullopt;
    return v;
  }

 private:
  bool word(std::string_view w) {
    if (i_ < t_.size() && is_word(t_[i_], w)) {
      ++i_;
      return true;
    }
    return false;
  }
  bool punct(std::string_view p) {
    if (i_ < t_.size() && is_punct(t_[i_], p)) {
      ++i_;
      return true;
    }
    return false;
  }

  static std::optional<bool> truth(const Value& v) {
    if (v.type == Value::Type::null) return std::nullopt;
    return as_number(v) != 0;
  }
  static Value from_truth(std::optional<bool> b) {
    if (!b) return Value{};
    return Value{.type = Value::Type::number, .number = *b ? 1.0 : 0.0, .text = {}};
  }

  std::optional<Value> or_expr() {
    auto left = xor_expr();
    while (left && (word("or") || punct("||"))) {
      auto right = xor_expr();
      if (!right) return std::nullopt;
      auto a = truth(*left), b = truth(*right);
      if ((a && *a) || (b && *b)) {
        left = from_truth(true);
      } else if (!a || !b) {
        left = from_truth(std::nullopt);
      } else {
        left = from_truth(false);
      }
    }
    return left;
  }

  std::optional<Value> xor_expr() {
    auto left = and_expr();
    while (left && word("xor")) {
      auto right = and_expr();
      if (!right) return std::nullopt;
      auto a = truth(*left), b = truth(*right);
      left = (!a || !b) ? from_truth(std::nullopt) : from_truth(*a != *b);
    }
    return left;
  }

  std::optional<Value> and_expr() {
    auto left = not_expr();
    while (left && (word("and") || punct("&&"))) {
      auto right = not_expr();
      if (!right) return std::nullopt;
      auto a = truth(*left), b = truth(*right);
      if ((a && !*a) || (b && !*b)) {
        left = from_truth(false);
      } else if (!a || !b) {
        left = from_truth(std::nullopt);
      } else {
        left = from_truth(true);
      }
    }
    return left;
  }

  // Counts the parentheses and prefix operators being evaluated: deeper than kMaxNesting
  // cannot be evaluated, which keeps the recursion off the end of the stack.
  struct Nesting {
    explicit Nesting(int& depth) : depth_(depth) { ++depth_; }
    ~Nesting() { --depth_; }
    bool too_deep() const { return depth_ > kMaxNesting; }
    int& depth_;
  };
  static constexpr int kMaxNesting = 64;

  std::optional<Value> not_expr() {
    Nesting nesting(depth_);
    if (nesting.too_deep()) return std::nullopt;
    if (word("not") || punct("!")) {
      auto v = not_expr();
      if (!v) return std::nullopt;
      auto a = truth(*v);
      return from_truth(a ? std::optional<bool>(!*a) : std::nullopt);
    }
    return comparison();
  }

  std::optional<Value> comparison() {
    auto left = primary();
    if (!left) return std::nullopt;
    if (word("is")) {
      const bool negate = word("not");
      std::optional<bool> result;
      if (word("true")) {
        auto a = truth(*left);
        result = a && *a;
      } else if (word("false")) {
        auto a = truth(*left);
        result = a && !*a;
      } else if (word("null")) {
        result = left->type == Value::Type::null;
      } else {
        return std::nullopt;
      }
      return from_truth(negate ? !*result : *result);
    }
    static constexpr std::string_view kOps[] = {"=", "<=>", "<>", "!=", "<", ">", "<=", ">="};
    for (std::string_view op : kOps) {
      if (!punct(op)) continue;
      auto right = primary();
      if (!right) return std::nullopt;
      return compare(*left, *right, op);
    }
    return left;
  }

  static Value compare(const Value& a, const Value& b, std::string_view op) {
    const bool nulls = a.type == Value::Type::null || b.type == Value::Type::null;
    if (op == "<=>") {
      if (nulls) return from_truth(a.type == b.type);
    } else if (nulls) {
      return Value{};
    }
    int order;
    if (a.type == Value::Type::string && b.type == Value::Type::string) {
      const std::string x = to_lower(a.text), y = to_lower(b.text);
      order = x < y ? -1 : (x > y ? 1 : 0);
    } else {
      const double x = as_number(a), y = as_number(b);
      order = x < y ? -1 : (x > y ? 1 : 0);
    }
    bool r = false;
    if (op == "=" || op == "<=>") r = order == 0;
    if (op == "<>" || op == "!=") r = order != 0;
    if (op == "<") r = order < 0;
    if (op == ">") r = order > 0;
    if (op == "<=") r = order <= 0;
    if (op == ">=") r = order >= 0;
    return from_truth(r);
  }

  std::optional<Value> primary() {
    Nesting nesting(depth_);
    if (nesting.too_deep() || i_ >= t_.size()) return std::nullopt;
    if (punct("(")) {
      auto v = or_expr();
      if (!v || !punct(")")) return std::nullopt;
      return v;
    }
    if (punct("-")) {
      auto v = primary();
      if (!v) return std::nullopt;
      if (v->type == Value::Type::null) return v;
      return Value{.type = Value::Type::number, .number = -as_number(*v), .text = {}};
    }
    if (punct("+")) return primary();
    if (word("true")) return from_truth(true);
    if (word("false")) return from_truth(false);
    if (word("null")) return Value{};
    const Token& t = t_[i_];
    if (t.kind == TokenKind::null_escape) {
      ++i_;
      return Value{};
    }
    if (t.kind == TokenKind::number) {
      ++i_;
      return Value{
          .type = Value::Type::number, .number = numeric_prefix(std::string(t.text)), .text = {}};
    }
    if (t.kind == TokenKind::introducer) ++i_;
    if (i_ < t_.size() &&
        (t_[i_].kind == TokenKind::string || t_[i_].kind == TokenKind::national_string)) {
      // Adjacent strings are one: 'a' 'b' is 'ab'.
      Value v{.type = Value::Type::string, .number = 0, .text = {}};
      while (i_ < t_.size() &&
             (t_[i_].kind == TokenKind::string || t_[i_].kind == TokenKind::national_string)) {
        v.text += string_value(t_[i_], reading_);
        ++i_;
      }
      return v;
    }
    return std::nullopt;
  }

  std::span<const Token> t_;
  const Reading& reading_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

// A token that makes the condition depend on the row (a column), or on data (a subquery).
bool depends_on_rows(const Token& t) {
  if (t.kind == TokenKind::quoted_identifier) return true;
  if (t.kind != TokenKind::word) return false;
  static constexpr std::string_view kConstantWords[] = {
      "true",    "false",    "null",    "not",    "and",    "or",   "xor",
      "is",      "like",     "between", "in",     "div",    "mod",  "binary",
      "collate", "interval", "unknown", "escape", "regexp", "rlike"};
  for (std::string_view w : kConstantWords) {
    if (iequals(t.text, w)) return false;
  }
  // select (a subquery) and every other word: a column, or a function that may read one.
  return true;
}

}  // namespace

bool selects_every_row(std::span<const Token> condition, const Reading& reading) {
  if (condition.empty()) return true;
  for (std::size_t i = 0; i < condition.size(); ++i) {
    const Token& t = condition[i];
    // A function call of constants (NOW() > 0) is still constant: its name is no column.
    if (t.kind == TokenKind::word && i + 1 < condition.size() && is_punct(condition[i + 1], "(") &&
        !iequals(t.text, "select") && !iequals(t.text, "exists") && !iequals(t.text, "in")) {
      continue;
    }
    if (depends_on_rows(t)) return false;
  }
  auto v = Evaluator(condition, reading).run();
  if (!v) return true;
  if (v->type == Value::Type::null) return false;
  return as_number(*v) != 0;
}

}  // namespace portcullis::sql::mysql
