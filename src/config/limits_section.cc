// `limits`: what one client may make the gateway hold or wait for, and the floors below which
// a limit would refuse every client.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {

void read_limits(Reader& r, const Value& v, LimitsConfig& limits) {
  Fields f =
      r.fields(v, {"max_startup_packet", "max_message_size", "max_statement_size",
                   "handshake_timeout", "idle_timeout", "max_connections", "max_unauthenticated",
                   "max_unauthenticated_per_address", "max_buffered_total"});
  if (const Value* x = f.find("max_startup_packet")) {
    if (auto s = r.read_size(*x)) limits.max_startup_packet = *s;
  }
  if (const Value* x = f.find("max_message_size")) {
    if (auto s = r.read_size(*x)) limits.max_message_size = *s;
  }
  if (const Value* x = f.find("max_statement_size")) {
    if (auto s = r.read_size(*x)) limits.max_statement_size = *s;
  }
  if (const Value* x = f.find("handshake_timeout")) {
    if (auto d = r.read_duration(*x, false)) limits.handshake_timeout = *d;
  }
  if (const Value* x = f.find("idle_timeout")) {
    if (auto d = r.read_duration(*x, true)) limits.idle_timeout = *d;
  }
  if (const Value* x = f.find("max_connections")) {
    if (auto n = r.read_count(*x, 1)) limits.max_connections = *n;
  }
  if (const Value* x = f.find("max_unauthenticated")) {
    if (auto n = r.read_count(*x, 1)) limits.max_unauthenticated = *n;
  }
  if (const Value* x = f.find("max_unauthenticated_per_address")) {
    if (auto n = r.read_count(*x, 1)) limits.max_unauthenticated_per_address = *n;
  }
  if (const Value* x = f.find("max_buffered_total")) {
    if (auto s = r.read_size(*x)) limits.max_buffered_total = *s;
  }
  // A startup packet is at least its length and protocol version (8 bytes); the smallest
  // useful one, with user and database, is larger still.
  constexpr std::size_t kMinStartupPacket = 64;
  constexpr std::size_t kMinMessageSize = 1024;
  if (limits.max_startup_packet < kMinStartupPacket) {
    r.problem(f.line(), fmt::format("limits.max_startup_packet must be at least {} bytes",
                                    kMinStartupPacket));
  }
  if (limits.max_message_size < kMinMessageSize) {
    r.problem(f.line(),
              fmt::format("limits.max_message_size must be at least {} bytes", kMinMessageSize));
  }
  // PostgreSQL's own bound on a value (MaxAllocSize); it also keeps a statement's journal
  // record within a segment frame.
  constexpr std::size_t kMaxMessageSize = 1u << 30;
  if (limits.max_message_size > kMaxMessageSize) {
    r.problem(f.line(), "limits.max_message_size must be at most 1GiB");
  }
  if (limits.max_statement_size < kMinMessageSize) {
    r.problem(f.line(),
              fmt::format("limits.max_statement_size must be at least {} bytes", kMinMessageSize));
  }
  // Otherwise a single message within max_message_size could never be held.
  if (limits.max_buffered_total < limits.max_message_size) {
    r.problem(f.line(), "limits.max_buffered_total must be at least limits.max_message_size");
  }
}

}  // namespace portcullis::config
