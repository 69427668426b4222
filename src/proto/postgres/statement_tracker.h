// StatementTracker: the extended-query state of one client connection — prepared statements
// and portals by name — so that an Execute becomes a Command with the text that will run and
// its bound values.
//
// The gateway must never judge one text while the backend runs another, so the tracker
// follows the backend, not the client: Parse, Bind and Close are pending until the backend
// confirms them (ParseComplete, BindComplete, CloseComplete) and are dropped if the backend
// reports an error in their batch. Lookups see the confirmed state with the pending changes
// on top: within a batch the pending changes are what will be in force if the batch gets as
// far as the Execute, and if it does not, the Execute does not run either.
#pragma once

#include <boost/container/deque.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

struct PortalState {
  std::string statement;                           // the prepared statement's name
  std::shared_ptr<const std::string> text;         // its query text when it was bound
  std::vector<std::optional<std::string>> params;  // text form; binary values as \x hex
  bool binary_params = false;                      // some value was sent in binary format
};

class StatementTracker {
 public:
  // Client messages, in the order they are forwarded to the backend.
  void on_parse(const Parse& parse);
  void on_bind(const Bind& bind);
  void on_close(const DescribeOrClose& close);
  // A Sync, Query or FunctionCall: the backend ends its batch with ReadyForQuery.
  void on_sync_point();

  // Backend messages. False when the backend's answer does not match what the tracker
  // expected: client and backend state can no longer be followed.
  bool on_parse_complete();
  bool on_bind_complete();
  bool on_close_complete();
  // An ErrorResponse: the backend skips the rest of the batch, so do its pending changes.
  void on_error();
  void on_ready_for_query();

  // The text of a statement, or null when it does not exist (or will not, once pending
  // changes are applied).
  std::shared_ptr<const std::string> statement(std::string_view name) const;
  const PortalState* portal(std::string_view name) const;

  std::size_t pending() const { return pending_.size(); }

  // True when a batch before the current one (the changes after the last sync point) has
  // Parse, Bind or Close changes the backend has not confirmed yet.
  bool has_unconfirmed_earlier_batches() const;
  // Removes the oldest sync point, joining its batch to the next: for a Sync the backend
  // ignored (during COPY FROM STDIN).
  void drop_first_sync_point();

 private:
  enum class OpKind { parse, bind, close_statement, close_portal, sync_point };
  struct PendingOp {
    OpKind kind;
    std::string name;                         // statement or portal name
    std::shared_ptr<const std::string> text;  // parse: its text
    std::optional<PortalState> portal;        // bind: the portal, unless its statement is unknown
  };

  // Pops the oldest pending change, which must be of one of the given kinds.
  std::optional<PendingOp> pop_expected(OpKind first, OpKind second);

  std::unordered_map<std::string, std::shared_ptr<const std::string>> statements_;
  std::unordered_map<std::string, PortalState> portals_;
  boost::container::deque<PendingOp> pending_;  // no allocation before the first message
};

// A bound parameter in text form: text-format values as they are, binary ones as \x + hex.
std::string parameter_text(std::string_view value, bool binary);

// Bind parameters or FunctionCall arguments in text form. `formats` holds no code (all
// text), one code for all values, or one per value, as the protocol allows.
std::vector<std::optional<std::string>> parameters_text(
    const std::vector<std::optional<std::string_view>>& values,
    const std::vector<int16_t>& formats);

}  // namespace portcullis::proto::postgres
