// A raw PostgreSQL protocol client for tests (protocol 3.0, cleartext password login).
#include "support/pg_wire_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace portcullis::testing {
namespace {

// Long enough for a loaded two-core machine; a hang still ends the test.
constexpr int kPgReceiveTimeoutSeconds = 30;
// Larger messages are not expected in tests; a bound keeps a bad length from allocating.
constexpr uint32_t kMaxMessage = 64u << 20;

void put32(std::string& out, uint32_t value) {
  const uint32_t big = htonl(value);
  out.append(reinterpret_cast<const char*>(&big), 4);
}
void put16(std::string& out, uint16_t value) {
  const uint16_t big = htons(value);
  out.append(reinterpret_cast<const char*>(&big), 2);
}
void put_cstring(std::string& out, std::string_view value) {
  out.append(value);
  out.push_back('\0');
}
// A typed message: type, Int32 length (itself included), body.
std::string message(char type, const std::string& body) {
  std::string out(1, type);
  put32(out, static_cast<uint32_t>(body.size() + 4));
  out += body;
  return out;
}
uint32_t get32(std::string_view in, std::size_t at) {
  uint32_t big;
  std::memcpy(&big, in.data() + at, 4);
  return ntohl(big);
}

}  // namespace

PgWireClient::PgWireClient(uint16_t port, const std::string& user, const std::string& password,
                           const std::string& database) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    login_error_ = "connect failed";
    return;
  }
  timeval timeout{kPgReceiveTimeoutSeconds, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  std::string startup;
  put32(startup, 196608);  // protocol 3.0
  put_cstring(startup, "user");
  put_cstring(startup, user);
  put_cstring(startup, "database");
  put_cstring(startup, database);
  startup.push_back('\0');
  std::string packet;
  put32(packet, static_cast<uint32_t>(startup.size() + 4));
  send(packet + startup);

  WireMessage reply;
  while (read_message(reply)) {
    if (reply.type == 'R' && reply.body.size() >= 4 && get32(reply.body, 0) == 3) {
      std::string body;
      put_cstring(body, password);
      send(message('p', body));
    } else if (reply.type == 'E') {
      login_error_ = error_message(reply.body);
      return;
    } else if (reply.type == 'Z') {
      ready_ = true;
      return;
    }
  }
  login_error_ = "the connection closed during login";
}

PgWireClient::~PgWireClient() {
  if (fd_ >= 0) {
    if (ready_) send(message('X', {}));
    ::close(fd_);
  }
}

std::string PgWireClient::parse(std::string_view statement, std::string_view query) {
  std::string body;
  put_cstring(body, statement);
  put_cstring(body, query);
  put16(body, 0);  // no parameter types given: the server infers them
  return message('P', body);
}

std::string PgWireClient::bind(std::string_view portal, std::string_view statement,
                               const std::vector<std::optional<std::string>>& params,
                               int16_t result_format) {
  std::string body;
  put_cstring(body, portal);
  put_cstring(body, statement);
  put16(body, 0);  // every parameter in text format
  put16(body, static_cast<uint16_t>(params.size()));
  for (const auto& param : params) {
    if (!param) {
      put32(body, 0xffffffffu);
      continue;
    }
    put32(body, static_cast<uint32_t>(param->size()));
    body += *param;
  }
  put16(body, 1);  // one result format for every column
  put16(body, static_cast<uint16_t>(result_format));
  return message('B', body);
}

std::string PgWireClient::describe(char target, std::string_view name) {
  std::string body(1, target);
  put_cstring(body, name);
  return message('D', body);
}

std::string PgWireClient::execute(std::string_view portal, int32_t max_rows) {
  std::string body;
  put_cstring(body, portal);
  put32(body, static_cast<uint32_t>(max_rows));
  return message('E', body);
}

std::string PgWireClient::sync() {
  return message('S', {});
}

std::string PgWireClient::function_call(uint32_t oid, const std::vector<std::string>& args,
                                        int16_t result_format) {
  std::string body;
  put32(body, oid);
  put16(body, 0);  // every argument in text format
  put16(body, static_cast<uint16_t>(args.size()));
  for (const auto& arg : args) {
    put32(body, static_cast<uint32_t>(arg.size()));
    body += arg;
  }
  put16(body, static_cast<uint16_t>(result_format));
  return message('F', body);
}

std::string PgWireClient::query(std::string_view sql) {
  std::string body;
  put_cstring(body, sql);
  return message('Q', body);
}

void PgWireClient::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::vector<WireMessage> PgWireClient::read_until_ready() {
  std::vector<WireMessage> messages;
  WireMessage next;
  while (read_message(next)) {
    const bool ready = next.type == 'Z';
    messages.push_back(std::move(next));
    if (ready) return messages;
  }
  // Closed or timed out: a FATAL error is the last message; mark the end with none.
  return messages;
}

bool PgWireClient::read_message(WireMessage& out) {
  char header[5];
  if (!read_exact(header, 5)) return false;
  const uint32_t length = get32(std::string_view(header, 5), 1);
  if (length < 4 || length > kMaxMessage) return false;
  out.type = header[0];
  out.body.assign(length - 4, '\0');
  return read_exact(out.body.data(), out.body.size());
}

bool PgWireClient::read_exact(char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::recv(fd_, out + done, size - done, 0);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::optional<std::string>> data_row_values(std::string_view body) {
  std::vector<std::optional<std::string>> values;
  if (body.size() < 2) return values;
  const std::size_t count = (std::size_t(uint8_t(body[0])) << 8) | uint8_t(body[1]);
  std::size_t at = 2;
  for (std::size_t i = 0; i < count && body.size() - at >= 4; ++i) {
    const uint32_t length = get32(body, at);
    at += 4;
    if (length == 0xffffffffu) {
      values.emplace_back();
      continue;
    }
    if (body.size() - at < length) break;
    values.emplace_back(std::string(body.substr(at, length)));
    at += length;
  }
  return values;
}

namespace {
template <class Visit>
void for_each_field(std::string_view body, Visit visit) {
  std::size_t at = 0;
  while (at < body.size() && body[at] != '\0') {
    const char code = body[at++];
    const auto end = body.find('\0', at);
    if (end == std::string_view::npos) return;
    visit(code, body.substr(at, end - at));
    at = end + 1;
  }
}
}  // namespace

std::string error_message(std::string_view body) {
  std::string text;
  for_each_field(body, [&](char code, std::string_view value) {
    if (code == 'M') text = value;
  });
  return text;
}

std::string error_fields_text(std::string_view body) {
  std::string text;
  for_each_field(body, [&](char code, std::string_view value) {
    text += code;
    text += '=';
    text += value;
    text += '\n';
  });
  return text;
}

std::string rows_text(const std::vector<WireMessage>& messages) {
  std::string text;
  for (const auto& message : messages) {
    if (message.type != 'D') continue;
    for (const auto& value : data_row_values(message.body)) {
      text += value.value_or("NULL");
      text += '|';
    }
    text += '\n';
  }
  return text;
}

bool has_message(const std::vector<WireMessage>& messages, char type) {
  for (const auto& message : messages)
    if (message.type == type) return true;
  return false;
}

}  // namespace portcullis::testing
