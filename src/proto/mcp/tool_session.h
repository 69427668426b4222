// What every tool's way into a front end shares: how it is handed to the front end, how it
// learns that its command is held for a review, and the error it reports when the front end
// refused or the session ended.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "common/result.h"
#include "gateway/accept_loop.h"

namespace portcullis::proto::mcp {

// Hands one end of a socketpair to the tool's front end (FrontEnd::adopt).
using Adopt = std::function<Result<void>(gateway::InProcessConnection)>;

// The review the tool session's current command is held for; empty while it is not held.
// (The live-session registry, looked up by the tool session's unique client address.)
using HoldProbe = std::function<std::string()>;
// How often a tool session whose command is running asks its HoldProbe.
inline constexpr std::chrono::milliseconds kHoldPoll{25};

// A socketpair: one end for the tool session, the other for the front end.
Result<std::pair<int, int>> make_socketpair();

// An error from the gateway or the target, as that protocol's client would show it.
struct ToolError {
  std::string code;  // a SQLSTATE, an HTTP status, ... ("" when none applies)
  std::string message;
  std::string detail;
};

}  // namespace portcullis::proto::mcp
