// Names of the functions libpq's large-object API calls through the FunctionCall (fast
// path) message, by OID. These OIDs are fixed in PostgreSQL's catalog
// (src/include/catalog/pg_proc.dat); a test checks them against the real server.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace portcullis::proto::postgres {

// (oid, name) pairs, for the test that checks them.
std::span<const std::pair<uint32_t, std::string_view>> fastpath_functions();

// The name of a function called by OID, if it is one of the known ones.
std::optional<std::string_view> fastpath_function_name(uint32_t oid);

}  // namespace portcullis::proto::postgres
