// libFuzzer target: the backend's SCRAM-SHA-256 messages as the gateway's SCRAM client reads
// them (server-first, then server-final). Input: server-first, a NUL byte, server-final; in
// server-final, "@SIG@" stands for the server signature a reference implementation of RFC 5802
// computes for this exchange, so that the fuzzer can build near misses of the right value.
// Invariants:
//   - a server-final verifies only if its first v= attribute is exactly the reference
//     signature and it has no e= attribute before it (no wrong signature ever verifies);
//   - where the reference can compute the exchange, the client's proof is the reference
//     proof, the exact reference signature verifies and any one-byte change of it does not.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/postgres/scram.h"

namespace {

using namespace portcullis;
using Digest = std::array<unsigned char, 32>;

constexpr std::string_view kPassword = "fuzz-password";
constexpr std::string_view kClientNonce = "fuzzclientnonce";
constexpr std::string_view kPlaceholder = "@SIG@";
// PBKDF2 runs as many rounds as the message asks for: more would make the target slow, not
// find more. The client's own bound (10 000 000) is a unit test's matter.
constexpr long kMaxFuzzIterations = 1024;

// The first comma-separated part of `message` that starts with `name` '=', as RFC 5802 reads
// attributes (the client under test does the same; this is the reference's own copy).
std::optional<std::string_view> attribute(std::string_view message, char name) {
  for (;;) {
    const auto comma = message.find(',');
    const auto part = message.substr(0, comma);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    if (comma == std::string_view::npos) return std::nullopt;
    message.remove_prefix(comma + 1);
  }
}

bool strict_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with("=")) {
    padding = 1;
  }
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string unbase64(std::string_view text) {  // strict_base64(text) holds
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) __builtin_trap();
  out.resize(out.size() - (text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0));
  return out;
}

Digest hmac(const Digest& key, std::string_view message) {
  Digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  return out;
}

struct Reference {
  std::string client_final;      // with the proof
  std::string server_signature;  // base64
};

// RFC 5802 section 3, computed from scratch for the client's first message.
std::optional<Reference> reference(std::string_view server_first, std::string_view client_first) {
  const auto nonce = attribute(server_first, 'r');
  const auto salt = attribute(server_first, 's');
  const auto iterations_text = attribute(server_first, 'i');
  if (!nonce || !salt || !iterations_text || !strict_base64(*salt)) return std::nullopt;
  if (iterations_text->empty() || iterations_text->size() > 4) return std::nullopt;
  long iterations = 0;
  for (char c : *iterations_text) {
    if (c < '0' || c > '9') return std::nullopt;
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations < 1 || iterations > kMaxFuzzIterations) return std::nullopt;
  const std::string salt_bytes = unbase64(*salt);
  Digest salted{};
  PKCS5_PBKDF2_HMAC(kPassword.data(), static_cast<int>(kPassword.size()),
                    reinterpret_cast<const unsigned char*>(salt_bytes.data()),
                    static_cast<int>(salt_bytes.size()), static_cast<int>(iterations), EVP_sha256(),
                    static_cast<int>(salted.size()), salted.data());
  const Digest client_key = hmac(salted, "Client Key");
  Digest stored_key{};
  EVP_Digest(client_key.data(), client_key.size(), stored_key.data(), nullptr, EVP_sha256(),
             nullptr);
  const Digest server_key = hmac(salted, "Server Key");
  const std::string without_proof = "c=biws,r=" + std::string(*nonce);
  const std::string client_first_bare(client_first.substr(3));  // after "n,,"
  const std::string auth_message =
      client_first_bare + "," + std::string(server_first) + "," + without_proof;
  const Digest client_signature = hmac(stored_key, auth_message);
  Digest proof{};
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ client_signature[i];
  const Digest server_signature = hmac(server_key, auth_message);
  return Reference{without_proof + ",p=" + base64(proof.data(), proof.size()),
                   base64(server_signature.data(), server_signature.size())};
}

// The iteration count the client will run, if the message names one it accepts.
bool too_costly(std::string_view server_first) {
  const auto text = attribute(server_first, 'i');
  if (!text) return false;
  long iterations = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return false;
    iterations = iterations * 10 + (c - '0');
    if (iterations > kMaxFuzzIterations) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\0');
  // Exact copies, so that ASan catches a read one byte past either message.
  const std::string server_first = input.substr(0, split);
  std::string server_final = split == std::string::npos ? std::string() : input.substr(split + 1);
  if (too_costly(server_first)) return 0;

  proto::postgres::ScramClient client{Secret(std::string(kPassword)), std::string(kClientNonce)};
  const std::string client_first = client.client_first_message();
  auto client_final = client.handle_server_first(server_first);
  std::optional<Reference> expected;
  if (client_final) {
    // The server nonce must extend the client's, or an attacker could replay an exchange.
    const auto nonce = attribute(server_first, 'r');
    if (!nonce || !nonce->starts_with(kClientNonce) || nonce->size() == kClientNonce.size())
      __builtin_trap();
    expected = reference(server_first, client_first);
    if (expected && *client_final != expected->client_final) __builtin_trap();
  } else if (client_final.error().message.empty()) {
    __builtin_trap();
  }

  if (expected) {
    for (auto at = server_final.find(kPlaceholder); at != std::string::npos;
         at = server_final.find(kPlaceholder, at))
      server_final.replace(at, kPlaceholder.size(), expected->server_signature);
  }
  const auto verified = client.verify_server_final(server_final);
  if (verified) {
    // Only after a server-first it accepted, and only the exact signature.
    if (!client_final) __builtin_trap();
    if (attribute(server_final, 'e')) __builtin_trap();
    const auto v = attribute(server_final, 'v');
    if (!v) __builtin_trap();
    if (expected && *v != expected->server_signature) __builtin_trap();
  } else if (verified.error().message.empty()) {
    __builtin_trap();
  }

  if (expected) {
    if (!client.verify_server_final("v=" + expected->server_signature)) __builtin_trap();
    // Any one byte changed, at a place and to a value the input picks: refused.
    std::string wrong = expected->server_signature;
    const std::size_t at = size % wrong.size();
    const char flip = static_cast<char>(size > 0 ? data[0] | 1 : 1);
    wrong[at] = static_cast<char>(wrong[at] ^ flip);
    if (client.verify_server_final("v=" + wrong)) __builtin_trap();
  }
  return 0;
}
