// Names of statement classes, as rules and audit events spell them (INTERFACE.md).
#include "sql/statement.h"

#include <array>

namespace portcullis::sql {

namespace {

constexpr std::array<StatementClass, 8> kAllClasses = {
    StatementClass::read,    StatementClass::write,   StatementClass::ddl,
    StatementClass::dcl,     StatementClass::admin,   StatementClass::transaction,
    StatementClass::session, StatementClass::unknown,
};

}  // namespace

std::string_view to_string(StatementClass c) {
  switch (c) {
    case StatementClass::read:
      return "read";
    case StatementClass::write:
      return "write";
    case StatementClass::ddl:
      return "ddl";
    case StatementClass::dcl:
      return "dcl";
    case StatementClass::admin:
      return "admin";
    case StatementClass::transaction:
      return "transaction";
    case StatementClass::session:
      return "session";
    case StatementClass::unknown:
      return "unknown";
  }
  return "unknown";
}

std::vector<std::string_view> class_names(ClassSet set) {
  std::vector<std::string_view> names;
  for (StatementClass c : kAllClasses) {
    if (has(set, c)) names.push_back(to_string(c));
  }
  return names;
}

}  // namespace portcullis::sql
