// The connection phase's messages: the server's greeting (Initial Handshake v10), the client's
// SSLRequest and HandshakeResponse41, and the authentication exchange that follows (auth
// switch, more data, OK, ERR). Pure: payloads in, structures out, and back.
// Reference: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "proto/mysql/capabilities.h"

namespace portcullis::proto::mysql {

inline constexpr uint8_t kProtocolVersion10 = 10;
// utf8mb4_general_ci: the character set both MariaDB and MySQL clients understand.
inline constexpr uint8_t kDefaultCharset = 45;
// The scramble a server sends: 20 bytes, as every password plugin expects.
inline constexpr std::size_t kScrambleSize = 20;

inline constexpr std::string_view kNativePassword = "mysql_native_password";
inline constexpr std::string_view kCachingSha2Password = "caching_sha2_password";
inline constexpr std::string_view kClearPassword = "mysql_clear_password";
inline constexpr std::string_view kEd25519 = "client_ed25519";

struct Greeting {
  std::string server_version;
  uint32_t thread_id = 0;
  std::string scramble;           // both parts joined, without the trailing NUL
  Capabilities capabilities = 0;  // MariaDB's extended ones included when the server sent them
  uint8_t charset = kDefaultCharset;
  uint16_t status = 0;
  std::string auth_plugin;  // empty when the server names none
  // MariaDB announces itself by clearing kLongPassword and sending its extended capabilities.
  bool mariadb() const { return (capabilities & capability::kLongPassword) == 0; }
};

Result<Greeting> decode_greeting(std::string_view payload);
std::string encode_greeting(const Greeting& greeting);

// The first 32 bytes of a HandshakeResponse41: what SSLRequest carries.
inline constexpr std::size_t kSslRequestSize = 32;

struct HandshakeResponse {
  Capabilities capabilities = 0;
  uint32_t max_packet = 0;
  uint8_t charset = kDefaultCharset;
  std::string user;
  std::string auth_response;
  std::string database;  // with kConnectWithDb
  std::string auth_plugin;
  std::vector<std::pair<std::string, std::string>> attributes;  // with kConnectAttrs
};

// An SSLRequest is a HandshakeResponse41 cut after its fixed part, with kSsl set.
bool is_ssl_request(std::string_view payload);
Result<HandshakeResponse> decode_handshake_response(std::string_view payload);
// A HandshakeResponse41 (or, with `ssl_request_only`, the SSLRequest before it).
std::string encode_handshake_response(const HandshakeResponse& response,
                                      bool ssl_request_only = false);

// The auth switch request (0xfe, plugin name, data): the server asks for another method.
struct AuthSwitch {
  std::string plugin;
  std::string data;  // the new scramble, without the trailing NUL
};
Result<AuthSwitch> decode_auth_switch(std::string_view payload);
std::string encode_auth_switch(const AuthSwitch& request);

// First bytes of the packets of the authentication exchange.
inline constexpr uint8_t kOkHeader = 0x00;
inline constexpr uint8_t kAuthMoreDataHeader = 0x01;
inline constexpr uint8_t kLocalInfileHeader = 0xfb;
inline constexpr uint8_t kEofHeader = 0xfe;  // also the auth switch request
inline constexpr uint8_t kErrHeader = 0xff;

}  // namespace portcullis::proto::mysql
