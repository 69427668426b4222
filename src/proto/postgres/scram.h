// SCRAM-SHA-256 client (RFC 5802, RFC 7677) for authenticating the gateway to a PostgreSQL
// backend with the credentials it holds. Pure: the nonce comes in, messages go out.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace portcullis::proto::postgres {

inline constexpr std::string_view kScramSha256 = "SCRAM-SHA-256";

class ScramClient {
 public:
  // `client_nonce` must be printable, without commas, and unpredictable (see make_scram_nonce).
  ScramClient(Secret password, std::string client_nonce);

  // client-first-message, sent in SASLInitialResponse.
  std::string client_first_message() const;
  // Reads server-first-message, returns client-final-message (SASLResponse).
  Result<std::string> handle_server_first(std::string_view server_first);
  // Checks the server's signature in server-final-message: proves the server knew the
  // password's verifier, so the gateway is not talking to an impostor.
  Result<void> verify_server_final(std::string_view server_final) const;

 private:
  Secret password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;  // base64
};

// 18 random bytes, base64: what libpq uses (SCRAM_RAW_NONCE_LEN,
// src/include/common/scram-common.h).
std::string make_scram_nonce();

}  // namespace portcullis::proto::postgres
