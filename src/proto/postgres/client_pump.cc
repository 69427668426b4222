// Client to backend: frames the client's messages, streams what needs no inspection, and
// hands every command to the command path before anything of it is forwarded.
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
#include "proto/postgres/statement_classifier.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

asio::awaitable<void> Session::pump_client_to_backend() {
  const std::size_t max_message = gate_.context().config->limits.max_message_size;
  net::ByteBuffer in(kRelayBufferSize, message_budget_.get());
  std::vector<Segment> segments;
  std::vector<asio::const_buffer> buffers;
  // What the gateway adds in this direction: a Describe before an undescribed Execute.
  std::string synthetic;
  Passthrough passthrough;
  bool need_read = true;
  bool drained = true;  // the last read emptied the socket: wait before taking a buffer
  for (;;) {
    if (need_read) {
      net::error_code read_ec;
      std::size_t n = 0;
      if (release_for_wait(*client_, in, drained)) {
        std::tie(read_ec) =
            co_await client_->socket().async_wait(net::tcp::socket::wait_read, use_nothrow);
        if (!read_ec) std::tie(read_ec, n) = read_after_wait(*client_, in, drained);
      } else {
        std::tie(read_ec, n) = co_await read_for_relay(*client_, in, drained);
      }
      if (read_ec) break;
      if (n == 0) continue;  // readable, yet nothing came: wait again
      bytes_from_client_ += n;
      if (auto* live = gate_.live())
        live->bytes_in.store(bytes_from_client_, std::memory_order_relaxed);
      last_client_activity_ = std::chrono::steady_clock::now();
    }

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    bool close_after = false;
    bool wait_for_backend = false;
    bool stopped_early = false;
    std::size_t held_at = 0;  // where the held message starts in `input`, and its size
    std::size_t held_size = 0;
    segments.clear();
    synthetic.clear();
    while (pos < input.size()) {
      if (passthrough.step(input.size(), pos, segments)) continue;
      FrameHeader header;
      std::string error;
      auto status = decode_header(input.substr(pos), kMaxStreamedMessage, header, error);
      if (status == DecodeStatus::ready && inspected(header.type) &&
          header.body_size > max_message) {
        status = DecodeStatus::invalid;
        error = fmt::format(
            "message of {} bytes exceeds the limit of {} bytes (limits.max_message_size)",
            header.body_size, max_message);
      }
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::info("event=protocol_error session={} direction=client error={:?}", id_, error);
        co_await write_to_client(
            error_response(kSqlProtocolViolation, "portcullis: " + error, Severity::fatal));
        co_return;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      if (!inspected(header.type)) {
        if (header.type == frontend::kCopyDone || header.type == frontend::kCopyFail)
          copy_from_pending_ = false;
        passthrough = Passthrough{total, skipping_until_sync_};
        continue;
      }
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      // Bind and Execute name statements and portals. If an earlier batch changed them and
      // the backend has not answered it yet, its outcome decides what the names mean: wait
      // for it rather than judge a guess.
      if ((header.type == frontend::kBind || header.type == frontend::kExecute) &&
          !skipping_until_sync_ && statements_.has_unconfirmed_earlier_batches()) {
        wait_for_backend = true;
        stopped_early = true;
        break;
      }
      const Message message{header.type, input.substr(pos + kHeaderSize, header.body_size)};
      preclassified_.reset();
      // An Execute's text is its portal's, of any size: looked up there.
      const bool large_text =
          header.type == frontend::kExecute ||
          ((header.type == frontend::kQuery || header.type == frontend::kParse) &&
           header.body_size > StatementClassifier::kOffThreadText);
      if (large_text && !skipping_until_sync_) {
        co_await classify_large_text(message);
        if (terminated_) co_return;
      }
      if ((header.type == frontend::kQuery || header.type == frontend::kExecute) &&
          !skipping_until_sync_ && has_rows_guardrail(*gate_.context().config)) {
        co_await estimate_rows(message);
        if (terminated_) co_return;
      }
      const Action action = on_client_message(message);
      if (!describe_to_inject_.empty()) {
        if (action == Action::forward) {
          add_segment(segments, true, synthetic.size(), describe_to_inject_.size());
          synthetic.append(describe_to_inject_);
          pending_describes_.push_back(PendingDescribe{next_sync_serial_, true, true});
          describe_to_inject_.clear();
        } else if (action == Action::hold) {
          held_describe_ = std::move(describe_to_inject_);
          describe_to_inject_.clear();
        } else {
          describe_to_inject_.clear();
        }
      }
      if (action == Action::forward) add_segment(segments, false, pos, total);
      if (action == Action::hold) {
        // What came before it goes to the backend now; the held message waits.
        held_at = pos;
        held_size = total;
        pos += total;
        stopped_early = true;
        break;
      }
      pos += total;
      if (action == Action::close) {
        close_after = true;
        break;
      }
      // A refused command with nothing ahead of it at the backend is answered now, before
      // anything that follows it is forwarded, so that answers keep the client's order.
      if (!sync_points_.empty() && sync_points_.front().synthetic) {
        stopped_early = true;
        break;
      }
    }
    if (!segments.empty()) {
      // Strict audit: what is about to be forwarded is on disk in the journal first; in a
      // read-only backend session, before its answer goes to the client (backend pump).
      if (gate_.commit_failed() || (gate_.commits_pending() && !backend_read_only_)) {
        if (auto failed = co_await gate_.wait_for_commits()) {
          terminate(sqlstate_of(failed->reason), "portcullis: " + failed->message);
          co_return;
        }
        if (terminated_) co_return;
      }
      if (gate_.commits_pending()) forwarded_before_durable_ = true;
      auto [write_ec, written] =
          co_await backend_->write(to_buffers(segments, input, synthetic, buffers));
      if (write_ec) co_return;
    }
    if (gate_.holding()) {
      const bool release = co_await wait_for_review();
      if (terminated_) co_return;
      if (release) {
        if (gate_.commits_pending() || gate_.commit_failed()) {
          if (auto failed = co_await gate_.wait_for_commits()) {
            terminate(sqlstate_of(failed->reason), "portcullis: " + failed->message);
            co_return;
          }
          if (terminated_) co_return;
        }
        buffers.clear();
        if (!held_describe_.empty()) {
          buffers.emplace_back(held_describe_.data(), held_describe_.size());
          pending_describes_.push_back(PendingDescribe{next_sync_serial_, true, true});
        }
        buffers.emplace_back(input.data() + held_at, held_size);
        auto [write_ec, written] = co_await backend_->write(buffers);
        if (write_ec) co_return;
      }
      held_describe_.clear();
    }
    if (!settle_relay_buffer(in, pos, whole_message_needed)) {
      spdlog::warn("event=buffer_budget_exhausted session={} bytes={}", id_, whole_message_needed);
      co_await write_to_client(buffer_budget_exhausted(whole_message_needed));
      co_return;
    }
    if (!sync_points_.empty() && sync_points_.front().synthetic) {
      std::string out;
      drain_synthetic(out);
      co_await write_to_client(std::move(out));
    }
    if (close_after || terminated_) break;
    if (sync_points_.size() > kMaxPendingSyncPoints) {
      spdlog::info("event=protocol_error session={} error=\"too many commands awaiting answers\"",
                   id_);
      co_await write_to_client(
          error_response(kSqlProgramLimitExceeded,
                         fmt::format("portcullis: more than {} commands are waiting for answers",
                                     kMaxPendingSyncPoints),
                         Severity::fatal));
      co_return;
    }
    while (wait_for_backend && statements_.has_unconfirmed_earlier_batches()) {
      backend_progress_.expires_at(asio::steady_timer::time_point::max());
      co_await backend_progress_.async_wait(use_nothrow);
      if (terminated_) co_return;
    }
    // Whole messages still buffered (the loop stopped early) are handled before reading.
    need_read = !stopped_early || in.empty();
  }
  // The client left (Terminate or closed socket): end the backend session politely.
  std::string terminate;
  append_terminate(terminate);
  co_await backend_->write(asio::buffer(terminate));
}

Session::Action Session::on_client_message(const Message& message) {
  auto protocol_error = [&](const Error& error) {
    spdlog::info("event=protocol_error session={} direction=client error={:?}", id_, error.message);
    terminate(kSqlProtocolViolation, "portcullis: " + error.message);
    return Action::close;
  };
  if (skipping_until_sync_ && message.type != frontend::kSync &&
      message.type != frontend::kTerminate)
    return Action::drop;

  switch (message.type) {
    case frontend::kQuery: {
      auto query = parse_query(message.body);
      if (!query) return protocol_error(query.error());
      policy::Command command;
      command.text.assign(query->sql);
      return decide(std::move(command), Via::query, false);
    }
    case frontend::kParse: {
      auto parse = parse_parse(message.body);
      if (!parse) return protocol_error(parse.error());
      // Decided here as well as at Execute: a prepared statement can be run by other
      // routes (FETCH from its portal, SQL EXECUTE), and Bind already plans it.
      policy::Command command;
      command.text.assign(parse->query);
      command.intent = policy::Intent::prepare;
      if (decide(std::move(command), Via::parse, true) != Action::forward) return Action::drop;
      statements_.on_parse(*parse);
      return Action::forward;
    }
    case frontend::kBind: {
      auto bind = parse_bind(message.body);
      if (!bind) return protocol_error(bind.error());
      statements_.on_bind(*bind);
      described_portal_.reset();
      return Action::forward;
    }
    case frontend::kExecute: {
      auto execute = parse_execute(message.body);
      if (!execute) return protocol_error(execute.error());
      const PortalState* portal = statements_.portal(execute->portal);
      if (portal == nullptr) {
        // A portal the gateway cannot attribute to a text (bound to a statement made with
        // SQL PREPARE, say) would run unjudged: refuse it.
        const auto message = fmt::format(
            "portal \"{}\" is not known to the gateway; prepare "
            "statements with Parse so that they can be checked",
            execute->portal);
        gate_.refuse_undecided(
            fmt::format("Execute(portal \"{}\")", execute->portal), "execute",
            {.reason = gateway::RefusalReason::denied, .rule = {}, .message = message});
        refuse(kSqlInvalidCursorName, "portcullis: " + message, true);
        return Action::drop;
      }
      policy::Command command;
      command.text = *portal->text;
      command.sql()->bound = true;
      command.sql()->params = portal->params;
      // Every result the gateway masks must come with its own description. A client that
      // did not describe this portal (JDBC after its first run, a hand-made client) gets no
      // RowDescription from the backend: the gateway asks for one and keeps it to itself.
      if (gate_.masker() && described_portal_ != execute->portal)
        append_describe(describe_to_inject_, 'P', execute->portal);
      described_portal_.reset();
      return decide(std::move(command), Via::execute, true);
    }
    case frontend::kDescribe: {
      auto describe = parse_describe_or_close(message.body);
      if (!describe) return protocol_error(describe.error());
      const bool portal = describe->target == 'P';
      if (gate_.masker())
        pending_describes_.push_back(PendingDescribe{next_sync_serial_, portal, false});
      if (portal)
        described_portal_ = std::string(describe->name);
      else
        described_portal_.reset();
      return Action::forward;
    }
    case frontend::kClose: {
      auto close = parse_describe_or_close(message.body);
      if (!close) return protocol_error(close.error());
      statements_.on_close(*close);
      described_portal_.reset();
      return Action::forward;
    }
    case frontend::kSync: {
      statements_.on_sync_point();
      described_portal_.reset();
      SyncPoint point;
      // During COPY FROM STDIN the backend ignores Sync: this one may get no answer.
      point.maybe_swallowed = copy_from_pending_;
      if (skipping_until_sync_) {
        point.error = std::move(owed_error_);
        owed_error_.clear();
        skipping_until_sync_ = false;
      }
      push_sync_point(std::move(point));
      return Action::forward;
    }
    case frontend::kFunctionCall: {
      auto call = parse_function_call(message.body);
      if (!call) return protocol_error(call.error());
      policy::Command command;
      command.text = fmt::format("FunctionCall(oid {})", call->function_oid);
      function_oid_ = call->function_oid;
      function_result_format_ = call->result_format == 1 ? FormatCode::binary : FormatCode::text;
      command.sql()->bound = true;
      command.sql()->params = parameters_text(call->arguments, call->argument_formats);
      return decide(std::move(command), Via::function_call, false);
    }
    case frontend::kTerminate:
      return Action::close;
    default:
      return Action::forward;
  }
}

}  // namespace portcullis::proto::postgres
