// The built-in scanner and its validators, case by case.
#include "masking/detector.h"

#include <gtest/gtest.h>

#include <functional>

#include "masking/validators.h"
#include "test_masker.h"

namespace portcullis::masking {
namespace {

using testing::all_detectors;
using testing::masked;

TEST(Validators, LuhnAcceptsTestCardsAndRejectsTypos) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("4111 1111 1111 1111"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid(""));
}

TEST(Validators, IbanNeedsCountryLengthAndMod97) {
  EXPECT_TRUE(iban_valid("DE89370400440532013000"));
  EXPECT_TRUE(iban_valid("GB82WEST12345698765432"));
  EXPECT_FALSE(iban_valid("DE89370400440532013001"));
  EXPECT_FALSE(iban_valid("DE8937040044053201300"));
  EXPECT_FALSE(iban_valid("ZZ89370400440532013000"));
}

TEST(Validators, SsnRulesOfTheSocialSecurityAdministration) {
  EXPECT_TRUE(us_ssn_valid("123", "45", "6789"));
  EXPECT_FALSE(us_ssn_valid("000", "45", "6789"));
  EXPECT_FALSE(us_ssn_valid("666", "45", "6789"));
  EXPECT_FALSE(us_ssn_valid("901", "45", "6789"));
  EXPECT_FALSE(us_ssn_valid("123", "00", "6789"));
  EXPECT_FALSE(us_ssn_valid("123", "45", "0000"));
}

TEST(Scanner, RedactsEachDetectorWithItsName) {
  auto m = all_detectors();
  EXPECT_EQ(masked(*m, "mail alice@example.com now"), "mail [email] now");
  EXPECT_EQ(masked(*m, "4111 1111 1111 1111"), "[credit_card]");
  EXPECT_EQ(masked(*m, "ssn 123-45-6789."), "ssn [us_ssn].");
  EXPECT_EQ(masked(*m, "call +1 415 555 2671"), "call [phone]");
  EXPECT_EQ(masked(*m, "DE89 3704 0044 0532 0130 00"), "[iban]");
  EXPECT_EQ(masked(*m, "from 10.1.2.3:5432"), "from [ipv4]:5432");
  EXPECT_EQ(masked(*m, "at 2001:db8::1"), "at [ipv6]");
  EXPECT_EQ(masked(*m, "AKIAIOSFODNN7EXAMPLE"), "[aws_access_key]");
  EXPECT_EQ(masked(*m, "t=ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "t=[api_token]");
}

TEST(Scanner, KeepsNearMisses) {
  auto m = all_detectors();
  for (std::string_view v :
       {"order 4111111111111112", "2023-10-05 12:34:56", "550e8400-e29b-41d4-a716-446655440000",
        "v1.2.3", "version 10.0.19041.1", "000-12-3456", "12:34:56", "std::string", "@alice",
        "1696502400123", "256.1.1.1", "qty 10 20 30 40 50"}) {
    EXPECT_EQ(masked(*m, v), v) << v;
  }
}

TEST(Scanner, LeavesMultiByteUtf8AroundPiiIntact) {
  auto m = all_detectors();
  EXPECT_EQ(masked(*m, "Grüße — alice@example.com ✓ 東京"), "Grüße — [email] ✓ 東京");
  EXPECT_EQ(masked(*m, "né4111111111111111é"), "né[credit_card]é");
}

TEST(Scanner, FindsPiiInAOneMegabyteValue) {
  auto m = all_detectors();
  std::string big(1u << 20, 'x');
  for (std::size_t k = 0; k < big.size(); k += 64) big[k] = ' ';
  big.replace(1000, 17, " bob@example.org ");
  big.replace(big.size() - 100, 21, " 4111-1111-1111-1111 ");
  const std::string out = masked(*m, big);
  EXPECT_NE(out.find("[email]"), std::string::npos);
  EXPECT_NE(out.find("[credit_card]"), std::string::npos);
  EXPECT_EQ(out.find("bob@example.org"), std::string::npos);
  EXPECT_EQ(out.size(), big.size() - 15 + 7 - 19 + 13);
}

TEST(Scanner, MasksAPrivateKeyBlockWhole) {
  auto m = all_detectors();
  EXPECT_EQ(
      masked(*m, "k: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- ok"),
      "k: [private_key] ok");
  EXPECT_EQ(masked(*m, "-----BEGIN PRIVATE KEY-----\nMIIE cut"), "[private_key]");
}

// The scanner reports the bytes its candidate grammars read. For each adversarial shape the
// work per input byte must stay under a constant, and quadrupling the input must at most
// quadruple the work (with a little slack for the ends): no shape may make it quadratic.
TEST(Scanner, StaysLinearOnAdversarialInput) {
  auto repeat = [](std::string_view unit, std::size_t n) {
    std::string out;
    while (out.size() < n) out += unit;
    out.resize(n);
    return out;
  };
  const std::vector<std::pair<std::string_view, std::function<std::string(std::size_t)>>> shapes = {
      {"at signs", [&](std::size_t n) { return repeat("@", n); }},
      {"colons", [&](std::size_t n) { return repeat(":", n); }},
      {"digit groups", [&](std::size_t n) { return repeat("1-", n); }},
      {"long digit run", [&](std::size_t n) { return repeat("4", n); }},
      {"digits and dots", [&](std::size_t n) { return repeat("1.", n); }},
      {"local parts", [&](std::size_t n) { return repeat(std::string(69, 'a') + "@", n); }},
      {"domains", [&](std::size_t n) { return repeat("a@b.", n); }},
      {"hex and colons", [&](std::size_t n) { return repeat("a:", n); }},
      {"aws prefixes", [&](std::size_t n) { return repeat("AKIA", n); }},
      {"jwt prefixes", [&](std::size_t n) { return repeat("eyJ.", n); }},
      {"pem headers", [&](std::size_t n) { return repeat("-----BEGIN ", n); }},
      {"pem keys", [&](std::size_t n) { return repeat("-----BEGIN PRIVATE KEY-----", n); }},
      {"token prefixes", [&](std::size_t n) { return repeat("ghp_xoxb-sk_live_", n); }},
      {"percent escapes", [&](std::size_t n) { return repeat("%41", n); }},
      {"percent words", [&](std::size_t n) { return repeat("a%4", n); }},
      {"base64 run", [&](std::size_t n) { return repeat("QUJD", n); }},
      {"base64 slashes", [&](std::size_t n) { return repeat("QUJDREVGR0hJSktM/", n); }},
      {"hex run", [&](std::size_t n) { return repeat("6a", n); }},
      {"iban prefixes", [&](std::size_t n) { return repeat("DE89 ", n); }},
      {"parentheses", [&](std::size_t n) { return repeat("(1", n); }},
  };
  const DetectorSet all = (DetectorSet{1} << kBuiltinDetectorCount) - 1;
  constexpr std::size_t kSmall = 50000;
  // The widest candidate walk: an email's local part back and domain forward, or an encoded
  // run decoded and scanned again.
  constexpr double kMaxWorkPerByte = 100;
  for (const auto& [name, make] : shapes) {
    std::vector<Span> spans;
    const std::string small = make(kSmall);
    const std::string large = make(4 * kSmall);
    const uint64_t w1 = find_builtin(small, all, spans);
    spans.clear();
    const uint64_t w4 = find_builtin(large, all, spans);
    EXPECT_LE(static_cast<double>(w1) / kSmall, kMaxWorkPerByte) << name;
    EXPECT_LE(static_cast<double>(w4), 4.2 * static_cast<double>(w1) + 10000) << name;
    std::printf("%-16s %8.2f work per byte\n", std::string(name).c_str(),
                static_cast<double>(w4) / (4 * kSmall));
  }
}

}  // namespace
}  // namespace portcullis::masking
