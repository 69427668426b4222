// PgWireClient: a PostgreSQL client on the raw protocol, for what no client library sends —
// an Execute without a Describe, a SQL FETCH of a protocol portal, messages in unusual orders.
// Blocking, with a receive timeout so that a hang fails the test instead of stalling it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::testing {

struct WireMessage {
  char type = 0;
  std::string body;
};

class PgWireClient {
 public:
  // Connects to 127.0.0.1:`port` and logs in as `user` to `database` with `password` (a
  // token, sent as the cleartext password the gateway asks for). ok() says whether it worked.
  PgWireClient(uint16_t port, const std::string& user, const std::string& password,
               const std::string& database);
  ~PgWireClient();
  PgWireClient(const PgWireClient&) = delete;
  PgWireClient& operator=(const PgWireClient&) = delete;

  bool ok() const { return ready_; }
  // What the server said when the login failed.
  const std::string& login_error() const { return login_error_; }

  // Message builders; nothing is sent until send().
  static std::string parse(std::string_view statement, std::string_view query);
  static std::string bind(std::string_view portal, std::string_view statement,
                          const std::vector<std::optional<std::string>>& params = {},
                          int16_t result_format = 0);
  static std::string describe(char target, std::string_view name);
  static std::string execute(std::string_view portal, int32_t max_rows = 0);
  static std::string sync();
  static std::string query(std::string_view sql);
  // A fast-path FunctionCall with text arguments.
  static std::string function_call(uint32_t oid, const std::vector<std::string>& args,
                                   int16_t result_format = 0);

  void send(const std::string& bytes);
  // Messages up to and including the next ReadyForQuery; empty when the connection closed or
  // timed out before one came (the last messages read are still returned).
  std::vector<WireMessage> read_until_ready();

 private:
  bool read_message(WireMessage& out);
  bool read_exact(char* out, std::size_t size);

  int fd_ = -1;
  bool ready_ = false;
  std::string login_error_;
};

// The values of a DataRow body (nullopt for NULL).
std::vector<std::optional<std::string>> data_row_values(std::string_view body);
// The message (M) field of an ErrorResponse or NoticeResponse body, and every field's text.
std::string error_message(std::string_view body);
std::string error_fields_text(std::string_view body);
// Every DataRow value of `messages`, joined with newlines: what a client would show.
std::string rows_text(const std::vector<WireMessage>& messages);
// Whether `messages` hold a message of `type`.
bool has_message(const std::vector<WireMessage>& messages, char type);

}  // namespace portcullis::testing
