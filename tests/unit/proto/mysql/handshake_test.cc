#include "proto/mysql/handshake.h"

#include <gtest/gtest.h>

#include "hex.h"

namespace portcullis::proto::mysql {
namespace {
using testing::from_hex;
using testing::kMariadbGreeting;

TEST(MysqlHandshake, ReadsARealMariadbGreeting) {
  auto greeting = decode_greeting(from_hex(kMariadbGreeting));
  ASSERT_TRUE(greeting) << greeting.error().message;
  EXPECT_EQ(greeting->server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
  EXPECT_EQ(greeting->thread_id, 5u);
  EXPECT_EQ(greeting->scramble, "PZV#FvB$.YX,rz1\"Tbo'");
  EXPECT_EQ(greeting->auth_plugin, kNativePassword);
  EXPECT_TRUE(greeting->mariadb());
  EXPECT_TRUE(greeting->capabilities & capability::kProtocol41);
  EXPECT_TRUE(greeting->capabilities & capability::kPluginAuth);
  EXPECT_TRUE(greeting->capabilities & capability::kDeprecateEof);
  EXPECT_FALSE(greeting->capabilities & capability::kSsl);  // started without TLS
  // MariaDB's extended capabilities, from the reserved bytes.
  EXPECT_TRUE(greeting->capabilities & capability::kMariadbStmtBulk);
  EXPECT_EQ(greeting->status, status::kAutocommit);
}

TEST(MysqlHandshake, WritesAGreetingItReadsBack) {
  Greeting out{.server_version = "5.5.5-10.11.99-MariaDB-portcullis",
               .thread_id = 42,
               .scramble = "abcdefghijklmnopqrst",
               .capabilities = kRelayedCapabilities | capability::kSsl,
               .charset = kDefaultCharset,
               .status = status::kAutocommit,
               .auth_plugin = std::string(kNativePassword)};
  auto back = decode_greeting(encode_greeting(out));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->server_version, out.server_version);
  EXPECT_EQ(back->thread_id, 42u);
  EXPECT_EQ(back->scramble, out.scramble);
  EXPECT_EQ(back->capabilities, out.capabilities);
  EXPECT_EQ(back->auth_plugin, kNativePassword);
  EXPECT_FALSE(back->mariadb());
}

TEST(MysqlHandshake, RefusesWhatIsNotAGreeting) {
  EXPECT_FALSE(decode_greeting(""));
  EXPECT_FALSE(decode_greeting("\x09"));
  EXPECT_FALSE(decode_greeting(from_hex("ff1504486f7374")));  // an error in its place
  EXPECT_FALSE(decode_greeting(from_hex(kMariadbGreeting).substr(0, 20)));
}

TEST(MysqlHandshake, RoundTripsAHandshakeResponseWithEveryPart) {
  HandshakeResponse in{.capabilities = capability::kProtocol41 | capability::kSecureConnection |
                                       capability::kPluginAuth | capability::kPluginAuthLenencData |
                                       capability::kConnectWithDb | capability::kConnectAttrs |
                                       capability::kLongPassword,
                       .max_packet = 1 << 24,
                       .charset = 45,
                       .user = "alice",
                       .auth_response = std::string(300, 't'),  // a token longer than 255 bytes
                       .database = "shop",
                       .auth_plugin = std::string(kClearPassword),
                       .attributes = {{"_client_name", "libmariadb"}, {"program_name", "mariadb"}}};
  const std::string encoded = encode_handshake_response(in);
  EXPECT_FALSE(is_ssl_request(encoded));
  auto out = decode_handshake_response(encoded);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->capabilities, in.capabilities);
  EXPECT_EQ(out->user, "alice");
  EXPECT_EQ(out->auth_response, in.auth_response);
  EXPECT_EQ(out->database, "shop");
  EXPECT_EQ(out->auth_plugin, kClearPassword);
  EXPECT_EQ(out->attributes, in.attributes);
}

TEST(MysqlHandshake, RecognisesAnSslRequest) {
  HandshakeResponse in;
  in.capabilities = capability::kProtocol41 | capability::kSsl;
  const std::string request = encode_handshake_response(in, true);
  EXPECT_EQ(request.size(), kSslRequestSize);
  EXPECT_TRUE(is_ssl_request(request));
  in.capabilities = capability::kProtocol41;
  EXPECT_FALSE(is_ssl_request(encode_handshake_response(in, true)));
}

TEST(MysqlHandshake, RefusesPre41ClientsAndTruncatedResponses) {
  HandshakeResponse old;
  old.capabilities = capability::kLongPassword;
  EXPECT_FALSE(decode_handshake_response(encode_handshake_response(old)));
  HandshakeResponse in;
  in.capabilities = capability::kProtocol41 | capability::kSecureConnection;
  in.user = "u";
  in.auth_response = "0123456789";
  const std::string encoded = encode_handshake_response(in);
  EXPECT_TRUE(decode_handshake_response(encoded));
  for (std::size_t cut = 0; cut + 5 < encoded.size(); ++cut)
    EXPECT_FALSE(decode_handshake_response(encoded.substr(0, cut))) << cut;
}

TEST(MysqlHandshake, RoundTripsAnAuthSwitch) {
  const std::string encoded = encode_auth_switch({.plugin = "mysql_clear_password", .data = {}});
  EXPECT_EQ(encoded, std::string("\xfemysql_clear_password\0\0", 23));
  auto back = decode_auth_switch(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->plugin, kClearPassword);
  EXPECT_EQ(back->data, "");
  auto with_data = decode_auth_switch(
      encode_auth_switch({.plugin = "mysql_native_password", .data = "abcdefghijklmnopqrst"}));
  ASSERT_TRUE(with_data);
  EXPECT_EQ(with_data->data, "abcdefghijklmnopqrst");
  EXPECT_FALSE(decode_auth_switch("\x00"));
}

TEST(MysqlHandshake, KeepsEveryByteOfAnEd25519Nonce) {
  // client_ed25519's 32-byte nonce has no NUL after it: a last byte of zero is the nonce's.
  std::string nonce(31, '\x11');
  nonce.push_back('\0');
  std::string packet(
      "\xfe"
      "client_ed25519",
      15);
  packet.push_back('\0');
  packet += nonce;
  auto request = decode_auth_switch(packet);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->plugin, kEd25519);
  EXPECT_EQ(request->data, nonce);
}

}  // namespace
}  // namespace portcullis::proto::mysql
