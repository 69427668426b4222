// What a session tells the journal: one event per connection attempt, per statement, per
// statement outcome, per disconnection. Protocol-neutral; the journal gives it its place in
// the chain (seq, instance, hashes).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/record.h"
#include "store/journal_store.h"

namespace portcullis::audit {

using TimePoint = std::chrono::system_clock::time_point;

// Event types (the `event` field).
inline constexpr std::string_view kEventConnect = "connect";
inline constexpr std::string_view kEventDisconnect = "disconnect";
inline constexpr std::string_view kEventStatement = "statement";
inline constexpr std::string_view kEventResult = "result";
// A step of the approval workflow (review opened, vote, expiry); `statement` holds the
// review's id.
inline constexpr std::string_view kEventReview = "review";
// A state-changing REST API request (kill, revoke, ...).
inline constexpr std::string_view kEventApi = "api";
// An MCP request: a session started or ended, a tool called (what the tool ran on a target is
// recorded by that target's front end, with the same client_addr).
inline constexpr std::string_view kEventMcp = "mcp";
// Written by the journal itself when it starts after a torn tail: `error` says what could not
// be read and where its bytes were kept.
inline constexpr std::string_view kEventRecovery = "recovery";

// Masked result rows kept with a statement's outcome, up to the `record_results` caps.
struct ResultRows {
  std::vector<std::string> columns;
  // Values as the caller received them (masked); text-format values as text, binary ones
  // as "\x" and hex, SQL NULL as nullopt.
  std::vector<std::vector<std::optional<std::string>>> rows;
  bool truncated = false;  // more rows or bytes came back than were kept
};

// Who and from where, the same for every event of a session: a session builds it once and its
// events share it, instead of each copying eight strings and a list on the I/O thread;
// `groups_json` is encoded once with it rather than by the writer for every event.
struct EventOrigin {
  std::string session;
  std::string subject;
  std::string subject_kind;
  std::vector<std::string> groups;
  std::string auth;
  // Which credential logged in (identity::Identity::credential); empty when none is named.
  std::string credential;
  std::string client_addr;
  std::string connection;
  std::string protocol;
  std::string groups_json;  // `groups` as the record holds it; make_origin fills it
};
std::shared_ptr<const EventOrigin> make_origin(EventOrigin origin);

struct Event {
  std::string event;  // kEvent...
  std::string id;     // unique: the session's id, a dot, a counter
  TimePoint time;
  std::string session;
  // Who and from where (every event carries them, so that each stands on its own).
  std::string subject;
  std::string subject_kind;
  std::vector<std::string> groups;
  std::string auth;
  std::string credential;
  std::string client_addr;
  std::string connection;
  std::string protocol;
  // When set, `session` to `protocol` above come from here and the event's own are ignored.
  std::shared_ptr<const EventOrigin> origin;
  // A statement: its text (secrets replaced by '***'), bound parameters, facts, decision.
  std::optional<std::string> command;
  std::optional<std::vector<std::optional<std::string>>> params;
  std::string fingerprint;
  std::vector<std::string> kinds;
  std::vector<std::string> classes;
  std::string verdict;
  std::string rule;
  std::string reviewer;
  // A result: the id of the statement event it completes.
  std::string statement;
  std::optional<int64_t> rows;
  std::optional<uint64_t> bytes_in;
  std::optional<uint64_t> bytes_out;
  std::map<std::string, uint64_t> masked;  // detector or column rule -> values masked
  std::optional<int64_t> duration_us;
  std::string error;  // "SQLSTATE: message", or why a connection was refused
  std::optional<ResultRows> results;
};

// "2026-11-25T21:04:05.123456789Z".
std::string format_time(TimePoint time);

// The record for `event` without seq, instance and hashes (the journal fills them), and the
// result rows' JSON body when the event keeps rows: the entry the store appends.
using EncodedEvent = store::JournalEntry;
EncodedEvent encode_event(const Event& event);
// The same, into `out` (empty): the journal encodes a batch in place rather than moving
// each record of 31 strings into the batch.
void encode_event(const Event& event, EncodedEvent& out);

}  // namespace portcullis::audit
