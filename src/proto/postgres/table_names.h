// TableNames: the names of the tables a result's columns come from, for masking column rules
// written as `table.column`. A RowDescription gives each column its table's OID only; the
// names are looked up in the backend's catalog on a connection of the session's own (the
// session's connection is busy sending the result), and cached for the session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/stream.h"
#include "proto/postgres/backend_connector.h"

namespace portcullis::proto::postgres {

class TableNames {
 public:
  // "table" as it would be written unqualified, or "" when the OID names no table the
  // lookup found; null when it was not looked up yet.
  const std::string* find(uint32_t oid) const;

  // Looks `oids` up, opening the lookup connection with `target` on first use. On failure the
  // names stay unknown and the caller must not guess (fail closed).
  boost::asio::awaitable<Result<void>> look_up(std::vector<uint32_t> oids,
                                               const BackendTarget& target);
  void close();

 private:
  std::shared_ptr<net::Stream> stream_;
  std::unordered_map<uint32_t, std::string> names_;
};

}  // namespace portcullis::proto::postgres
