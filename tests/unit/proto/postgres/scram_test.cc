// SCRAM-SHA-256 client: the RFC 7677 exchange, checked against an independent computation of
// the proof and the server signature, and every way a server-first or server-final message
// can be wrong.
#include "proto/postgres/scram.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <set>
#include <string>
#include <string_view>

namespace portcullis::proto::postgres {
namespace {

// RFC 7677 section 3.
constexpr std::string_view kPassword = "pencil";
constexpr std::string_view kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kRfcClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kRfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

using Digest = std::array<unsigned char, 32>;

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string unbase64(std::string_view text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<std::size_t>(n) - (text.ends_with("==")  ? 2
                                            : text.ends_with("=") ? 1
                                                                  : 0));
  return out;
}

Digest hmac_sha256(const Digest& key, std::string_view message) {
  Digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  EXPECT_EQ(size, out.size());
  return out;
}

struct Expected {
  std::string client_final;  // with the proof
  std::string server_final;  // "v=" + server signature
};

// RFC 5802 section 3, written out step by step for a client-first-message-bare.
Expected compute_exchange(std::string_view client_first_bare, std::string_view server_first,
                          std::string_view password, std::string_view salt_b64, int iterations,
                          std::string_view combined_nonce) {
  const std::string salt = unbase64(salt_b64);
  Digest salted{};
  EXPECT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()),
                              static_cast<int>(salt.size()), iterations, EVP_sha256(),
                              static_cast<int>(salted.size()), salted.data()),
            1);
  const Digest client_key = hmac_sha256(salted, "Client Key");
  Digest stored_key{};
  EVP_Digest(client_key.data(), client_key.size(), stored_key.data(), nullptr, EVP_sha256(),
             nullptr);
  const Digest server_key = hmac_sha256(salted, "Server Key");
  const std::string without_proof = "c=biws,r=" + std::string(combined_nonce);
  const std::string auth_message =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  const Digest client_signature = hmac_sha256(stored_key, auth_message);
  Digest proof{};
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ client_signature[i];
  const Digest server_signature = hmac_sha256(server_key, auth_message);
  Expected expected;
  expected.client_final = without_proof + ",p=" + base64(proof.data(), proof.size());
  expected.server_final = "v=" + base64(server_signature.data(), server_signature.size());
  return expected;
}

Expected rfc_exchange_for(std::string_view client_first_bare) {
  return compute_exchange(client_first_bare, kServerFirst, kPassword,
                          "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, kServerNonce);
}

ScramClient rfc_client() {
  return ScramClient(Secret(std::string(kPassword)), std::string(kClientNonce));
}

TEST(ScramReference, ReproducesTheRfc7677Vector) {
  // The independent computation, checked against the RFC with its own user name, so that it
  // can be trusted for the empty-user form the client sends.
  const auto expected = rfc_exchange_for("n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(expected.client_final, kRfcClientFinal);
  EXPECT_EQ(expected.server_final, kRfcServerFinal);
}

TEST(ScramClient, SendsClientFirstWithEmptyUserAndNoChannelBinding) {
  const auto client = rfc_client();
  EXPECT_EQ(client.client_first_message(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
}

TEST(ScramClient, ComputesProofForRfc7677ExchangeWithEmptyUser) {
  auto client = rfc_client();
  const auto expected = rfc_exchange_for("n=,r=rOprNGfwEbeRWgbNEkqO");
  const auto client_final = client.handle_server_first(kServerFirst);
  ASSERT_TRUE(client_final.ok()) << client_final.error().message;
  EXPECT_EQ(*client_final, expected.client_final);
  // The user name is part of the AuthMessage: the RFC's own proof must not come out.
  EXPECT_NE(*client_final, kRfcClientFinal);
  EXPECT_TRUE(
      client_final->starts_with("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="));
}

TEST(ScramClient, AcceptsTheCorrectServerSignature) {
  auto client = rfc_client();
  ASSERT_TRUE(client.handle_server_first(kServerFirst).ok());
  const auto expected = rfc_exchange_for("n=,r=rOprNGfwEbeRWgbNEkqO");
  const auto verified = client.verify_server_final(expected.server_final);
  EXPECT_TRUE(verified.ok()) << verified.error().message;
}

TEST(ScramClient, RefusesWrongServerSignature) {
  auto client = rfc_client();
  ASSERT_TRUE(client.handle_server_first(kServerFirst).ok());
  // The RFC's signature is for AuthMessage with "n=user": not the one this exchange makes.
  EXPECT_FALSE(client.verify_server_final(kRfcServerFinal).ok());
  auto expected = rfc_exchange_for("n=,r=rOprNGfwEbeRWgbNEkqO").server_final;
  expected[5] = expected[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(client.verify_server_final(expected).ok());
  EXPECT_FALSE(client.verify_server_final("v=").ok());
  EXPECT_FALSE(client.verify_server_final("v=AAAA").ok());
  EXPECT_FALSE(client.verify_server_final("").ok());
}

TEST(ScramClient, RefusesServerFinalWithError) {
  auto client = rfc_client();
  ASSERT_TRUE(client.handle_server_first(kServerFirst).ok());
  const auto verified = client.verify_server_final("e=invalid-proof");
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.error().message.find("invalid-proof"), std::string::npos);
}

TEST(ScramClient, RefusesServerFinalBeforeServerFirst) {
  const auto client = rfc_client();
  EXPECT_FALSE(client.verify_server_final("v=").ok());
  EXPECT_FALSE(client.verify_server_final(kRfcServerFinal).ok());
}

TEST(ScramClient, RefusesNonceThatDoesNotExtendClientNonce) {
  for (std::string_view server_first :
       {"r=XXXXNGfwEbeRWgbNEkqO%hvYDpWUa2RaTC,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // not extended at all
        "r=rOprNGfw,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"}) {
    auto client = rfc_client();
    EXPECT_FALSE(client.handle_server_first(server_first).ok()) << server_first;
  }
}

TEST(ScramClient, RefusesZeroOrHugeOrNonNumericIterationCount) {
  for (std::string_view iterations :
       {"0", "", "-1", "4096x", "10000001", "99999999999999999999999", "18446744073709551617"}) {
    auto client = rfc_client();
    const std::string server_first = "r=" + std::string(kServerNonce) +
                                     ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + std::string(iterations);
    EXPECT_FALSE(client.handle_server_first(server_first).ok()) << iterations;
  }
}

TEST(ScramClient, RefusesBadBase64Salt) {
  for (std::string_view salt :
       {"", "abc", "@@@@", "W22ZaJ0SNY7soEsUEjb6gQ=", "W2*ZaJ0SNY7soEsUEjb6gQ=="}) {
    auto client = rfc_client();
    const std::string server_first =
        "r=" + std::string(kServerNonce) + ",s=" + std::string(salt) + ",i=4096";
    EXPECT_FALSE(client.handle_server_first(server_first).ok()) << salt;
  }
}

TEST(ScramClient, RefusesServerFirstWithMissingAttribute) {
  for (std::string_view server_first :
       {"", "garbage", "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ=="}) {
    auto client = rfc_client();
    EXPECT_FALSE(client.handle_server_first(server_first).ok()) << server_first;
  }
}

TEST(ScramClient, ProofDependsOnThePassword) {
  ScramClient client(Secret("not pencil"), std::string(kClientNonce));
  const auto client_final = client.handle_server_first(kServerFirst);
  ASSERT_TRUE(client_final.ok());
  EXPECT_NE(*client_final, rfc_exchange_for("n=,r=rOprNGfwEbeRWgbNEkqO").client_final);
  EXPECT_FALSE(
      client.verify_server_final(rfc_exchange_for("n=,r=rOprNGfwEbeRWgbNEkqO").server_final).ok());
}

TEST(MakeScramNonce, IsPrintableWithoutCommasAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto nonce = make_scram_nonce();
    EXPECT_EQ(nonce.size(), 24u);  // 18 bytes of base64
    for (char c : nonce) {
      EXPECT_GT(c, ' ');
      EXPECT_LT(c, 0x7f);
      EXPECT_NE(c, ',');
    }
    EXPECT_TRUE(seen.insert(nonce).second);
  }
}

}  // namespace
}  // namespace portcullis::proto::postgres
