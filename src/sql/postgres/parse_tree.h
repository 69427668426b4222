// Readers over libpg_query's JSON parse tree as simdjson's DOM gives it: one set, shared by
// the statement classifier and the secret redaction. Fields a node leaves out (libpg_query
// omits zeros, false and empty lists) read as their zero value.
#pragma once

#include <simdjson.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::sql::postgres {

// Names in the tree compare case-insensitively where PostgreSQL folds them.
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool get_field(simdjson::dom::object o, std::string_view key, simdjson::dom::element& out) {
  return o.at_key(key).get(out) == simdjson::SUCCESS;
}

inline bool has_field(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  return get_field(o, key, e);
}

inline std::string_view str_field(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  std::string_view s;
  if (get_field(o, key, e) && e.get_string().get(s) == simdjson::SUCCESS) return s;
  return {};
}

inline bool bool_field(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  bool b = false;
  if (get_field(o, key, e) && e.get_bool().get(b) == simdjson::SUCCESS) return b;
  return false;
}

// Integer fields that equal 0 are left out of libpg_query's JSON.
inline int64_t int_field(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  int64_t i = 0;
  if (get_field(o, key, e) && e.get_int64().get(i) == simdjson::SUCCESS) return i;
  return 0;
}

// Node names are PascalCase ("SelectStmt", "A_Const"); field names are not.
inline bool is_node_name(std::string_view key) {
  return !key.empty() && key.front() >= 'A' && key.front() <= 'Z';
}

// {"SelectStmt": {...}} → ("SelectStmt", {...}).
inline bool unwrap(simdjson::dom::element e, std::string_view& type, simdjson::dom::object& inner) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS || o.size() != 1) return false;
  auto f = *o.begin();
  if (!is_node_name(f.key)) return false;
  type = f.key;
  return f.value.get_object().get(inner) == simdjson::SUCCESS;
}

inline bool unwrap_field(simdjson::dom::object o, std::string_view key, std::string_view& type,
                         simdjson::dom::object& inner) {
  simdjson::dom::element e;
  return get_field(o, key, e) && unwrap(e, type, inner);
}

// The dotted name in a list of String nodes: ["pg_catalog", "pg_read_file"]; `last`, when
// given, receives the last component.
std::string dotted_name(simdjson::dom::element list, std::string* last = nullptr);

// The DefElems of a list field: options, actions.
std::vector<simdjson::dom::object> def_elems(simdjson::dom::object node, std::string_view key);

}  // namespace portcullis::sql::postgres
