// Backend to client: frames the backend's messages, keeps sync points and the journal in step
// with them, masks what the grant's profile asks for, and streams the rest as it came.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/postgres/decoder.h"
#include "proto/postgres/refusal_codes.h"
#include "proto/postgres/session.h"
#include "proto/postgres/session_support.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

asio::awaitable<void> Session::pump_backend_to_client() {
  net::ByteBuffer in(kRelayBufferSize, message_budget_.get());
  if (!backend_pending_.empty()) {
    if (!in.reserve_message(backend_pending_.size())) {
      co_await write_to_client(buffer_budget_exhausted(backend_pending_.size()));
      co_return;
    }
    auto space = in.writable();
    std::memcpy(space.data(), backend_pending_.data(), backend_pending_.size());
    in.commit(backend_pending_.size());
    backend_pending_.clear();
  }
  const std::size_t max_message = gate_.context().config->limits.max_message_size;
  std::vector<Segment> segments;
  std::vector<asio::const_buffer> buffers;
  std::string synthetic;
  Passthrough passthrough;
  bool first = true;
  bool drained = true;     // the last read emptied the socket: wait before taking a buffer
  bool reprocess = false;  // whole messages are buffered still: handle them before reading
  for (;;) {
    if ((!first || in.empty()) && !reprocess) {
      net::error_code read_ec;
      std::size_t n = 0;
      if (release_for_wait(*backend_, in, drained)) {
        std::tie(read_ec) =
            co_await backend_->socket().async_wait(net::tcp::socket::wait_read, use_nothrow);
        if (!read_ec) std::tie(read_ec, n) = read_after_wait(*backend_, in, drained);
      } else {
        std::tie(read_ec, n) = co_await read_for_relay(*backend_, in, drained);
      }
      if (read_ec) co_return;
      if (n == 0) continue;  // readable, yet nothing came: wait again
    }
    first = false;
    reprocess = false;
    std::vector<uint32_t> look_up;

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    bool lost_track = false;
    bool unsafe_setting = false;
    bool progressed = false;
    segments.clear();
    synthetic.clear();
    while (pos < input.size()) {
      if (passthrough.step(input.size(), pos, segments)) continue;
      FrameHeader header;
      std::string error;
      const auto status = decode_header(input.substr(pos), kMaxStreamedMessage, header, error);
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::warn("event=protocol_error session={} direction=backend error={:?}", id_, error);
        lost_track = true;
        break;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      const bool describe_answer =
          (header.type == backend::kRowDescription || header.type == backend::kNoData) &&
          !pending_describes_.empty();
      if (((gate_.masker() || withholding_) && masked_type(header.type)) || describe_answer) {
        if ((header.type == backend::kDataRow || header.type == backend::kCopyData) &&
            header.body_size > max_message) {
          if (!follow_backend_message(header.type)) {
            lost_track = true;
            break;
          }
          if (!withholding_)
            withhold(fmt::format("a result row of {} bytes is larger than limits.max_message_size "
                                 "and cannot be masked",
                                 header.body_size),
                     synthetic, segments);
          passthrough = Passthrough{total, true};
          continue;
        }
        if (input.size() - pos < total) {
          whole_message_needed = total;
          break;
        }
        if (header.type == backend::kRowDescription) {
          look_up = tables_to_look_up(input.substr(pos + kHeaderSize, header.body_size));
          if (!look_up.empty()) break;  // handled again once the names are known
        }
        if (!follow_backend_message(header.type)) {
          lost_track = true;
          break;
        }
        mask_backend_message(
            Message{header.type, input.substr(pos + kHeaderSize, header.body_size)}, pos, total,
            synthetic, segments);
        pos += total;
        continue;
      }
      if (header.type == backend::kParameterStatus) {
        // The server announces every change of the settings that decide how it reads
        // query text; the classifier must read it the same way, or the session ends.
        if (input.size() - pos < total) {
          whole_message_needed = total;
          break;
        }
        auto status = parse_parameter_status(input.substr(pos + kHeaderSize, header.body_size));
        if (status && status->name == "default_transaction_read_only" && status->value != "on")
          backend_read_only_ = false;  // statements wait for their records again
        if (!status || !text_reading_is_safe(status->name, status->value)) {
          spdlog::warn("event=unsafe_text_setting session={} setting={:?} value={:?}", id_,
                       status ? status->name : "?", status ? status->value : "?");
          unsafe_setting = true;
          break;
        }
        if (gate_.masker() && !withholding_) {
          // A reported setting can carry data: set_config('application_name', ssn, false).
          const bool reads_masked =
              !sync_points_.empty() && sync_points_.front().reads_masked_columns.action ==
                                           masking::ColumnPlan::Action::whole;
          masked_.clear();
          auto outcome = mask_parameter_status(input.substr(pos + kHeaderSize, header.body_size),
                                               *gate_.masker(), *gate_.mask_scratch(),
                                               gate_.mask_counts(), reads_masked, masked_);
          if (outcome && *outcome == MaskOutcome::rewritten) {
            std::string rebuilt;
            MessageWriter(rebuilt).begin(header.type).bytes(masked_).finish();
            add_segment(segments, true, synthetic.size(), rebuilt.size());
            synthetic.append(rebuilt);
            pos += total;
            continue;
          }
        }
        add_segment(segments, false, pos, total);
        pos += total;
        continue;
      }
      if (header.type != backend::kReadyForQuery) {
        if (gate_.recorder().active()) {
          const bool whole = input.size() - pos >= total;
          const auto body = input.substr(pos + kHeaderSize, whole ? header.body_size : 0);
          bool wait_whole = false;
          switch (header.type) {
            case backend::kRowDescription:
            case backend::kCommandComplete:
            case backend::kErrorResponse:
              wait_whole = !whole;
              break;
            case backend::kDataRow:
              // A row split across reads is kept too, unless it is too large to buffer.
              wait_whole = !whole && total <= kRelayBufferSize;
              break;
            default:
              break;
          }
          if (wait_whole) {
            whole_message_needed = total;
            break;
          }
          switch (header.type) {
            case backend::kRowDescription:
              results_.on_row_description(body);
              break;
            case backend::kCommandComplete:
              results_.on_command_complete(body);
              break;
            case backend::kErrorResponse:
              results_.on_error(body);
              break;
            case backend::kDataRow:
              if (whole)
                results_.on_data_row(body, total);
              else
                results_.on_streamed_data(total);
              break;
            case backend::kCopyData:
              results_.on_streamed_data(total);
              break;
            case backend::kEmptyQueryResponse:
              results_.on_empty_query();
              break;
            case backend::kPortalSuspended:
              results_.on_portal_suspended();
              break;
            default:
              break;
          }
        }
        if (!follow_backend_message(header.type)) {
          spdlog::warn(
              "event=protocol_error session={} direction=backend error=\"unexpected "
              "completion message '{}'\"",
              id_, header.type);
          lost_track = true;
          break;
        }
        passthrough = Passthrough{total, withholding_};
        continue;
      }
      // ReadyForQuery is acted on once, when it is whole.
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      auto ready = parse_ready_for_query(input.substr(pos + kHeaderSize, header.body_size));
      if (ready) transaction_status_ = ready->transaction_status;
      withholding_ = false;
      if (!on_ready_for_query(synthetic, segments)) {
        spdlog::warn(
            "event=protocol_error session={} direction=backend error=\"ReadyForQuery "
            "with no command outstanding\"",
            id_);
        lost_track = true;
        break;
      }
      progressed = true;
      add_segment(segments, false, pos, total);
      pos += total;
      const std::size_t before = synthetic.size();
      drain_synthetic(synthetic);
      add_segment(segments, true, before, synthetic.size() - before);
    }
    if (!segments.empty() && forwarded_before_durable_) {
      // A statement went to the backend while its record was being synced (a read-only
      // session, strict audit): no byte from the backend reaches the client before every
      // pending record is durable. The session ends if one cannot be written.
      if (gate_.commits_pending() || gate_.commit_failed()) {
        if (auto failed = co_await gate_.wait_for_commits()) {
          terminate(sqlstate_of(failed->reason), "portcullis: " + failed->message);
          co_return;
        }
        if (terminated_ || gate_.commits_pending()) co_return;
      }
      forwarded_before_durable_ = false;
    }
    if (!segments.empty()) {
      if (!client_write_lock_.try_lock()) co_await client_write_lock_.lock();
      auto [write_ec, written] =
          co_await client_->write(to_buffers(segments, input, synthetic, buffers));
      client_write_lock_.unlock();
      if (write_ec) co_return;
      bytes_to_client_ += written;
      if (auto* live = gate_.live())
        live->bytes_out.store(bytes_to_client_, std::memory_order_relaxed);
    }
    if (progressed) backend_progress_.cancel();
    if (unsafe_setting) {
      co_await write_to_client(error_response(
          kSqlProtocolViolation,
          "portcullis: the server now reads query text differently from the gateway "
          "(client_encoding or standard_conforming_strings changed); ending the session",
          Severity::fatal));
      co_return;
    }
    if (lost_track) {
      // Fail closed: the gateway can no longer tell which answer belongs to which command.
      co_await write_to_client(error_response(
          kSqlProtocolViolation, "portcullis: lost track of the backend's answers; reconnect",
          Severity::fatal));
      co_return;
    }
    if (!settle_relay_buffer(in, pos, whole_message_needed)) {
      spdlog::warn("event=buffer_budget_exhausted session={} bytes={}", id_, whole_message_needed);
      co_await write_to_client(buffer_budget_exhausted(whole_message_needed));
      co_return;
    }
    if (!look_up.empty()) {
      // The snapshot the target points into stays alive while the lookup runs.
      const auto context = gate_.context_ptr();
      auto found =
          co_await tables_.look_up(std::move(look_up), backend_target(*context, gate_.grant()));
      if (!found) {
        spdlog::warn("event=table_lookup_failed session={} error={:?}", id_, found.error().message);
        tables_error_ = found.error().message;
      }
      if (terminated_) co_return;
      reprocess = true;
    }
  }
}

}  // namespace portcullis::proto::postgres
