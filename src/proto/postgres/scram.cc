// SCRAM-SHA-256 client exchange, on OpenSSL's PBKDF2 and HMAC.
#include "proto/postgres/scram.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <vector>

namespace portcullis::proto::postgres {
namespace {

using Digest = std::array<unsigned char, 32>;

// The gs2 header of a client that does not use channel binding: "n,,".
constexpr std::string_view kGs2Header = "n,,";
// RFC 7677 recommends at least 4096; PostgreSQL's default is 4096. An upper bound keeps a
// hostile server from making the gateway burn CPU.
constexpr long kMaxIterations = 10'000'000;

std::string base64_encode(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.empty()) return make_error("invalid base64");
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return make_error("invalid base64");
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (text.ends_with("=="))
    size -= 2;
  else if (text.ends_with("="))
    size -= 1;
  out.resize(size);
  return out;
}

Digest hmac(const unsigned char* key, std::size_t key_size, std::string_view message) {
  Digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_size),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  return out;
}

// The value of attribute `name` ("r", "s", "i", "v", "e") in a comma-separated SCRAM message.
std::optional<std::string_view> attribute(std::string_view message, char name) {
  while (!message.empty()) {
    const auto comma = message.find(',');
    const auto part = message.substr(0, comma);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

ScramClient::ScramClient(Secret password, std::string client_nonce)
    : password_(std::move(password)), client_nonce_(std::move(client_nonce)) {
  // PostgreSQL ignores the SCRAM user name and takes the startup user: send it empty, as libpq.
  client_first_bare_ = "n=,r=" + client_nonce_;
}

std::string ScramClient::client_first_message() const {
  return std::string(kGs2Header) + client_first_bare_;
}

Result<std::string> ScramClient::handle_server_first(std::string_view server_first) {
  const auto nonce = attribute(server_first, 'r');
  const auto salt_b64 = attribute(server_first, 's');
  const auto iterations_text = attribute(server_first, 'i');
  if (!nonce || !salt_b64 || !iterations_text)
    return make_error("malformed SCRAM server-first-message");
  if (!nonce->starts_with(client_nonce_) || nonce->size() == client_nonce_.size())
    return make_error("SCRAM server nonce does not extend the client nonce");
  long iterations = 0;
  for (char c : *iterations_text) {
    if (c < '0' || c > '9' || iterations > kMaxIterations)
      return make_error("invalid SCRAM iteration count");
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations < 1 || iterations > kMaxIterations)
    return make_error("invalid SCRAM iteration count");
  auto salt = base64_decode(*salt_b64);
  if (!salt) return make_error("invalid SCRAM salt");

  Digest salted{};
  const auto& password = password_.reveal();
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt->data()),
                        static_cast<int>(salt->size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(salted.size()), salted.data()) != 1)
    return make_error("SCRAM key derivation failed");

  const Digest client_key = hmac(salted.data(), salted.size(), "Client Key");
  Digest stored_key{};
  EVP_Digest(client_key.data(), client_key.size(), stored_key.data(), nullptr, EVP_sha256(),
             nullptr);
  const Digest server_key = hmac(salted.data(), salted.size(), "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());

  const auto gs2 = reinterpret_cast<const unsigned char*>(kGs2Header.data());
  std::string final_without_proof =
      fmt::format("c={},r={}", base64_encode(gs2, kGs2Header.size()), *nonce);
  const std::string auth_message =
      fmt::format("{},{},{}", client_first_bare_, server_first, final_without_proof);

  const Digest client_signature = hmac(stored_key.data(), stored_key.size(), auth_message);
  Digest proof{};
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ client_signature[i];
  const Digest server_signature = hmac(server_key.data(), server_key.size(), auth_message);
  expected_server_signature_ = base64_encode(server_signature.data(), server_signature.size());

  return final_without_proof + ",p=" + base64_encode(proof.data(), proof.size());
}

Result<void> ScramClient::verify_server_final(std::string_view server_final) const {
  if (const auto error = attribute(server_final, 'e'))
    return make_error(fmt::format("SCRAM authentication failed: {}", *error));
  const auto verifier = attribute(server_final, 'v');
  if (!verifier || expected_server_signature_.empty() ||
      verifier->size() != expected_server_signature_.size() ||
      CRYPTO_memcmp(verifier->data(), expected_server_signature_.data(), verifier->size()) != 0)
    return make_error("SCRAM server signature is invalid");
  return {};
}

std::string make_scram_nonce() {
  unsigned char raw[18];
  RAND_bytes(raw, sizeof raw);
  return base64_encode(raw, sizeof raw);
}

}  // namespace portcullis::proto::postgres
