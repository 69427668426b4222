// The command gate: decide, record, hold for review, claim an approval; live-session
// registration, just-in-time expiry and reloads.
#include "gateway/command_gate.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <iterator>

#include "gateway/admission.h"
#include "net/stream.h"

namespace portcullis::gateway {
namespace asio = boost::asio;
using net::use_nothrow;

template <typename Action>
auto CommandGate::on_this_thread(Action action) {
  return [owner = owner_, executor = executor_, this, action](auto&&... args) {
    asio::post(executor, [owner, this, action, args...] {
      if (auto alive = owner.lock()) action(*this, args...);
    });
  };
}

CommandGate::CommandGate(asio::any_io_executor executor, std::string_view protocol,
                         std::shared_ptr<const GatewayContext> context, const ContextSource* source)
    : executor_(executor),
      protocol_(protocol),
      context_(std::move(context)),
      source_(source),
      review_timer_(executor),
      access_timer_(executor),
      journal_progress_(executor) {}

void CommandGate::attach_recorder(std::string session_id, std::string client_address,
                                  SessionRecorder::ErrorText error_text) {
  session_id_ = session_id;
  if (!context_->journal) return;
  recorder_.attach(context_->journal.get(), std::move(session_id), std::move(client_address),
                   protocol_, error_text);
  recorder_.set_metrics(context_->metrics.get());
  recorder_.set_caps(context_->config->audit.record_results);
}

void CommandGate::open(std::weak_ptr<void> owner, identity::Identity identity, policy::Grant grant,
                       std::string client_address, Ender end) {
  owner_ = std::move(owner);
  end_ = std::move(end);
  identity_ = std::move(identity);
  grant_ = std::move(grant);
  masker_ = context_->masker(grant_->masking);
  if (masker_) mask_scratch_ = std::make_unique<masking::Scratch>();
  if (context_->live_sessions) {
    live_ = std::make_shared<LiveSession>();
    live_->id = session_id_;
    live_->subject = identity_->subject;
    live_->protocol = std::string(protocol_);
    live_->connection = grant_->connection->name;
    live_->client_addr = std::move(client_address);
    live_->started = std::chrono::system_clock::now();
    live_registration_ = context_->live_sessions->add(
        live_, on_this_thread([](CommandGate& gate, const std::string& reason) {
          spdlog::info("event=session_killed session={} subject={:?} reason={:?}", gate.session_id_,
                       gate.identity_->subject, reason);
          gate.ending_ = true;
          gate.interrupt();
          gate.end_(Refusal{.reason = RefusalReason::session_ended, .rule = {}, .message = reason});
        }));
  }
  arm_access_expiry();
  recorder_.set_masking(masker_, &mask_counts_, mask_scratch_.get());
  recorder_.connected(*identity_, grant_->connection->name);
}

void CommandGate::close() {
  ending_ = true;
  interrupt();
  access_timer_.cancel();
  journal_progress_.cancel();
}

void CommandGate::interrupt() {
  review_timer_.cancel();
}

void CommandGate::count_command() {
  ++commands_;
  if (live_) live_->commands.store(commands_, std::memory_order_relaxed);
}

bool CommandGate::refresh() {
  if (ending_) return false;
  auto current = source_ ? source_->load() : context_;
  if (current == context_) return true;
  // A reload took effect: the session goes on under the new snapshot, with the grant it
  // gives. If that grant is gone or would need another backend login, the session ends.
  auto grant =
      policy::select_grant(*current->config, *identity_, grant_->connection->name,
                           access_request_check(*current, *identity_, grant_->connection->name));
  if (!grant || grant->credentials->user != grant_->credentials->user ||
      grant->rule != grant_->rule ||
      policy::is_read_only(*grant) != policy::is_read_only(*grant_)) {
    spdlog::info("event=session_revoked session={} subject={:?} reason=\"configuration reloaded\"",
                 session_id_, identity_->subject);
    ending_ = true;
    end_(Refusal{.reason = RefusalReason::session_ended,
                 .rule = {},
                 .message = "the configuration changed and this session's access with it; "
                            "reconnect"});
    return false;
  }
  context_ = std::move(current);
  grant_ = std::move(*grant);
  masker_ = context_->masker(grant_->masking);
  if (masker_ && !mask_scratch_) mask_scratch_ = std::make_unique<masking::Scratch>();
  recorder_.set_caps(context_->config->audit.record_results);
  recorder_.set_masking(masker_, &mask_counts_, mask_scratch_.get());
  arm_access_expiry();
  return true;
}

void CommandGate::arm_access_expiry() {
  if (!grant_ || !grant_->expires_at) return;
  const auto remaining = *grant_->expires_at - std::chrono::system_clock::now();
  access_timer_.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining));
  access_timer_.async_wait([owner = owner_, this](const net::error_code& ec) {
    if (ec) return;
    auto alive = owner.lock();
    if (!alive || ending_) return;
    spdlog::info("event=session_revoked session={} subject={:?} reason=\"access expired\"",
                 session_id_, identity_->subject);
    ending_ = true;
    interrupt();
    end_(Refusal{.reason = RefusalReason::session_ended,
                 .rule = {},
                 .message = fmt::format("your just-in-time access to \"{}\" has expired; "
                                        "request it again",
                                        grant_->connection->name)});
  });
}

Refusal CommandGate::refuse_undecided(std::string_view shown, std::string_view via,
                                      Refusal refusal) {
  spdlog::info("event=command_refused session={} subject={:?} via={} reason={} message={:?}",
               session_id_, identity_->subject, via, to_string(refusal.reason), refusal.message);
  recorder_.refused(shown, refusal.reason, refusal.message);
  return refusal;
}

CommandGate::Outcome CommandGate::decide(policy::Command& command, uint64_t batch) {
  return decide_command(command, batch, false);
}

CommandGate::Outcome CommandGate::decide_operation(policy::Command& command) {
  return decide_command(command, 0, true);
}

CommandGate::Outcome CommandGate::decide_command(policy::Command& command, uint64_t batch,
                                                 bool operation) {
  const auto decision_started = std::chrono::steady_clock::now();
  command.protocol = protocol_;
  command.connection = grant_->connection->name;
  if (!recorder_.healthy()) {
    // Fail closed: nothing runs unrecorded.
    spdlog::warn(
        "event=command_refused session={} subject={:?} via={} reason=\"audit journal "
        "unavailable\"",
        session_id_, identity_->subject, command.via);
    return {Next::refuse,
            Refusal{.reason = RefusalReason::unavailable,
                    .rule = {},
                    .message = "the audit journal cannot be written; statements are refused "
                               "until it can (see the gateway's log)"}};
  }
  const auto decision = context_->decide(*context_->config, *identity_, *grant_, command);
  auto& metrics = *context_->metrics;
  metrics.observe_decision(std::chrono::steady_clock::now() - decision_started);
  const bool prepare = command.intent == policy::Intent::prepare;
  // Counted as journaled: a held command's steps are counted where they happen.
  if (!prepare && (decision.verdict != policy::Verdict::review || !context_->reviews || operation))
    metrics.count_verdict(decision.verdict == policy::Verdict::allow ? "allow" : "deny");
  if (decision.verdict == policy::Verdict::review && !operation) {
    // A prepared text is decided again at each run, where it is held. The grant allows it
    // (decide() refuses before any review otherwise): preparing it runs nothing.
    if (prepare) {
      recorder_.prepared(command, decision);
      return {Next::run, {}};
    }
    if (context_->reviews) {
      // Approved after an earlier hold timed out: this exact command runs once.
      auto claimed = context_->reviews->claim_approved_statement(
          identity_->subject, grant_->connection->name, approval_binding(command),
          std::chrono::system_clock::now());
      if (claimed && *claimed) {
        spdlog::info("event=command_approved session={} subject={:?} review={} reviewer={:?}",
                     session_id_, identity_->subject, (*claimed)->id, (*claimed)->decided_by);
        metrics.count_verdict("approved");
        const SessionRecorder::ReviewStep step{.verdict = "approved",
                                               .review_id = (*claimed)->id,
                                               .reviewer = (*claimed)->decided_by,
                                               .error = {},
                                               .runs = true};
        return admit(command, decision, batch, &step);
      }
      if (claimed) return hold(command, decision, batch);
      recorder_.decided(command, decision, false, batch, {});
      return {Next::refuse,
              Refusal{.reason = RefusalReason::unavailable,
                      .rule = decision.rule,
                      .message = "approval required, but the review store is unavailable (see "
                                 "the gateway's log)"}};
    }
  }
  if (decision.verdict == policy::Verdict::allow)
    return admit(command, decision, batch, nullptr, !operation);
  // A prepared text is decided again at each run, where it is recorded; a refused one is
  // recorded here, since it never runs.
  recorder_.decided(command, decision, false, batch, {});
  spdlog::info("event=command_refused session={} subject={:?} via={} verdict={} rule={}",
               session_id_, identity_->subject, command.via, policy::to_string(decision.verdict),
               decision.rule);
  if (decision.verdict == policy::Verdict::review && operation)
    return {Next::refuse,
            Refusal{.reason = RefusalReason::review_required,
                    .rule = decision.rule,
                    .message = fmt::format("approval required by rule \"{}\": {}; this is "
                                           "decided as it opens and cannot wait for a review: "
                                           "ask for just-in-time access instead",
                                           decision.rule, decision.message)}};
  if (decision.verdict == policy::Verdict::review)
    return {Next::refuse, Refusal{.reason = RefusalReason::review_required,
                                  .rule = decision.rule,
                                  .message = fmt::format("approval required by rule \"{}\": {}",
                                                         decision.rule, decision.message)}};
  return {Next::refuse, Refusal{.reason = RefusalReason::denied,
                                .rule = decision.rule,
                                .message = fmt::format("blocked by rule \"{}\": {}", decision.rule,
                                                       decision.message)}};
}

CommandGate::Outcome CommandGate::admit(const policy::Command& command,
                                        const policy::Decision& decision, uint64_t batch,
                                        const SessionRecorder::ReviewStep* review, bool followed) {
  if (command.intent == policy::Intent::prepare) {
    // Recorded for what it is: a text prepared, run (and recorded again) at each run.
    recorder_.prepared(command, decision);
    return {Next::run, {}};
  }
  SessionRecorder::Completion on_commit;
  if (recorder_.must_wait(context_->config->audit.durability))
    on_commit = on_this_thread([](CommandGate& gate, bool ok) { gate.on_journal_commit(ok); });
  journal_waits_ += recorder_.decided(command, decision, followed, batch, on_commit, review);
  return {Next::run, {}};
}

void CommandGate::on_journal_commit(bool committed) {
  --journal_waits_;
  if (!committed) journal_failed_ = true;
  journal_progress_.cancel();
}

asio::awaitable<std::optional<Refusal>> CommandGate::wait_for_commits() {
  while (journal_waits_ > 0 && !ending_) {
    // Both directions of a session may wait at once; setting the expiry again would cancel
    // the other's wait. A commit cancels the timer, which wakes every waiter.
    if (journal_progress_.expiry() != asio::steady_timer::time_point::max())
      journal_progress_.expires_at(asio::steady_timer::time_point::max());
    co_await journal_progress_.async_wait(use_nothrow);
  }
  if (journal_failed_) {
    spdlog::error(
        "event=command_refused session={} subject={:?} reason=\"audit journal unavailable\"",
        session_id_, identity_->subject);
    co_return Refusal{.reason = RefusalReason::unavailable,
                      .rule = {},
                      .message =
                          "the audit journal cannot be written; the statement was not run "
                          "and the session ends (see the gateway's log)"};
  }
  co_return std::nullopt;
}

std::string CommandGate::approval_binding(const policy::Command& command) {
  if (const auto* shell = command.shell()) {
    // A command line is its text; a file operation is bound to its paths as well, whatever
    // text its front end shows for it.
    if (shell->paths.empty()) return command.text;
    std::string binding = fmt::format("{}:{}", command.text.size(), command.text);
    for (const auto& path : shell->paths)
      fmt::format_to(std::back_inserter(binding), "|{}:{}", path.size(), path);
    return binding;
  }
  if (const auto* kube = command.kube()) {
    if (kube->body_sha256.empty()) return command.text;
    return fmt::format("{}:{}|body:{}", command.text.size(), command.text, kube->body_sha256);
  }
  const auto* sql = command.sql();
  if (!sql || sql->params.empty()) return command.text;
  // Length-prefixed, so that no text and values can be read as another text and values.
  std::string binding = fmt::format("{}:{}", command.text.size(), command.text);
  for (const auto& value : sql->params) {
    if (value)
      fmt::format_to(std::back_inserter(binding), "|{}:{}", value->size(), *value);
    else
      binding += "|NULL";
  }
  return binding;
}

std::string CommandGate::shown_parameters(const policy::Command& command) const {
  const auto* sql = command.sql();
  if (!sql || sql->params.empty()) return {};
  std::string shown = "\n-- parameters:";
  masking::MaskCounts ignored;
  masking::MaskResult masked;
  for (std::size_t i = 0; i < sql->params.size(); ++i) {
    const auto& value = sql->params[i];
    fmt::format_to(std::back_inserter(shown), "{} ${} = ", i == 0 ? "" : ",", i + 1);
    if (!value) {
      shown += "NULL";
      continue;
    }
    std::string_view text = *value;
    // Shown as the caller's results would be: masked with the grant's profile.
    masked.kind = masking::MaskResult::Kind::unchanged;
    if (masker_ && mask_scratch_ &&
        masker_->mask_value(text, masker_->plan_text(), masked, *mask_scratch_, ignored))
      text = masked.kind == masking::MaskResult::Kind::null ? std::string_view("NULL")
                                                            : std::string_view(masked.bytes);
    shown += '\'';
    for (char c : text) {
      if (c == '\'') shown += '\'';
      shown += c;
    }
    shown += '\'';
  }
  return shown;
}

CommandGate::Outcome CommandGate::hold(policy::Command& command, const policy::Decision& decision,
                                       uint64_t batch) {
  review::StatementHold request;
  request.requester = &*identity_;
  request.protocol = std::string(protocol_);
  request.session = session_id_;
  request.connection = grant_->connection->name;
  request.text = approval_binding(command);
  request.recorded_text = SessionRecorder::recorded_command(command) + shown_parameters(command);
  request.decision = &decision;
  auto opened = context_->reviews->open_statement_review(request, std::chrono::system_clock::now());
  if (!opened) {
    recorder_.decided(command, decision, false, batch, {});
    return {Next::refuse,
            Refusal{.reason = RefusalReason::unavailable,
                    .rule = decision.rule,
                    .message = "approval required, but the review cannot be opened (see the "
                               "gateway's log)"}};
  }
  context_->metrics->count_verdict("review_pending");
  const SessionRecorder::ReviewStep step{.verdict = "review_pending",
                                         .review_id = opened->id,
                                         .reviewer = {},
                                         .error = {},
                                         .runs = false};
  recorder_.decided(command, decision, false, batch, {}, &step);
  spdlog::info("event=command_held session={} subject={:?} via={} rule={} review={} wait_ms={}",
               session_id_, identity_->subject, command.via, decision.rule, opened->id,
               decision.wait.count());
  hold_ = std::make_unique<Hold>();
  hold_->review = opened->id;
  hold_->command = std::move(command);
  hold_->decision = decision;
  hold_->deadline = std::chrono::steady_clock::now() + decision.wait;
  return {Next::hold, {}};
}

CommandGate::HoldNotice CommandGate::hold_notice() const {
  const auto wait_s = std::chrono::duration_cast<std::chrono::seconds>(hold_->decision.wait);
  return HoldNotice{.message = fmt::format("approval required by rule \"{}\"; review {}; waiting "
                                           "up to {}s",
                                           hold_->decision.rule, hold_->review, wait_s.count()),
                    .detail = hold_->decision.message};
}

void CommandGate::on_review_decided(store::ReviewRecord review) {
  if (!hold_ || hold_->review != review.id) return;
  hold_->outcome = std::move(review);
  review_timer_.cancel();
}

void CommandGate::cancel_hold() {
  if (!hold_) return;
  spdlog::info("event=hold_cancelled session={} review={}", session_id_, hold_->review);
  hold_->cancelled = true;
  review_timer_.cancel();
}

void CommandGate::client_left() {
  if (!hold_) return;
  hold_->client_gone = true;
  review_timer_.cancel();
}

asio::awaitable<CommandGate::Outcome> CommandGate::wait_for_review(uint64_t batch) {
  auto& reviews = *context_->reviews;
  const std::string id = hold_->review;
  const auto wait_s = std::chrono::duration_cast<std::chrono::seconds>(hold_->decision.wait);
  if (live_) live_->set_held_review(id);
  const auto ticket =
      reviews.watch(id, on_this_thread([](CommandGate& gate, const store::ReviewRecord& r) {
                      gate.on_review_decided(r);
                    }));
  // Decided before the watch began (a quick reviewer): read it back.
  if (auto current = reviews.find(id);
      current && *current && (*current)->status != store::ReviewStatus::pending)
    hold_->outcome = **current;
  while (!hold_->outcome && !hold_->cancelled && !hold_->client_gone && !ending_ &&
         std::chrono::steady_clock::now() < hold_->deadline) {
    review_timer_.expires_at(hold_->deadline);
    co_await review_timer_.async_wait(use_nothrow);
  }
  reviews.unwatch(id, ticket);
  if (live_) live_->set_held_review({});

  Hold held = std::move(*hold_);
  hold_.reset();
  auto record = [&](std::string_view verdict, std::string_view reviewer, const Refusal* refusal) {
    const std::string error =
        refusal ? recorder_.error_text(refusal->reason, refusal->message) : "";
    const SessionRecorder::ReviewStep step{.verdict = verdict,
                                           .review_id = id,
                                           .reviewer = reviewer,
                                           .error = error,
                                           .runs = refusal == nullptr};
    if (refusal) {
      recorder_.decided(held.command, held.decision, false, batch, {}, &step);
      return Outcome{};
    }
    return admit(held.command, held.decision, batch, &step);
  };
  if (ending_ || held.client_gone) {
    const Refusal ended{.reason = RefusalReason::session_ended,
                        .rule = held.decision.rule,
                        .message = held.client_gone
                                       ? "the client left while its statement was held"
                                       : "the session ended while the statement was held"};
    const Refusal recorded{.reason = RefusalReason::session_ended,
                           .rule = {},
                           .message = "the session ended while the statement was held"};
    record("expired", {}, &recorded);
    if (held.client_gone && !ending_)
      spdlog::info("event=hold_abandoned session={} review={} reason=\"client left\"", session_id_,
                   id);
    co_return Outcome{Next::refuse, ended};
  }
  if (held.outcome && held.outcome->status == store::ReviewStatus::approved) {
    // This session runs it: the review is spent.
    if (auto r = reviews.mark_executed(id, std::chrono::system_clock::now()); !r) {
      // Run by another session of the same subject meanwhile, or the store failed.
      spdlog::warn("event=hold_release_failed session={} review={} error={:?}", session_id_, id,
                   r.error().message);
      const Refusal refusal{.reason = RefusalReason::expired,
                            .rule = held.decision.rule,
                            .message = fmt::format("review {} was approved but cannot be used: {}",
                                                   id, r.error().message)};
      const Refusal recorded{
          .reason = RefusalReason::expired, .rule = {}, .message = r.error().message};
      record("expired", {}, &recorded);
      co_return Outcome{Next::refuse, refusal};
    }
    spdlog::info("event=command_approved session={} subject={:?} review={} reviewer={:?}",
                 session_id_, identity_->subject, id, held.outcome->decided_by);
    context_->metrics->count_verdict("approved");
    auto outcome = record("approved", held.outcome->decided_by, nullptr);
    released_ = std::make_unique<policy::Command>(std::move(held.command));
    co_return outcome;
  }
  Refusal refusal{.reason = RefusalReason::expired, .rule = held.decision.rule, .message = {}};
  std::string verdict = "expired";
  std::string reviewer;
  if (held.outcome && held.outcome->status == store::ReviewStatus::rejected) {
    verdict = "rejected";
    reviewer = held.outcome->decided_by;
    refusal.reason = RefusalReason::rejected;
    refusal.message = fmt::format("review {} was rejected by {}{}{}", id, reviewer,
                                  held.outcome->comment.empty() ? "" : ": ", held.outcome->comment);
  } else if (held.cancelled) {
    refusal.reason = RefusalReason::cancelled;
    refusal.message = fmt::format(
        "canceling the held statement on user request; review {} stays pending: once approved, "
        "run the same statement again",
        id);
  } else if (held.outcome) {
    refusal.message = fmt::format("review {} expired before anyone decided it", id);
  } else {
    refusal.message = fmt::format(
        "review {} was not decided within {}s; it stays pending: once approved, run the same "
        "statement again within {} minutes of the approval",
        id, wait_s.count(),
        std::chrono::duration_cast<std::chrono::minutes>(context_->config->reviews.grant_lifetime)
            .count());
  }
  spdlog::info("event=command_refused session={} subject={:?} verdict={} review={}", session_id_,
               identity_->subject, verdict, id);
  context_->metrics->count_verdict(verdict);
  record(verdict, reviewer, &refusal);
  co_return Outcome{Next::refuse, refusal};
}

}  // namespace portcullis::gateway
