// Catalog lookups of table and column names by OID and attribute number.
#include "proto/postgres/table_names.h"

#include <fmt/format.h>

#include "proto/postgres/encoder.h"

namespace portcullis::proto::postgres {
namespace {

namespace asio = boost::asio;

// A session that reads many tables still holds a bounded map.
constexpr std::size_t kMaxCachedTables = 1024;
// PostgreSQL's limit on a table's columns (MaxHeapAttributeNumber, htup_details.h).
constexpr int kMaxColumns = 1600;

}  // namespace

const TableNames::Table* TableNames::find(uint32_t oid) const {
  const auto it = tables_.find(oid);
  return it == tables_.end() ? nullptr : &it->second;
}

void TableNames::close() {
  connection_.close();
}

asio::awaitable<Result<void>> TableNames::look_up(std::vector<uint32_t> oids,
                                                  const BackendTarget& target) {
  if (tables_.size() + oids.size() > kMaxCachedTables) tables_.clear();
  std::string list;
  for (auto oid : oids) list += fmt::format("{}{}", list.empty() ? "" : ",", oid);
  std::string query;
  MessageWriter(query)
      .begin('Q')
      .cstring(fmt::format("SELECT c.oid, c.relname, a.attnum, a.attname "
                           "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_attribute a "
                           "ON a.attrelid = c.oid AND a.attnum > 0 "
                           "WHERE c.oid = ANY ('{{{}}}'::pg_catalog.oid[])",
                           list))
      .finish();
  auto answer = co_await connection_.run(query, target);
  if (!answer) co_return answer.error();
  if (!answer->error.empty()) co_return make_error("the catalog lookup failed: " + answer->error);
  for (const auto& row : answer->rows) {
    const auto oid_text = data_row_text(row, 0);
    const auto name = data_row_text(row, 1);
    if (!oid_text || !name) continue;
    auto& table = tables_[static_cast<uint32_t>(std::stoul(std::string(*oid_text)))];
    table.name = *name;
    const auto attnum_text = data_row_text(row, 2);
    const auto column = data_row_text(row, 3);
    if (!attnum_text || !column) continue;  // a relation without columns
    const int attnum = std::stoi(std::string(*attnum_text));
    if (attnum <= 0 || attnum > kMaxColumns) continue;
    if (table.columns.size() < static_cast<std::size_t>(attnum))
      table.columns.resize(static_cast<std::size_t>(attnum));
    table.columns[static_cast<std::size_t>(attnum) - 1] = *column;
  }
  // OIDs the catalog does not know (a dropped table) stay unknown as "".
  for (auto oid : oids) tables_.try_emplace(oid);
  co_return Result<void>{};
}

}  // namespace portcullis::proto::postgres
