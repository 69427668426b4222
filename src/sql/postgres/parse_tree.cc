// Readers over libpg_query's JSON parse tree that are too long to inline.
#include "sql/postgres/parse_tree.h"

namespace portcullis::sql::postgres {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string dotted_name(element list, std::string* last) {
  std::string name;
  array items;
  if (list.get_array().get(items) != SUCCESS) return name;
  for (element item : items) {
    std::string_view type;
    object node;
    if (!unwrap(item, type, node) || type != "String") continue;
    std::string_view part = str_field(node, "sval");
    if (!name.empty()) name += '.';
    name += part;
    if (last != nullptr) *last = std::string(part);
  }
  return name;
}

std::vector<object> def_elems(object node, std::string_view key) {
  std::vector<object> defs;
  element list_el;
  array list;
  if (!get_field(node, key, list_el) || list_el.get_array().get(list) != SUCCESS) return defs;
  for (element item : list) {
    std::string_view type;
    object def;
    if (unwrap(item, type, def) && type == "DefElem") defs.push_back(def);
  }
  return defs;
}

}  // namespace portcullis::sql::postgres
