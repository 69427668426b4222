// Constants in the parse tree; the forms recognised are documented in docs/policy.md
// ("DELETE or UPDATE without WHERE").
#include "sql/postgres/constant_expressions.h"

#include <cstdlib>

#include "sql/postgres/parse_tree.h"

namespace portcullis::sql::postgres {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

bool clearly_true(std::string_view text) {
  std::string t = lower(text);
  auto b = t.find_first_not_of(" \t\r\n");
  auto e = t.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return false;
  t = t.substr(b, e - b + 1);
  return t == "on" || t == "1" || std::string_view("true").starts_with(t) ||
         std::string_view("yes").starts_with(t);
}

std::optional<std::string> const_text(element e) {
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return std::nullopt;
  if (type == "TypeCast") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    return const_text(arg);
  }
  if (type != "A_Const" || bool_field(node, "isnull")) return std::nullopt;
  element v;
  object inner;
  if (get_field(node, "sval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "sval"));
  }
  if (get_field(node, "ival", v) && v.get_object().get(inner) == SUCCESS) {
    return std::to_string(int_field(inner, "ival"));
  }
  if (get_field(node, "fval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "fval"));
  }
  if (get_field(node, "boolval", v) && v.get_object().get(inner) == SUCCESS) {
    return bool_field(inner, "boolval") ? "true" : "false";
  }
  if (get_field(node, "bsval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "bsval"));
  }
  return std::nullopt;
}

namespace {

bool is_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool is_param(element e) {
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return false;
  if (type == "ParamRef") return true;
  element arg;
  return type == "TypeCast" && get_field(node, "arg", arg) && is_param(arg);
}

bool same_column(object a, object b) {
  element fa, fb;
  if (!get_field(a, "fields", fa) || !get_field(b, "fields", fb)) return false;
  std::string na = dotted_name(fa), nb = dotted_name(fb);
  return !na.empty() && na == nb;
}

std::optional<bool> compare_consts(std::string_view op, element l, element r, bool params_true) {
  if (params_true && (is_param(l) || is_param(r)) && (is_param(l) || const_text(l)) &&
      (is_param(r) || const_text(r)))
    return true;  // $1 = $2, $1 = 1: the caller's values decide, so it may hold for every row
  std::string_view lt, rt;
  object ln, rn;
  if (unwrap(l, lt, ln) && unwrap(r, rt, rn) && lt == "ColumnRef" && rt == "ColumnRef" &&
      same_column(ln, rn)) {
    // x = x holds for every row where x is not null.
    if (op == "=" || op == "<=" || op == ">=") return true;
    return std::nullopt;
  }
  auto a = const_text(l), b = const_text(r);
  if (!a || !b) return std::nullopt;
  int cmp = 0;
  if (is_numeric(*a) && is_numeric(*b)) {
    double x = std::strtod(a->c_str(), nullptr), y = std::strtod(b->c_str(), nullptr);
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  } else {
    cmp = a->compare(*b);
    cmp = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
  }
  if (op == "=") return cmp == 0;
  if (op == "<>" || op == "!=") return cmp != 0;
  if (op == "<") return cmp < 0;
  if (op == ">") return cmp > 0;
  if (op == "<=") return cmp <= 0;
  if (op == ">=") return cmp >= 0;
  return std::nullopt;
}

}  // namespace

std::optional<bool> const_bool(element e, int depth, bool params_true) {
  if (depth > 64) return std::nullopt;
  if (params_true && is_param(e)) return true;
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return std::nullopt;
  if (type == "BooleanTest") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    auto v = const_bool(arg, depth + 1, params_true);
    if (!v) return std::nullopt;
    std::string_view test = str_field(node, "booltesttype");
    if (test == "IS_TRUE" || test == "IS_NOT_FALSE") return *v;
    if (test == "IS_FALSE" || test == "IS_NOT_TRUE") return !*v;
    return std::nullopt;
  }
  if (type == "A_Const" || type == "TypeCast") {
    auto text = const_text(e);
    if (!text) return std::nullopt;
    if (clearly_true(*text)) return true;
    std::string t = lower(*text);
    if (t == "false" || t == "f" || t == "off" || t == "0" || t == "no" || t == "n") return false;
    return std::nullopt;
  }
  if (type == "A_Expr") {
    if (str_field(node, "kind") != "AEXPR_OP") return std::nullopt;
    element name, l, r;
    if (!get_field(node, "name", name) || !get_field(node, "lexpr", l) ||
        !get_field(node, "rexpr", r)) {
      return std::nullopt;
    }
    std::string last;
    dotted_name(name, &last);
    return compare_consts(last, l, r, params_true);
  }
  if (type == "BoolExpr") {
    std::string_view op = str_field(node, "boolop");
    element args_el;
    array args;
    if (!get_field(node, "args", args_el) || args_el.get_array().get(args) != SUCCESS) {
      return std::nullopt;
    }
    if (op == "NOT_EXPR") {
      for (element a : args) {
        auto v = const_bool(a, depth + 1, params_true);
        if (v) return !*v;
        return std::nullopt;
      }
      return std::nullopt;
    }
    bool is_or = op == "OR_EXPR";
    bool all_known = true;
    for (element a : args) {
      auto v = const_bool(a, depth + 1, params_true);
      if (v && *v == is_or) return is_or;  // OR with a true arm, AND with a false arm
      if (!v) all_known = false;
    }
    if (all_known) return !is_or;
    return std::nullopt;
  }
  if (type == "NullTest") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    std::string_view at;
    object an;
    if (!unwrap(arg, at, an) || at != "A_Const") return std::nullopt;
    bool is_null = bool_field(an, "isnull");
    return str_field(node, "nulltesttype") == "IS_NOT_NULL" ? !is_null : is_null;
  }
  return std::nullopt;
}

}  // namespace portcullis::sql::postgres
