// CommandGate: the protocol-neutral half of a session, from admission to its end. Every
// command a front end is about to forward passes here: it is decided under the caller's
// grant, recorded, and then run, refused or held for a review; an approved hold is claimed
// once. The gate also keeps the session in the live-session registry (kill, revoke), ends it
// when just-in-time access runs out, and follows configuration reloads.
//
// A front end hands the gate a Command and gets back what to do; it asks the gate to wait for
// a review or for the journal, and tells it when the client cancels or leaves. Everything runs
// on the session's thread; callbacks from other threads are posted to it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/context.h"
#include "gateway/live_sessions.h"
#include "gateway/refusal.h"
#include "gateway/session_recorder.h"
#include "identity/identity.h"
#include "masking/masker.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decision.h"
#include "store/review_record.h"

namespace portcullis::gateway {

class CommandGate {
 public:
  // What the front end does with a decided command.
  enum class Next {
    run,     // forward it (recorded; with a strict journal, after wait_for_commits())
    refuse,  // answer with `refusal`; nothing was forwarded
    hold,    // held for a review: tell the client (hold_notice()) and wait_for_review()
  };
  struct Outcome {
    Next next = Next::run;
    Refusal refusal;  // for Next::refuse
  };

  // What a held command's client is told while it waits.
  struct HoldNotice {
    std::string message;  // "approval required by rule \"r\"; review r-…; waiting up to 60s"
    std::string detail;   // the rule's message
  };

  // The session ends with `why` (kill, revoke, expired access, changed configuration). Called
  // on the session's thread.
  using Ender = std::function<void(const Refusal& why)>;

  // `owner` keeps the session (and this gate, its member) alive for callbacks posted from
  // other threads; `source` (may be null) is where reloads appear.
  CommandGate(boost::asio::any_io_executor executor, std::string_view protocol,
              std::shared_ptr<const GatewayContext> context, const ContextSource* source);

  const GatewayContext& context() const { return *context_; }
  const std::shared_ptr<const GatewayContext>& context_ptr() const { return context_; }
  SessionRecorder& recorder() { return recorder_; }

  // Starts recording for a new session (before admission: refused logins are recorded too).
  void attach_recorder(std::string session_id, std::string client_address,
                       SessionRecorder::ErrorText error_text);

  // The session was admitted and its backend opened: registers it as live (`end` is how a
  // responder ends it), arms the expiry of just-in-time access and records the connect.
  void open(std::weak_ptr<void> owner, identity::Identity identity, policy::Grant grant,
            std::string client_address, Ender end);
  bool is_open() const { return identity_.has_value(); }
  const identity::Identity& identity() const { return *identity_; }
  const policy::Grant& grant() const { return *grant_; }
  LiveSession* live() const { return live_.get(); }
  // Stops the timers: the session is over (or ending).
  void close();

  // Result masking under the grant's profile: null when it masks nothing. Changes only in
  // refresh() (a reload).
  const masking::Masker* masker() const { return masker_; }
  masking::Scratch* mask_scratch() const { return mask_scratch_.get(); }
  masking::MaskCounts& mask_counts() { return mask_counts_; }

  // Picks up a reloaded configuration; ends the session (through the Ender) if its access
  // changed in a way a live session cannot follow. False when the session is ending.
  bool refresh();

  // Counts the command for the live-session view; call once per command received.
  void count_command();
  uint64_t commands() const { return commands_; }

  // Decides `command` (protocol and connection are filled in here) under the caller's grant.
  // A command to run is recorded before this returns (`batch`: the protocol's unit of
  // answers, see SessionRecorder::decided); a refused one is recorded and logged; a held one
  // has its review open.
  Outcome decide(policy::Command& command, uint64_t batch);

  // Decides an operation that is not followed to an outcome and cannot wait for a review (an
  // SSH port or agent forward, decided as its channel opens, while other commands of the
  // session may be running or held): allowed, its event is recorded complete (with a strict
  // journal, forward it after wait_for_commits()); one a rule would hold is refused, and
  // recorded so. Never Next::hold.
  Outcome decide_operation(policy::Command& command);

  // A command refused before it could be decided (too large to inspect, not attributable):
  // recorded as `shown`, logged, and the refusal to send returned.
  Refusal refuse_undecided(std::string_view shown, std::string_view via, Refusal refusal);

  // The held command (Next::hold) until wait_for_review() returns.
  bool holding() const { return hold_ != nullptr; }
  const policy::Command& held_command() const { return hold_ ? hold_->command : *released_; }
  HoldNotice hold_notice() const;
  const std::string& held_review() const { return hold_->review; }
  // Waits until the held command's review is decided, its wait runs out, the client cancels
  // or leaves, or the session ends. Next::run: the command is approved, recorded and to be
  // forwarded (held_command() is valid until the next decide()).
  boost::asio::awaitable<Outcome> wait_for_review(uint64_t batch);
  // The client withdrew the held command (a cancel request), or left.
  void cancel_hold();
  void client_left();
  // The session is ending: a hold in progress stops waiting.
  void interrupt();

  // Strict journal: waits until every recorded command about to be forwarded is on disk. A
  // refusal when one could not be written: nothing more may run and the session must end.
  boost::asio::awaitable<std::optional<Refusal>> wait_for_commits();
  bool commits_pending() const { return journal_waits_ > 0; }
  bool commit_failed() const { return journal_failed_; }

  // What an approval is bound to: the text and, for bound values, the values, so that an
  // approval for (5, false) does not run (5, true); for an SSH file operation, its paths.
  static std::string approval_binding(const policy::Command& command);

 private:
  struct Hold {
    std::string review;
    policy::Command command;
    policy::Decision decision;
    std::chrono::steady_clock::time_point deadline;
    std::optional<store::ReviewRecord> outcome;  // approved or rejected, once decided
    bool cancelled = false;
    bool client_gone = false;
  };

  // decide() and decide_operation(): an operation is never held, nor followed once allowed.
  Outcome decide_command(policy::Command& command, uint64_t batch, bool operation);
  // The allowed path: recorded (with `review`, the step that let it run).
  Outcome admit(const policy::Command& command, const policy::Decision& decision, uint64_t batch,
                const SessionRecorder::ReviewStep* review, bool followed = true);
  Outcome hold(policy::Command& command, const policy::Decision& decision, uint64_t batch);
  // The bound values as a reviewer sees them after the text: masked by the grant's profile.
  std::string shown_parameters(const policy::Command& command) const;
  void arm_access_expiry();
  void on_review_decided(store::ReviewRecord review);
  void on_journal_commit(bool committed);
  // Runs `action` on the session's thread if the session still exists.
  template <typename Action>
  auto on_this_thread(Action action);

  boost::asio::any_io_executor executor_;
  std::string_view protocol_;
  std::shared_ptr<const GatewayContext> context_;
  const ContextSource* source_;
  std::weak_ptr<void> owner_;
  SessionRecorder recorder_;
  std::string session_id_;
  std::optional<identity::Identity> identity_;
  std::optional<policy::Grant> grant_;
  Ender end_;
  bool ending_ = false;
  const masking::Masker* masker_ = nullptr;
  std::unique_ptr<masking::Scratch> mask_scratch_;
  masking::MaskCounts mask_counts_;
  // Out of line, as the released command: ~1.1 KiB that most sessions never use, and every
  // idle one would otherwise hold.
  std::unique_ptr<Hold> hold_;
  // The command released by the last review, for the front end (held_command()).
  std::unique_ptr<policy::Command> released_;
  boost::asio::steady_timer review_timer_;
  boost::asio::steady_timer access_timer_;
  boost::asio::steady_timer journal_progress_;
  // Recorded events not yet committed that must be before their commands are forwarded.
  std::size_t journal_waits_ = 0;
  bool journal_failed_ = false;
  uint64_t commands_ = 0;
  std::shared_ptr<LiveSession> live_;
  std::unique_ptr<LiveSessions::Registration> live_registration_;
};

}  // namespace portcullis::gateway
