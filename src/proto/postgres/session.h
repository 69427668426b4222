// Session: one PostgreSQL client connection through the gateway, from its first packet to its
// last. It reads the caller's credential and asks the gateway core to admit it, opens the
// backend with the gateway's credentials, then relays messages both ways; every command the
// caller sends passes the core's CommandGate first, and results are masked on their way back.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/accept_loop.h"
#include "gateway/admission.h"
#include "gateway/command_gate.h"
#include "gateway/context.h"
#include "identity/identity.h"
#include "net/async_lock.h"
#include "net/message_budget.h"
#include "net/stream.h"
#include "policy/access.h"
#include "proto/postgres/cancel_registry.h"
#include "proto/postgres/data_row_masking.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/message.h"
#include "proto/postgres/result_journal.h"
#include "proto/postgres/row_estimator.h"
#include "proto/postgres/sql_prepared_statements.h"
#include "proto/postgres/statement_classifier.h"
#include "proto/postgres/statement_tracker.h"
#include "proto/postgres/table_names.h"

namespace portcullis::proto::postgres {

// A byte range the relay forwards: from its read buffer, or from bytes the gateway made.
struct RelaySegment {
  bool synthetic;
  std::size_t offset;
  std::size_t size;
};

class Session : public gateway::ServedSession, public std::enable_shared_from_this<Session> {
 public:
  // The connection's context source must outlive the session's commands: sessions re-read it
  // before each command, so a reload takes effect at the next one.
  Session(gateway::AcceptedConnection connection, std::shared_ptr<CancelRegistry> cancels,
          std::shared_ptr<StatementClassifier> classifier);
  ~Session() override;

  // Runs the whole session; returns when both connections are closed.
  boost::asio::awaitable<void> run() override;
  // Ends the session with a FATAL "shutting down" error. Same thread only.
  void shut_down() override;
  // Ends the session with a FATAL error to the client. Same thread only.
  void terminate(std::string_view sqlstate, std::string message);

  const std::string& id() const { return id_; }

 private:
  // Which message carried a command.
  enum class Via { query, parse, execute, function_call };
  static std::string_view to_string(Via via);

  // What the relay does with a message the client sent.
  enum class Action {
    forward,
    drop,
    close,
    hold,  // held for review (the gate's): forwarded or refused once decided
  };

  // A point where the backend will answer with ReadyForQuery (a Query, a Sync, a
  // FunctionCall), and what the gateway must add there.
  struct SyncPoint {
    bool synthetic = false;  // refused before reaching the backend: the gateway answers
    bool backend_errored = false;
    // A Sync sent while COPY FROM STDIN may be running: the backend ignores it if so.
    bool maybe_swallowed = false;
    std::string error;    // an ErrorResponse the gateway owes the client at this point
    uint64_t serial = 0;  // in the order sync points were made
    // A statement of the batch reads a column the masking profile masks by a column rule (or
    // a whole row): computed outputs, error texts and reported settings of the batch are
    // masked whole with this plan. `skip` when it reads none.
    masking::ColumnPlan reads_masked_columns;
    // A FunctionCall's: the format of the value its FunctionCallResponse carries.
    FormatCode function_result = FormatCode::text;
  };

  // A Describe the backend has yet to answer. Its answer (RowDescription or NoData, after a
  // ParameterDescription for a statement) comes in the order the Describes were sent.
  struct PendingDescribe {
    uint64_t serial = 0;    // the sync point of its batch
    bool portal = false;    // 'P': the description of a result; 'S': of a prepared statement
    bool injected = false;  // the gateway's own, sent before an Execute: not forwarded
  };
  enum class DescribeAnswer { none, statement, portal, injected };

  boost::asio::awaitable<bool> handshake();
  // `buffer`: bytes the client sent after its startup packet.
  boost::asio::awaitable<bool> authenticate_and_connect(const StartupMessage& startup,
                                                        std::string buffer);
  boost::asio::awaitable<void> handle_cancel(const CancelRequest& request);
  boost::asio::awaitable<void> relay();
  boost::asio::awaitable<void> pump_client_to_backend();
  boost::asio::awaitable<void> pump_backend_to_client();
  boost::asio::awaitable<void> idle_watchdog();

  Action on_client_message(const Message& message);
  // Before a Query or Execute is decided: when a guardrail with `rows_over` would decide it,
  // the planner's estimates of the rows its writes touch (row_estimates_).
  boost::asio::awaitable<void> estimate_rows(const Message& message);
  // Classifies the text of a large Query, Parse or Execute on the classifier's worker thread
  // before the message is handled (preclassified_).
  boost::asio::awaitable<void> classify_large_text(const Message& message);
  // Follows the session's search_path for the row estimates, from a forwarded command.
  void follow_search_path(const policy::Command& command, Via via);
  std::shared_ptr<const sql::Classification> classify(const policy::Command& command, Via via);
  // Hands a command to the gate and carries out what it says: forward, refuse or hold.
  Action decide(policy::Command command, Via via, bool extended);
  // The session's bookkeeping for a command the gate let through.
  void on_admitted(const policy::Command& command, Via via, bool extended);
  // Tells the client its command is held and waits for the gate's verdict; true when the
  // held message is to be forwarded, false when it was refused.
  boost::asio::awaitable<bool> wait_for_review();
  // Watches the client's socket during a hold for its going away (EOF, Terminate, TLS alert).
  void watch_client_during_hold();
  // Called on the session's thread: a CancelRequest names us.
  void on_cancel_request();
  // Bookkeeping for a backend ReadyForQuery; false if no command was waiting for it.
  bool on_ready_for_query(std::string& synthetic, std::vector<RelaySegment>& segments);
  // Masks one whole backend message when the grant's profile asks for it. Appends what to
  // send (the original, a rewritten message, or an error when the result is withheld).
  void mask_backend_message(const Message& message, std::size_t offset, std::size_t total,
                            std::string& synthetic, std::vector<RelaySegment>& segments);
  void withhold(std::string_view why, std::string& synthetic, std::vector<RelaySegment>& segments);
  // A RowDescription or NoData from the backend: which Describe, if any, it answers.
  DescribeAnswer take_describe_answer();
  // The masking plan of a result from its RowDescription; false when it cannot be made.
  Result<void> plan_result(std::string_view row_description);
  // The column-rule plan for what the statements of `classification` compute from masked
  // columns (see SyncPoint::reads_masked_columns).
  masking::ColumnPlan masked_column_reads(const sql::Classification& classification) const;
  // At CopyOutResponse under a masking profile: how the COPY's rows will be masked, or why
  // they cannot be.
  Result<void> start_copy_masking(std::string_view copy_out_response);
  // Table OIDs of a RowDescription whose names the masking plan needs and does not have.
  std::vector<uint32_t> tables_to_look_up(std::string_view row_description) const;
  void push_sync_point(SyncPoint point);
  // Answers a refused command with an ErrorResponse, in order with the backend's answers.
  void refuse(std::string_view sqlstate, std::string_view message, bool extended);
  void refuse(const gateway::Refusal& refusal, bool extended);
  // Keeps the statement tracker and the sync points in step with a backend message.
  bool follow_backend_message(char type);
  // Appends the synthetic answers at the head of the sync queue to `out`.
  void drain_synthetic(std::string& out);
  boost::asio::awaitable<void> write_to_client(std::string bytes);
  boost::asio::awaitable<void> fail(std::string_view sqlstate, std::string message);
  boost::asio::awaitable<void> fail(const gateway::Refusal& refusal);
  // The caller as the gateway core sees it.
  gateway::Caller caller() const;

  // The gateway core's half of the session: admission, decisions, holds, the journal.
  gateway::CommandGate gate_;
  // What the journal learns of the backend's answers.
  ResultJournal results_{gate_.recorder()};
  // The command held for review: how it came, for its bookkeeping once released.
  Via held_via_ = Via::query;
  bool held_extended_ = false;
  // Shared: a session torn down with its event loop may outlive the server.
  std::shared_ptr<CancelRegistry> cancels_;
  std::shared_ptr<StatementClassifier> classifier_;
  // A large text classified off the I/O thread just before its message is handled.
  std::optional<std::pair<std::string, std::shared_ptr<const sql::Classification>>> preclassified_;
  bool loopback_listener_;
  // A connection made inside the gateway (AcceptedConnection::in_process).
  bool in_process_;
  std::string id_;
  std::string client_address_;
  std::chrono::steady_clock::time_point started_;

  std::shared_ptr<net::Stream> client_;
  std::shared_ptr<net::Stream> backend_;
  net::AsyncLock client_write_lock_;

  std::optional<BackendKeyData> gateway_key_;
  std::string backend_pending_;  // bytes the backend sent with its first ReadyForQuery

  StatementTracker statements_;
  SqlPreparedStatements sql_prepared_;
  uint32_t function_oid_ = 0;                             // of the FunctionCall being decided
  FormatCode function_result_format_ = FormatCode::text;  // and the format of its result
  std::vector<ColumnMasking> row_plan_;  // from the RowDescription of the current result
  // A result is being described by row_plan_: set by its RowDescription, cleared where it
  // ends. A DataRow outside one is withheld, never masked with another result's plan.
  bool row_plan_valid_ = false;
  boost::container::deque<PendingDescribe> pending_describes_;
  // The portal the client described since its last Bind, Execute or Sync: an Execute of it
  // needs no Describe of the gateway's.
  std::optional<std::string> described_portal_;
  // The Describe to send right before the Execute being handled (empty: none), and the one
  // kept with a held Execute.
  std::string describe_to_inject_;
  std::string held_describe_;
  // What the commands since the last sync point read of masked columns.
  masking::ColumnPlan batch_masked_reads_;
  // Allowed COPY ... TO STDOUT statements awaiting their CopyOutResponse, by sync serial.
  struct PendingCopy {
    uint64_t serial;
    sql::CopyOptions options;
  };
  // Boost's deques allocate nothing until their first element: an idle session holds none.
  boost::container::deque<PendingCopy> pending_copies_;
  // The COPY being masked: its row format and a plan per column.
  struct CopyMasking {
    CopyFormat format;
    std::string table;
    std::vector<masking::ColumnPlan> plans;
    bool header_pending = false;   // CSV HEADER: the first row names the columns
    masking::ColumnPlan computed;  // COPY (query) reading masked columns: see SyncPoint
  };
  masking::ColumnPlan copy_column_plan(const CopyMasking& copy, std::string_view name) const;
  std::optional<CopyMasking> copy_out_;
  // Estimates made for the command being decided (matched by its text and values).
  struct RowEstimates {
    std::string text;
    std::vector<std::optional<std::string>> params;
    std::vector<std::optional<uint64_t>> rows;
  };
  std::optional<RowEstimates> row_estimates_;
  RowEstimator estimator_;
  // The session's search_path as the estimates must see it: a SET to replay (empty: the
  // role's default), or unknown after a change the gateway cannot follow.
  std::string search_path_set_;
  bool search_path_unknown_ = false;
  // Names of the tables result columns come from, for column rules that name a table.
  TableNames tables_;
  std::string tables_error_;    // the last lookup failed: results needing it are withheld
  std::string masked_;          // a rewritten message body
  std::string redacted_error_;  // an error's fields with quoted values redacted
  // A result could not be masked: the client got an error, and everything up to the
  // backend's ReadyForQuery is dropped.
  bool withholding_ = false;
  bool copy_from_pending_ = false;  // an allowed COPY FROM STDIN was sent by Execute
  bool copy_in_started_ = false;    // the backend answered CopyInResponse
  // Cancelled by the backend pump whenever a batch is answered; the client pump waits on it.
  boost::asio::steady_timer backend_progress_;
  boost::container::deque<SyncPoint> sync_points_;
  uint64_t next_sync_serial_ = 0;
  bool skipping_until_sync_ = false;  // an extended-protocol message was refused
  std::string owed_error_;            // the ErrorResponse owed at the next Sync
  char transaction_status_ = 'I';
  // Strict audit in a read-only backend session: a statement goes to the backend while its
  // record is being synced, and nothing from the backend reaches the client before every
  // record it waits for is durable (docs/audit.md, Durability). `backend_read_only_`: the
  // backend reported default_transaction_read_only = on at startup and has not reported
  // otherwise since. `forwarded_before_durable_`: something went out that way and the backend
  // pump has not yet seen every pending record made durable.
  bool backend_read_only_ = false;
  bool forwarded_before_durable_ = false;
  std::chrono::steady_clock::time_point last_client_activity_;
  bool terminated_ = false;
  bool handshake_done_ = false;
  std::function<void()> handshake_listener_;
  std::shared_ptr<net::MessageBudget> message_budget_;  // null: no shared bound
  bool client_watch_pending_ = false;

  uint64_t bytes_from_client_ = 0;
  uint64_t bytes_to_client_ = 0;
};

}  // namespace portcullis::proto::postgres
