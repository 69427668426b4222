// SideConnection: a backend connection of a session's own beside the one that carries the
// client's traffic, for the gateway's own questions to the backend (catalog names, planner
// estimates) while the main connection is busy with a result or must not be disturbed. It
// logs in with the session's credentials, so it sees what the caller's role sees.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/stream.h"
#include "proto/postgres/backend_connector.h"

namespace portcullis::proto::postgres {

struct SideAnswer {
  std::vector<std::string> rows;  // DataRow bodies, in order
  std::string error;              // the message of the first ErrorResponse; empty when none
};

class SideConnection {
 public:
  explicit SideConnection(std::string application_name)
      : application_name_(std::move(application_name)) {}

  // Sends `request` (whole protocol messages ending in a Query or a Sync) and reads up to its
  // `ready_count`-th ReadyForQuery (one per Query or Sync it holds), opening the connection with
  // `target` on first use. An error the backend reports is an answer; a connection that fails or
  // answers unreadably is an error, and the connection is closed (the next run opens a new one).
  boost::asio::awaitable<Result<SideAnswer>> run(const std::string& request,
                                                 const BackendTarget& target, int ready_count = 1);
  void close();

 private:
  std::string application_name_;
  std::shared_ptr<net::Stream> stream_;
};

// The value at `index` of a DataRow body in text format; nullopt for NULL or a short body.
std::optional<std::string_view> data_row_text(std::string_view body, std::size_t index);

}  // namespace portcullis::proto::postgres
