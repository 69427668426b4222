// SessionRecorder: what one client session tells the audit journal, whatever its protocol.
// It turns decided commands into statement events (one per statement, text with secrets
// replaced), takes the outcomes the front end reports in order (rows, bytes, duration, error,
// masked counts, the masked rows kept), and records connects and disconnects.
#pragma once

#include <boost/container/deque.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/journal.h"
#include "common/gateway_metrics.h"
#include "config/config.h"
#include "gateway/refusal.h"
#include "identity/identity.h"
#include "masking/masker.h"
#include "policy/command.h"
#include "policy/decision.h"

namespace portcullis::gateway {

class SessionRecorder {
 public:
  using Completion = audit::Journal::Completion;
  // How a protocol writes a refusal in the journal's `error` field ("42501: message" for
  // PostgreSQL): with the code its clients saw.
  using ErrorText = std::string (*)(RefusalReason reason, std::string_view message);

  // Inactive (records nothing) until attached. `protocol` names the front end in every event.
  void attach(audit::Journal* journal, std::string session_id, std::string client_addr,
              std::string_view protocol, ErrorText error_text);
  bool active() const { return journal_ != nullptr; }
  bool healthy() const { return journal_ == nullptr || journal_->healthy(); }
  // Whether a forwarded command must wait for its event's commit.
  bool must_wait(config::AuditDurability durability) const {
    return journal_ != nullptr &&
           (durability == config::AuditDurability::strict || journal_->backlogged());
  }
  void set_caps(const config::RecordResultsConfig& caps) { caps_ = caps; }
  // The grant's masker (null when none), the counts the session accumulates with it, and
  // scratch space for masking bound parameters the same way.
  void set_masking(const masking::Masker* masker, const masking::MaskCounts* counts,
                   masking::Scratch* scratch) {
    masker_ = masker;
    counts_ = counts;
    scratch_ = scratch;
  }
  // Masked-value counts go to the gateway's metrics too (null: not counted).
  void set_metrics(GatewayMetrics* metrics) { metrics_ = metrics; }

  // The error text of a refusal, as the front end's clients saw it.
  std::string error_text(RefusalReason reason, std::string_view message) const;

  // `credential`: the credential that was verified before the refusal (Identity::credential),
  // empty when none was.
  void connect_refused(std::string_view claimed_subject, std::string_view connection,
                       std::string_view reason, std::string_view credential = {});
  void connected(const identity::Identity& identity, std::string connection);
  void disconnected(uint64_t bytes_in, uint64_t bytes_out,
                    std::chrono::steady_clock::duration duration);

  // Where a command held for review stands: its events carry this verdict (review_pending,
  // approved, rejected, expired), the reviewer and, in `statement`, the review's id.
  struct ReviewStep {
    std::string_view verdict;
    std::string_view review_id;
    std::string_view reviewer;
    std::string_view error;  // as error_text() wrote it, when the command was refused
    bool runs = false;       // approved: the command is forwarded
  };

  // One statement event per statement of a decided command. A forwarded one stays open until
  // its outcome is reported, or batch `serial` ends (on_batch_done); an allowed one that is
  // not `forwarded` is complete as recorded. `on_commit`, when given, is called for each
  // allowed event appended with it; returns how many that is.
  std::size_t decided(const policy::Command& command, const policy::Decision& decision,
                      bool forwarded, uint64_t serial, const Completion& on_commit,
                      const ReviewStep* review = nullptr);
  // A command prepared to run later (Intent::prepare): recorded with verdict "prepared" (and
  // the rule that would hold it, if one would), so that the journal holds every text the
  // backend was given to run, whatever route later runs it. Each run is decided and recorded
  // again.
  void prepared(const policy::Command& command, const policy::Decision& decision);
  // The command's text as the journal records it: each statement's, secrets replaced.
  static std::string recorded_command(const policy::Command& command);
  // A command refused before any decision (one the gateway cannot attribute, say).
  void refused(std::string_view text, RefusalReason reason, std::string_view message);

  // The outcomes of forwarded commands, in order, as sent to the client (after masking).
  struct ResultColumn {
    std::string_view name;
    bool binary = false;  // kept hex-encoded, as PostgreSQL prints bytea
  };
  // The current statement returns rows with these columns (a failed description: none, and
  // no rows are kept).
  void on_columns(std::span<const ResultColumn> columns, bool described = true);
  // Whether the next row would be kept: the front end decodes rows only then.
  bool keeping_rows() const { return !open_.empty() && open_.front().keeping; }
  // A row of the current statement: counted, and kept (up to the caps) when keeping_rows().
  // `values` in column order (nullopt: NULL); `body_size` the bytes the values took.
  void on_row(std::span<const std::optional<std::string_view>> values, std::size_t body_size,
              std::size_t message_size);
  // A row counted but not kept: too large to hold whole, or not decoded.
  void on_streamed_data(std::size_t message_size);
  // The current statement completed; `rows` when the protocol reports a count.
  void on_complete(std::optional<int64_t> rows);
  // It stopped with rows still to come (a suspended portal).
  void on_suspended();
  // It failed with `error`, as the protocol writes it ("SQLSTATE: message").
  void on_error(std::string error);
  // The result was withheld from the client: this and every statement that ends before the
  // batch does are recorded with that error, rows and errors unread.
  void on_withheld(std::string_view why);
  // Statements still open when batch `serial` ends did not run (an earlier one failed).
  void on_batch_done(uint64_t serial);

 private:
  struct Column {
    std::string name;
    bool binary = false;
  };
  struct Open {
    std::string id;
    uint64_t serial = 0;
    std::chrono::steady_clock::time_point started;
    uint64_t bytes_out = 0;
    std::optional<int64_t> rows;
    std::vector<bool> binary;  // by column: values kept hex-encoded
    std::size_t kept_bytes = 0;
    audit::ResultRows kept;
    bool keeping = false;  // columns were described: rows are kept up to the caps
  };

  audit::Event base_event(std::string_view type);
  // Appends a decided command's event with its verdict, keeping it open when it is forwarded;
  // true when it is appended with `on_commit`.
  bool append_decided(audit::Event event, const policy::Decision& decision, bool allowed,
                      bool forwarded, uint64_t serial, const Completion& on_commit,
                      const ReviewStep* review);
  std::string next_id();
  void complete_front(std::string error);
  std::map<std::string, uint64_t> masked_since_last();

  audit::Journal* journal_ = nullptr;
  GatewayMetrics* metrics_ = nullptr;
  ErrorText error_text_ = nullptr;
  std::string_view protocol_;
  std::string session_id_;
  std::string client_addr_;
  uint64_t counter_ = 0;
  config::RecordResultsConfig caps_;
  const masking::Masker* masker_ = nullptr;
  const masking::MaskCounts* counts_ = nullptr;
  masking::Scratch* scratch_ = nullptr;
  std::vector<uint64_t> counted_;  // counts_ at the last completed statement
  // Who, once authenticated.
  std::optional<identity::Identity> identity_;
  std::string connection_;
  std::shared_ptr<const audit::EventOrigin> origin_;  // built from the above at first use
  boost::container::deque<Open> open_;                // no allocation before the first statement
  std::string withheld_;                              // the error while a result is withheld
};

}  // namespace portcullis::gateway
