// Facts of a prepared statement carried to the statement that runs it.
#include "sql/prepared_facts.h"

#include <algorithm>
#include <string>
#include <vector>

namespace portcullis::sql {

namespace {

void add_unique(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const auto& item : from)
    if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
}

}  // namespace

void add_prepared_facts(Statement& runner, const Statement& prepared) {
  runner.classes |= prepared.classes;
  // A SQL PREPARE is stored as the PREPARE statement, an EXECUTE it runs is resolved already:
  // in both, the inner kind is what actually runs.
  runner.inner_kind = prepared.kind == "prepare" || prepared.kind == "execute" ? prepared.inner_kind
                                                                               : prepared.kind;
  add_unique(runner.nested_kinds, prepared.nested_kinds);
  add_unique(runner.tables_read, prepared.tables_read);
  add_unique(runner.tables_written, prepared.tables_written);
  add_unique(runner.functions, prepared.functions);
  runner.where_absent = runner.where_absent || prepared.where_absent;
  runner.lifts_read_only = runner.lifts_read_only || prepared.lifts_read_only;
  runner.changes_text_reading = runner.changes_text_reading || prepared.changes_text_reading;
  runner.calls_unknown_functions =
      runner.calls_unknown_functions || prepared.calls_unknown_functions;
  add_unique(runner.columns_referenced, prepared.columns_referenced);
  runner.whole_row_reference = runner.whole_row_reference || prepared.whole_row_reference;
}

void mark_unknown(Statement& statement) {
  statement.classes |= static_cast<ClassSet>(StatementClass::unknown);
}

}  // namespace portcullis::sql
