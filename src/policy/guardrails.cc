// Matching guardrail conditions against classified statements.
#include "policy/guardrails.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

#include "policy/access.h"
#include "policy/name_list.h"

namespace portcullis::policy {
namespace {

std::string_view without_schema(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

template <class List, class Predicate>
bool any_of(const List& list, Predicate predicate) {
  return std::any_of(list.begin(), list.end(), predicate);
}

bool what_matches(const config::GuardrailWhen& when, const sql::Statement& statement) {
  const bool any_stated = !when.statements.empty() || !when.classes.empty() ||
                          !when.functions.empty() || !when.tables.empty();
  if (!any_stated) return true;
  if (any_of(when.statements, [&](const std::string& kind) {
        return kind == statement.kind ||
               (!statement.inner_kind.empty() && kind == statement.inner_kind) ||
               std::find(statement.nested_kinds.begin(), statement.nested_kinds.end(), kind) !=
                   statement.nested_kinds.end();
      }))
    return true;
  if (any_of(when.classes, [&](const std::string& name) {
        for (auto c : sql::class_names(statement.classes))
          if (c == name) return true;
        return false;
      }))
    return true;
  if (!when.functions.empty() && statement.calls_unknown_functions) return true;
  if (any_of(when.functions, [&](const std::string& pattern) {
        return any_of(statement.functions, [&](const std::string& called) {
          return function_name_matches(pattern, called);
        });
      }))
    return true;
  if (any_of(when.tables, [&](const std::string& pattern) {
        return any_of(statement.tables_read,
                      [&](const std::string& t) { return table_matches(pattern, t); }) ||
               any_of(statement.tables_written,
                      [&](const std::string& t) { return table_matches(pattern, t); });
      }))
    return true;
  return false;
}

}  // namespace

bool function_name_matches(std::string_view pattern, std::string_view called) {
  return equal_ignoring_case(without_schema(pattern), without_schema(called));
}

bool table_matches(std::string_view pattern, std::string_view table) {
  const std::string p(pattern);
  const std::string full(table);
  if (fnmatch(p.c_str(), full.c_str(), 0) == 0) return true;
  const std::string bare(without_schema(table));
  return bare != full && fnmatch(p.c_str(), bare.c_str(), 0) == 0;
}

bool writes_rows(const sql::Statement& statement) {
  auto is_write = [](std::string_view kind) {
    return kind == "insert" || kind == "update" || kind == "delete" || kind == "merge";
  };
  return is_write(statement.kind) || is_write(statement.inner_kind) ||
         std::any_of(statement.nested_kinds.begin(), statement.nested_kinds.end(),
                     [&](const std::string& kind) { return is_write(kind); });
}

bool guardrail_matches(const config::GuardrailWhen& when, const sql::Statement& statement,
                       std::string_view connection, const identity::Identity& identity,
                       std::optional<uint64_t> estimated_rows) {
  // A guardrail on programs, paths or options is about ssh command lines, one on verbs,
  // resources, namespaces or names about kubernetes requests: never a statement.
  if (when.names_ssh_conditions() || when.names_kubernetes_conditions()) return false;
  if (!when.connections.empty() && !contains(when.connections, connection)) return false;
  if (when.rows_over) {
    if (!writes_rows(statement)) return false;
    if (estimated_rows && *estimated_rows <= *when.rows_over) return false;
  }
  if (!who_matches(when.who, identity)) return false;
  switch (when.where) {
    case config::WhereCondition::any:
      break;
    case config::WhereCondition::absent:
      if (!statement.where_absent) return false;
      break;
    case config::WhereCondition::present:
      if (statement.where_absent) return false;
      break;
  }
  return what_matches(when, statement);
}

}  // namespace portcullis::policy
