// SqlPreparedStatements: statements a session prepared with SQL (PREPARE name AS ...), so
// that EXECUTE name is decided as the statement it runs.
//
// PostgreSQL refuses to PREPARE a name twice and keeps the first. The gateway records a
// PREPARE before the backend has run it and cannot tell whether the backend accepted it, so
// a second PREPARE of a known name makes the name ambiguous: its EXECUTE is refused as
// unknown until DEALLOCATE, whatever either PREPARE said.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "sql/statement.h"

namespace portcullis::proto::postgres {

class SqlPreparedStatements {
 public:
  // The classification with every EXECUTE replaced by the statement it runs (kind
  // "execute", inner_kind and facts of the prepared statement; class unknown when the
  // name is unknown or ambiguous). Returns `classification` itself when it has no EXECUTE.
  // `fallback` finds a name the session did not prepare with SQL (one prepared with the
  // protocol's Parse, which SQL EXECUTE can run as well); it returns null if unknown.
  using Fallback = std::function<std::shared_ptr<const sql::Classification>(std::string_view name)>;
  std::shared_ptr<const sql::Classification> resolve(
      std::shared_ptr<const sql::Classification> classification, const Fallback& fallback) const;

  // The classification with every FETCH or MOVE of a portal that `portal` knows (one bound
  // with the protocol's Bind: SQL FETCH can run it like a cursor) given the facts of the
  // statement behind the portal, its text added to the FETCH's for the journal. Returns
  // `classification` itself when it has no such FETCH.
  using PortalLookup =
      std::function<std::shared_ptr<const sql::Classification>(std::string_view name)>;
  static std::shared_ptr<const sql::Classification> resolve_portals(
      std::shared_ptr<const sql::Classification> classification, const PortalLookup& portal);

  // Records the effects of an allowed command: PREPARE, DEALLOCATE [ALL], DISCARD.
  void apply(const sql::Classification& classification);

  std::size_t size() const { return statements_.size(); }

 private:
  void resolve_one(sql::Statement& statement, const Fallback& fallback, int depth) const;

  struct Entry {
    sql::Statement statement;  // the PREPARE, whose facts are those of the prepared statement
    bool ambiguous = false;
  };
  std::unordered_map<std::string, Entry> statements_;
};

}  // namespace portcullis::proto::postgres
