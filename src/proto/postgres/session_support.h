// What the parts of a PostgreSQL session share: the relay's limits, the messages the gateway
// writes itself, byte ranges to forward, and the one read loop both directions use. Internal
// to src/proto/postgres/session*.cc and the pumps.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cctype>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "config/config.h"
#include "gateway/context.h"
#include "net/byte_buffer.h"
#include "net/stream.h"
#include "policy/access.h"
#include "proto/postgres/backend_connector.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/message.h"
#include "proto/postgres/session.h"
#include "proto/postgres/sqlstate.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;
// Messages that stream through (DataRow, CopyData) may be as large as PostgreSQL allows a
// value to be (MaxAllocSize, 1 GB, src/include/utils/memutils.h).
inline constexpr std::size_t kMaxStreamedMessage = (std::size_t{1} << 30) - 1;
// Commands a client may have waiting for answers (refused ones included) before the
// session is ended: a bound on what a client can make the gateway queue.
inline constexpr std::size_t kMaxPendingSyncPoints = 4096;
// How long a terminated session may take to deliver its last error.
inline constexpr auto kTerminateGrace = std::chrono::seconds(2);

// First read size of each direction; grows for whole messages that must be inspected.
// 16 KiB holds most query texts and a good batch of rows, and keeps idle sessions small.
inline constexpr std::size_t kRelayBufferSize = 16 * 1024;
// Upper bound on a PasswordMessage: a token with many group claims fits easily.
inline constexpr std::size_t kMaxPasswordMessage = 64 * 1024;

inline std::string error_response(std::string_view sqlstate, std::string_view message,
                                  Severity severity = Severity::error) {
  std::string out;
  append_error_response(out, ErrorMessage{severity, sqlstate, message, {}, {}});
  return out;
}

// Every session's large messages together are bounded (limits.max_buffered_total): one that
// does not fit ends its session rather than grow the gateway without bound.
inline std::string buffer_budget_exhausted(std::size_t bytes) {
  return error_response(kSqlOutOfMemory,
                        fmt::format("portcullis: the gateway's buffer budget is exhausted "
                                    "(limits.max_buffered_total); a message of {} bytes cannot "
                                    "be held now",
                                    bytes),
                        Severity::fatal);
}

// A NoticeResponse (SQLSTATE 01000, warning class) the client shows at once.
inline std::string notice_response(std::string_view message, std::string_view detail) {
  std::string out;
  append_notice_response(out, ErrorMessage{Severity::notice, "01000", message, detail, {}});
  return out;
}

// Client messages that must be read whole: they become commands or change the state the
// decision point relies on. Everything else (CopyData above all) streams through.
inline bool inspected(char type) {
  switch (type) {
    case frontend::kQuery:
    case frontend::kParse:
    case frontend::kBind:
    case frontend::kExecute:
    case frontend::kClose:
    case frontend::kDescribe:
    case frontend::kSync:
    case frontend::kFunctionCall:
    case frontend::kTerminate:
      return true;
    default:
      return false;
  }
}

using Segment = RelaySegment;

// Where a grant's backend connections go: the connection, the grant's credentials, its TLS.
// Points into `context`, which must outlive the connecting.
inline BackendTarget backend_target(const gateway::GatewayContext& context,
                                    const policy::Grant& grant) {
  BackendTarget target;
  target.connection = grant.connection;
  target.credentials = grant.credentials;
  const auto tls = context.backend_tls.find(grant.connection->name);
  target.tls_context = tls == context.backend_tls.end() ? nullptr : tls->second.get();
  target.max_message_size = context.config->limits.max_message_size;
  target.timeout = context.config->limits.handshake_timeout;
  return target;
}

// A COPY's table without its schema (the parser gives `public.customers`).
inline std::string unqualified_table(std::string_view table) {
  const auto dot = table.rfind('.');
  return std::string(dot == std::string_view::npos ? table : table.substr(dot + 1));
}

inline bool has_rows_guardrail(const config::Config& config) {
  return std::any_of(config.guardrails.begin(), config.guardrails.end(),
                     [](const config::GuardrailConfig& g) { return g.when.rows_over.has_value(); });
}

// What the journal keeps of a statement too large to classify: its first word and its size.
// Nothing more: unclassified text cannot have its secrets (a role's password) redacted.
inline std::string statement_preview(std::string_view text) {
  constexpr std::size_t kMaxWord = 32;
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  std::size_t end = start;
  while (end < text.size() && end - start < kMaxWord &&
         std::isalpha(static_cast<unsigned char>(text[end])))
    ++end;
  return fmt::format("{} ... ({} bytes, not classified)", text.substr(start, end - start),
                     text.size());
}

// Backend messages that carry result values or text a masking profile rewrites, or that
// start a result the gateway cannot mask (COPY out).
inline bool masked_type(char type) {
  switch (type) {
    case backend::kRowDescription:
    case backend::kDataRow:
    case backend::kErrorResponse:
    case backend::kNoticeResponse:
    case backend::kCopyOutResponse:
    case backend::kCopyBothResponse:
    case backend::kCopyData:
    case backend::kCopyDone:
    case backend::kCommandComplete:
    case backend::kNoData:
    case backend::kNotificationResponse:
    case backend::kFunctionCallResponse:
      return true;
    default:
      return false;
  }
}

inline void add_segment(std::vector<Segment>& segments, bool synthetic, std::size_t offset,
                        std::size_t size) {
  if (size == 0) return;
  auto& last =
      segments.empty() ? segments.emplace_back(Segment{synthetic, offset, 0}) : segments.back();
  if (last.synthetic == synthetic && last.offset + last.size == offset) {
    last.size += size;
  } else {
    segments.push_back(Segment{synthetic, offset, size});
  }
}

// The segments as buffers to write, in `buffers` (kept by the caller from write to write, so
// that a write allocates nothing).
inline const std::vector<asio::const_buffer>& to_buffers(const std::vector<Segment>& segments,
                                                         std::string_view input,
                                                         const std::string& synthetic,
                                                         std::vector<asio::const_buffer>& buffers) {
  buffers.clear();
  for (const auto& s : segments)
    buffers.emplace_back(s.synthetic ? synthetic.data() + s.offset : input.data() + s.offset,
                         s.size);
  return buffers;
}

// The rest of a streamed message (CopyData, DataRow) that began in an earlier read: it is
// forwarded, or dropped, as it arrives, never buffered whole.
struct Passthrough {
  std::size_t remaining = 0;
  bool drop = false;

  // Takes what of it `input` holds from `pos`; false when no streamed message is open.
  bool step(std::size_t input_size, std::size_t& pos, std::vector<Segment>& segments) {
    if (remaining == 0) return false;
    const std::size_t take = std::min(remaining, input_size - pos);
    if (!drop) add_segment(segments, false, pos, take);
    pos += take;
    remaining -= take;
    return true;
  }
};

// After a batch is relayed: drops the bytes handled, makes room for the whole message the
// next batch needs (false: the shared buffer budget cannot hold it now), and gives a large
// message's memory back as soon as it has been relayed.
inline bool settle_relay_buffer(net::ByteBuffer& in, std::size_t handled,
                                std::size_t whole_message_needed) {
  in.consume(handled);
  if (whole_message_needed > 0 && !in.reserve_message(whole_message_needed)) return false;
  if (in.capacity() > kRelayBufferSize) in.release();
  return true;
}

// An idle connection holds no buffer: with nothing buffered and the socket emptied by the
// last read (`drained`, kept from read to read), a relay gives its buffer back and waits until
// the socket is readable before taking memory again (read_after_wait). True when it should
// wait so. The pumps await that wait themselves rather than in a coroutine of their own: an
// idle session then keeps no frame but its pumps' (~340 bytes a direction less).
inline bool release_for_wait(net::Stream& stream, net::ByteBuffer& in, bool drained) {
  if (!drained || !in.empty() || !stream.can_wait_unbuffered()) return false;
  in.release();
  return true;
}

// After that wait: reads what `stream` holds now into `in`, without a second asynchronous
// operation. Returns the bytes added (0: nothing came after all, wait again), or the error
// that ends this direction.
inline std::pair<net::error_code, std::size_t> read_after_wait(net::Stream& stream,
                                                               net::ByteBuffer& in, bool& drained) {
  net::error_code ec;
  const auto space = in.writable();
  const std::size_t n = stream.read_now(space, ec);
  if (ec == asio::error::would_block) return {net::error_code{}, std::size_t{0}};
  drained = n < space.size();
  if (!ec) in.commit(n);
  return {ec, n};
}

// Reads what `stream` has into the buffer `in` holds (a busy connection keeps it).
inline asio::awaitable<std::pair<net::error_code, std::size_t>> read_for_relay(net::Stream& stream,
                                                                               net::ByteBuffer& in,
                                                                               bool& drained) {
  const auto space = in.writable();
  auto [ec, n] = co_await stream.read_some(space);
  drained = n < space.size();
  if (!ec) in.commit(n);
  co_return std::pair{ec, n};
}

}  // namespace portcullis::proto::postgres
