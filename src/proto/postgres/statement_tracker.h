// StatementTracker: the extended-query state of one client connection — prepared statements
// and portals by name — so that an Execute can be turned into a Command with the text that
// runs and its bound values. Pure bookkeeping; the session feeds it decoded messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

struct PortalState {
  std::string statement;                           // the prepared statement's name
  const std::string* text = nullptr;               // its query text; owned by the tracker
  std::vector<std::optional<std::string>> params;  // text form; binary values as \x hex
};

class StatementTracker {
 public:
  void on_parse(const Parse& parse);
  // False when the statement is unknown (the backend will report the error).
  bool on_bind(const Bind& bind);
  void on_close(const DescribeOrClose& close);
  // Portals are kept until rebound or closed, even where PostgreSQL drops them at the end
  // of a transaction: an Execute of a dropped portal fails at the backend, and clearing at
  // Sync would lose the named portals that cursor-style fetches reuse inside a transaction.

  const std::string* statement_text(std::string_view name) const;
  const PortalState* portal(std::string_view name) const;

 private:
  // Shared text: a statement may be bound into many portals.
  std::unordered_map<std::string, std::string> statements_;
  std::unordered_map<std::string, PortalState> portals_;
};

// A bound parameter in text form: text-format values as they are, binary ones as \x + hex.
std::string parameter_text(std::string_view value, bool binary);

}  // namespace portcullis::proto::postgres
