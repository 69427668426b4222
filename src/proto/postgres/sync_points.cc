// Sync points: where the backend answers with ReadyForQuery, what the gateway owes the client
// there (refusals answered in order), and the statement tracker kept in step.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/postgres/session.h"
#include "proto/postgres/session_support.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

bool Session::follow_backend_message(char type) {
  switch (type) {
    case backend::kParseComplete:
      return statements_.on_parse_complete();
    case backend::kBindComplete:
      return statements_.on_bind_complete();
    case backend::kCloseComplete:
      return statements_.on_close_complete();
    case backend::kCopyInResponse:
      copy_in_started_ = true;
      return true;
    case backend::kErrorResponse:
      row_plan_valid_ = false;
      if (!sync_points_.empty()) {
        sync_points_.front().backend_errored = true;
        // The backend skips the rest of the batch: its Describes get no answer.
        const uint64_t serial = sync_points_.front().serial;
        while (!pending_describes_.empty() && pending_describes_.front().serial == serial)
          pending_describes_.pop_front();
      }
      statements_.on_error();
      return true;
    case backend::kCommandComplete:
    case backend::kEmptyQueryResponse:
    case backend::kPortalSuspended:
      row_plan_valid_ = false;  // the result ends: the next one brings its own description
      return true;
    default:
      return true;
  }
}

void Session::drain_synthetic(std::string& out) {
  while (!sync_points_.empty() && sync_points_.front().synthetic) {
    out.append(sync_points_.front().error);
    append_ready_for_query(out, transaction_status_);
    sync_points_.pop_front();
  }
}

bool Session::on_ready_for_query(std::string& synthetic, std::vector<Segment>& segments) {
  // Syncs sent during COPY FROM STDIN were swallowed by the backend: no answer will come.
  if (copy_in_started_) {
    while (sync_points_.size() > 1 && sync_points_.front().maybe_swallowed &&
           !sync_points_.front().synthetic) {
      sync_points_.pop_front();
      statements_.drop_first_sync_point();
    }
    copy_in_started_ = false;
  }
  statements_.on_ready_for_query();
  if (sync_points_.empty() || sync_points_.front().synthetic) return false;
  SyncPoint point = std::move(sync_points_.front());
  sync_points_.pop_front();
  row_plan_valid_ = false;
  while (!pending_describes_.empty() && pending_describes_.front().serial <= point.serial)
    pending_describes_.pop_front();
  gate_.recorder().on_batch_done(point.serial);
  while (!pending_copies_.empty() && pending_copies_.front().serial <= point.serial)
    pending_copies_.pop_front();
  copy_out_.reset();
  // The error owed for a refused extended-protocol message, unless the backend already
  // reported one in the same batch (PostgreSQL reports only the first).
  if (!point.error.empty() && !point.backend_errored) {
    add_segment(segments, true, synthetic.size(), point.error.size());
    synthetic.append(point.error);
  }
  return true;
}

}  // namespace portcullis::proto::postgres
