// What the gateway answers a backend's password plugins with, from the password it holds and
// the scramble the backend sent. Pure (OpenSSL digests and RSA, libsodium's Ed25519 group
// arithmetic; no I/O).
// References:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html
// https://mariadb.com/kb/en/authentication-plugin-ed25519/ (RFC 8032 for Ed25519 itself)
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::mysql {

// mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for
// an empty password.
std::string native_password_response(std::string_view password, std::string_view scramble);

// caching_sha2_password's fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) +
// scramble); empty for an empty password.
std::string caching_sha2_response(std::string_view password, std::string_view scramble);

// caching_sha2_password's full authentication without TLS: the password and its NUL, XORed
// with the scramble, encrypted with the server's RSA public key (PEM) under OAEP padding.
Result<std::string> rsa_encrypted_password(std::string_view password, std::string_view scramble,
                                           std::string_view public_key_pem);

// MariaDB's client_ed25519: an Ed25519 signature of the scramble (64 bytes, R then S), with the
// password in place of the private key's seed: the secret scalar and nonce prefix come from
// SHA-512 of the password itself, of any length. Standard Ed25519 (RFC 8032) verifies it
// against the public key the server stored. Empty for an empty password.
std::string ed25519_response(std::string_view password, std::string_view scramble);

// The public key the server stores for `password` under client_ed25519 (32 bytes).
std::string ed25519_public_key(std::string_view password);

// The caching_sha2_password "more data" bytes (after the 0x01 header).
inline constexpr char kFastAuthSuccess = 0x03;
inline constexpr char kFullAuthRequired = 0x04;
// What a client sends to ask for the server's public key.
inline constexpr char kRequestPublicKey = 0x02;

}  // namespace portcullis::proto::mysql
