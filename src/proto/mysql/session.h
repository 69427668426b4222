// Session: one MySQL or MariaDB client connection through the gateway, from the greeting to
// the last packet. It reads the caller's token (asked for with an auth switch to
// mysql_clear_password, inside TLS), asks the gateway core to admit it, opens the backend with
// the gateway's credentials, then runs the command phase: every command the client sends is
// decided by the core's CommandGate before it reaches the backend, and every answer is masked
// on its way back. MySQL is request-response: one command at a time, so one coroutine runs the
// whole session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/accept_loop.h"
#include "gateway/admission.h"
#include "gateway/command_gate.h"
#include "masking/masker.h"
#include "proto/mysql/backend_connector.h"
#include "proto/mysql/capabilities.h"
#include "proto/mysql/packet_channel.h"
#include "proto/mysql/response.h"
#include "proto/mysql/sql_prepared_statements.h"
#include "proto/mysql/statement_packets.h"
#include "proto/mysql/thread_ids.h"
#include "sql/mysql/lexer.h"
#include "sql/statement.h"

namespace portcullis::proto::mysql {

class Session final : public gateway::ServedSession, public std::enable_shared_from_this<Session> {
 public:
  Session(gateway::AcceptedConnection connection, std::shared_ptr<ThreadIds> thread_ids);
  ~Session() override;

  boost::asio::awaitable<void> run() override;
  // Ends the session with an error to the client. Same thread only.
  void shut_down() override;
  void end(const gateway::Refusal& why);

  // Another connection of the same caller sent KILL QUERY for this session: the running
  // statement is interrupted (or a held one withdrawn). Same thread only.
  void kill_query();

 private:
  // A statement prepared with COM_STMT_PREPARE, by the backend's statement id.
  struct Prepared {
    std::string text;
    std::shared_ptr<const sql::Classification> classification;
    uint16_t params = 0;
    std::vector<ColumnDefinition> columns;        // from the prepare answer; updated by executions
    std::vector<ParamType> types;                 // the last execution's
    std::set<uint16_t> long_data;                 // parameters given by COM_STMT_SEND_LONG_DATA
    std::map<uint16_t, std::string> long_values;  // their bytes, for the journal (capped)
  };

  // How the answer to a forwarded command is read.
  enum class Answer {
    query,       // COM_QUERY: OK, ERR or text result sets, one per statement
    execute,     // COM_STMT_EXECUTE: binary result sets
    fetch,       // COM_STMT_FETCH: binary rows of the cursor's result set, then its end
    prepare,     // COM_STMT_PREPARE: the prepare answer and its definitions
    simple,      // OK or ERR (COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_SET_OPTION)
    field_list,  // COM_FIELD_LIST: column definitions then EOF, or ERR
    statistics,  // COM_STATISTICS: one string
    none,        // COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: nothing
  };

  // Start-up (session_startup.cc).
  boost::asio::awaitable<bool> handshake();
  boost::asio::awaitable<bool> connect_and_welcome(gateway::Admitted admitted,
                                                   const HandshakeResponse& response);
  // Runs a statement of the gateway's own on the backend (read-only, reading sql_mode):
  // its rows' first values, or an error.
  boost::asio::awaitable<Result<std::vector<std::string>>> run_internal(std::string_view sql);
  boost::asio::awaitable<Result<void>> read_text_settings();
  gateway::Caller caller() const;

  // The command phase (command_path.cc).
  boost::asio::awaitable<void> command_loop();
  boost::asio::awaitable<bool> handle_command(std::string_view payload);
  boost::asio::awaitable<bool> handle_query(std::string_view payload);
  boost::asio::awaitable<bool> handle_prepare(std::string_view payload);
  boost::asio::awaitable<bool> handle_execute(std::string_view payload);
  boost::asio::awaitable<bool> handle_init_db(std::string_view payload);
  boost::asio::awaitable<bool> handle_field_list(std::string_view payload);
  // Decides `command` (held commands wait for their review here); true when it may be
  // forwarded, after the journal has what it must.
  boost::asio::awaitable<bool> decide(policy::Command& command);
  // Watches the client's socket during a hold for its going away (EOF, COM_QUIT, a TLS
  // alert): a statement whose client left is not run when its review is approved later.
  void watch_client_during_hold();
  std::shared_ptr<const sql::Classification> classify(std::string_view text);
  // A statement KILL [QUERY|CONNECTION] n aimed at a session of this gateway: handled here.
  boost::asio::awaitable<std::optional<bool>> intercept_kill(const sql::Classification& c);

  // Answers (result_relay.cc).
  boost::asio::awaitable<bool> forward(std::string_view payload, Answer answer,
                                       Prepared* prepared = nullptr);
  boost::asio::awaitable<bool> relay_answer(Answer answer, Prepared* prepared);
  // One result (OK, ERR, or a result set up to its end); false when the session must end.
  // `more` says whether another result follows.
  boost::asio::awaitable<bool> relay_result(Answer answer, Prepared* prepared, bool& more);
  // Masks a row: false with `why` set when it cannot be masked as its plans require (the
  // result is then withheld); `rewritten` says whether `out` holds a new row.
  bool mask_row(std::string_view payload, bool binary, std::string& out, bool& rewritten,
                std::string& why);
  void record_row(std::string_view payload, bool binary);
  // The backend answered the statement at statement_index_ of what it is answering.
  void statement_answered(bool succeeded);
  void plan_columns();
  // An ERR packet's message masked as text that belongs to no column (duplicate-key errors
  // carry row values); the payload to send.
  std::string masked_error(std::string_view payload);
  // The backend connection broke with a command in flight: recorded, and the session ends.
  void backend_lost(std::string_view why);

  // Writing to the client.
  void queue_error(uint16_t code, std::string_view sql_state, std::string_view message);
  void queue_refusal(const gateway::Refusal& refusal);
  void queue_ok(uint16_t status_flags);
  boost::asio::awaitable<bool> flush_client();

  gateway::CommandGate gate_;
  std::shared_ptr<ThreadIds> thread_ids_;
  std::unique_ptr<PacketChannel> client_;
  std::unique_ptr<PacketChannel> backend_;
  std::function<void()> handshake_listener_;
  bool loopback_listener_ = false;
  // A connection made inside the gateway (AcceptedConnection::in_process).
  bool in_process_ = false;
  bool client_watch_pending_ = false;
  std::string id_;
  std::string client_address_;
  std::chrono::steady_clock::time_point started_;
  bool handshake_done_ = false;
  bool ended_ = false;

  uint32_t thread_id_ = 0;  // the id this client knows the session by (KILL)
  std::shared_ptr<KillTarget> kill_target_;
  BackendTarget backend_target_;
  Greeting backend_greeting_;
  Capabilities capabilities_ = 0;  // negotiated with both sides
  uint16_t backend_status_ = 0;
  sql::mysql::Reading reading_;
  bool multi_statements_ = false;
  bool reread_text_settings_ = false;
  // Strict audit in a read-only backend session (SET SESSION TRANSACTION READ ONLY done): a
  // command goes to the backend while its record is being synced, and its answer is flushed
  // to the client only once every pending record is durable (docs/audit.md, Durability).
  bool backend_read_only_ = false;
  bool answer_waits_for_journal_ = false;
  uint8_t answer_first_sequence_ = 0;  // where the held answer starts, to drop it whole
  uint64_t batch_ = 0;
  std::map<uint32_t, Prepared> prepared_;

  // The result being relayed.
  std::vector<ColumnDefinition> columns_;
  std::vector<masking::ColumnPlan> plans_;
  bool masking_ = false;
  RowValues row_values_;
  std::vector<std::optional<std::string>> rewritten_;
  std::vector<std::optional<std::string_view>> kept_values_;
  std::vector<std::string> kept_text_;
  masking::MaskResult mask_result_;
  // The statements of the command being answered, and which one the next result belongs to
  // (a CALL's result sets belong to it until its final OK).
  std::shared_ptr<const sql::Classification> answering_;
  std::size_t statement_index_ = 0;
  // PREPARE s FROM ...: what EXECUTE s runs.
  SqlPreparedStatements sql_prepared_;
  std::optional<Prepared> pending_prepare_;
  uint64_t rows_in_result_ = 0;
  // A row could not be masked: the client got an error, the rest of the answer is read and
  // dropped.
  bool withheld_ = false;
};

}  // namespace portcullis::proto::mysql
