// TableNames: the names of the tables and columns a result's columns come from, for masking
// column rules. A RowDescription gives each column its table's OID and attribute number, and a
// name that is only the output's (`SELECT ssn AS p`): the catalog's names are looked up in the
// backend's catalog on a connection of the session's own (the session's connection is busy sending
// the result), and cached for the session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "proto/postgres/backend_connector.h"
#include "proto/postgres/side_connection.h"

namespace portcullis::proto::postgres {

class TableNames {
 public:
  struct Table {
    std::string name;  // as it would be written unqualified; "" when the catalog has no such table
    std::vector<std::string> columns;  // by attribute number - 1

    // The column's name in the catalog, or null for a number the table does not have.
    const std::string* column(int16_t attnum) const {
      if (attnum <= 0 || static_cast<std::size_t>(attnum) > columns.size()) return nullptr;
      const std::string& name = columns[static_cast<std::size_t>(attnum) - 1];
      return name.empty() ? nullptr : &name;
    }
  };

  // The table with this OID; null when it was not looked up yet.
  const Table* find(uint32_t oid) const;

  // Looks `oids` up (the tables' names and their columns' names), opening the lookup
  // connection with `target` on first use. On failure the names stay unknown and the caller
  // must not guess (fail closed).
  boost::asio::awaitable<Result<void>> look_up(std::vector<uint32_t> oids,
                                               const BackendTarget& target);
  void close();

 private:
  SideConnection connection_{"portcullis catalog lookup"};
  std::unordered_map<uint32_t, Table> tables_;
};

}  // namespace portcullis::proto::postgres
