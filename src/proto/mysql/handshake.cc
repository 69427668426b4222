// The connection phase's messages.
#include "proto/mysql/handshake.h"

#include "proto/mysql/packet.h"

namespace portcullis::proto::mysql {
namespace {

// The filler after the fixed fields of HandshakeResponse41: 23 bytes in MySQL, of which
// MariaDB uses the last 4 for its extended capabilities.
constexpr std::size_t kResponseFiller = 19;
// The greeting's auth-plugin-data part 1, and the reserved bytes after the status.
constexpr std::size_t kScramblePart1 = 8;
constexpr std::size_t kGreetingReserved = 6;

Error malformed(std::string_view what) {
  return Error{std::string("malformed ") + std::string(what)};
}

}  // namespace

Result<Greeting> decode_greeting(std::string_view payload) {
  PacketReader r(payload);
  if (r.peek() == kErrHeader) return malformed("greeting: the server sent an error");
  if (r.u8() != kProtocolVersion10) return malformed("greeting: not protocol version 10");
  Greeting g;
  g.server_version = std::string(r.nul_string());
  g.thread_id = r.u32();
  g.scramble = std::string(r.bytes(kScramblePart1));
  r.skip(1);
  g.capabilities = r.u16();
  if (!r.ok()) return malformed("greeting");
  if (r.at_end()) return g;  // a pre-4.1 server: the session refuses it for want of kProtocol41
  g.charset = r.u8();
  g.status = r.u16();
  g.capabilities |= static_cast<Capabilities>(r.u16()) << 16;
  const uint8_t data_length = r.u8();
  r.skip(kGreetingReserved);
  const uint32_t mariadb_caps = r.u32();
  if (!r.ok()) return malformed("greeting");
  if (g.mariadb()) g.capabilities |= static_cast<Capabilities>(mariadb_caps) << 32;
  if (g.capabilities & capability::kSecureConnection) {
    // max(13, length - 8) bytes, the last of which is a NUL that is not part of the scramble.
    const std::size_t part2 =
        std::max<std::size_t>(13, data_length > kScramblePart1 ? data_length - kScramblePart1 : 0);
    auto rest = r.bytes(std::min(part2, r.remaining()));
    if (!rest.empty() && rest.back() == '\0') rest.remove_suffix(1);
    g.scramble.append(rest);
  }
  if (g.capabilities & capability::kPluginAuth) g.auth_plugin = std::string(r.nul_or_rest());
  if (!r.ok()) return malformed("greeting");
  return g;
}

std::string encode_greeting(const Greeting& g) {
  std::string out;
  PacketWriter w(out);
  w.u8(kProtocolVersion10).nul_string(g.server_version).u32(g.thread_id);
  const std::string_view scramble = g.scramble;
  w.bytes(scramble.substr(0, kScramblePart1)).u8(0);
  w.u16(static_cast<uint16_t>(g.capabilities & 0xffff)).u8(g.charset).u16(g.status);
  w.u16(static_cast<uint16_t>((g.capabilities >> 16) & 0xffff));
  w.u8(static_cast<uint8_t>(scramble.size() + 1)).zeros(kGreetingReserved);
  w.u32(g.mariadb() ? static_cast<uint32_t>(g.capabilities >> 32) : 0);
  w.bytes(scramble.substr(std::min(scramble.size(), kScramblePart1))).u8(0);
  if (g.capabilities & capability::kPluginAuth) w.nul_string(g.auth_plugin);
  return out;
}

bool is_ssl_request(std::string_view payload) {
  if (payload.size() != kSslRequestSize) return false;
  PacketReader r(payload);
  return (r.u32() & capability::kSsl) != 0;
}

Result<HandshakeResponse> decode_handshake_response(std::string_view payload) {
  PacketReader r(payload);
  HandshakeResponse h;
  h.capabilities = r.u32();
  if (r.ok() && !(h.capabilities & capability::kProtocol41))
    return Error{"the client speaks a protocol older than 4.1, which the gateway does not"};
  h.max_packet = r.u32();
  h.charset = r.u8();
  r.skip(kResponseFiller);
  const uint32_t mariadb_caps = r.u32();
  if (!(h.capabilities & capability::kLongPassword))
    h.capabilities |= static_cast<Capabilities>(mariadb_caps) << 32;
  h.user = std::string(r.nul_string());
  if (h.capabilities & capability::kPluginAuthLenencData) {
    h.auth_response = std::string(r.lenenc_string());
  } else if (h.capabilities & capability::kSecureConnection) {
    h.auth_response = std::string(r.bytes(r.u8()));
  } else {
    h.auth_response = std::string(r.nul_string());
  }
  if (h.capabilities & capability::kConnectWithDb) h.database = std::string(r.nul_or_rest());
  if ((h.capabilities & capability::kPluginAuth) && !r.at_end())
    h.auth_plugin = std::string(r.nul_or_rest());
  if ((h.capabilities & capability::kConnectAttrs) && !r.at_end()) {
    PacketReader attrs(r.lenenc_string());
    while (r.ok() && attrs.ok() && !attrs.at_end()) {
      auto key = attrs.lenenc_string();
      auto value = attrs.lenenc_string();
      if (attrs.ok()) h.attributes.emplace_back(key, value);
    }
    if (!attrs.ok()) return malformed("handshake response: connection attributes");
  }
  if (!r.ok()) return malformed("handshake response");
  return h;
}

std::string encode_handshake_response(const HandshakeResponse& h, bool ssl_request_only) {
  std::string out;
  PacketWriter w(out);
  w.u32(static_cast<uint32_t>(h.capabilities)).u32(h.max_packet).u8(h.charset);
  w.zeros(kResponseFiller);
  w.u32((h.capabilities & capability::kLongPassword) ? 0
                                                     : static_cast<uint32_t>(h.capabilities >> 32));
  if (ssl_request_only) return out;
  w.nul_string(h.user);
  if (h.capabilities & capability::kPluginAuthLenencData) {
    w.lenenc_string(h.auth_response);
  } else if (h.capabilities & capability::kSecureConnection) {
    const std::string_view response = std::string_view(h.auth_response).substr(0, 255);
    w.u8(static_cast<uint8_t>(response.size())).bytes(response);
  } else {
    w.nul_string(h.auth_response);
  }
  if (h.capabilities & capability::kConnectWithDb) w.nul_string(h.database);
  if (h.capabilities & capability::kPluginAuth) w.nul_string(h.auth_plugin);
  if (h.capabilities & capability::kConnectAttrs) {
    std::string attrs;
    PacketWriter a(attrs);
    for (const auto& [key, value] : h.attributes) a.lenenc_string(key).lenenc_string(value);
    w.lenenc_string(attrs);
  }
  return out;
}

Result<AuthSwitch> decode_auth_switch(std::string_view payload) {
  PacketReader r(payload);
  if (r.u8() != kEofHeader) return malformed("auth switch request");
  AuthSwitch s;
  s.plugin = std::string(r.nul_or_rest());
  auto data = r.rest();
  // The 20-byte scramble of mysql_native_password and caching_sha2_password ends with a NUL;
  // client_ed25519's 32-byte nonce has none, and its last byte may be zero.
  if (s.plugin != kEd25519 && !data.empty() && data.back() == '\0') data.remove_suffix(1);
  s.data = std::string(data);
  if (!r.ok()) return malformed("auth switch request");
  return s;
}

std::string encode_auth_switch(const AuthSwitch& request) {
  std::string out;
  PacketWriter(out).u8(kEofHeader).nul_string(request.plugin).bytes(request.data).u8(0);
  return out;
}

}  // namespace portcullis::proto::mysql
