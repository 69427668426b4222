// A generated corpus: every built-in detector's values and near-misses, placed in every
// punctuation context a value meets in logs, URLs, JSON, CSV and free text. The masked output
// is what is checked: no value may survive, a second scan must find nothing, and a near-miss
// must come back byte for byte.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_masker.h"

namespace portcullis::masking {
namespace {

using testing::all_detectors;

// `V` is where the value goes.
const std::vector<std::string> kContexts = {
    "V",
    "key:V",
    "key: V",
    "id:V",
    "ssn:V;",
    "k=V;",
    "k=V&x=1",
    "\"V\"",
    "'V'",
    "(V)",
    "[V]",
    "{V}",
    "<V>",
    "{\"k\":\"V\"}",
    "{\"k\": \"V\", \"n\": 1}",
    "https://x/?email=V&a=1",
    "https://x/users/V/edit",
    "mailto:V",
    "tel:V",
    "a,V,b",
    "a\tV\tb",
    "2024-01-01T00:00:00Z INFO user=V action=login",
    "V at the start",
    "at the end V",
    "x=V;y",
    "line one\nV\nline three",
    "#V",
    "|V|",
    "/V/",
    "\\V\\",
    "(key:V)",
    "note (see V).",
    "[key=V]",
};

struct Sample {
  std::string_view detector;
  std::vector<std::string_view> values;
};

// Valid values, several formats each, as docs/masking.md says each detector finds them.
const std::vector<Sample> kValues = {
    {"email",
     {"alice@example.com", "bob.smith+tag@mail.example.co.uk", "x_y-z@sub-domain.example.org",
      "O'Neil@example.com"}},
    {"credit_card",
     {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004",
      "378282246310005", "3782 822463 10005", "6011-1111-1111-1117"}},
    {"us_ssn", {"123-45-6789", "123 45 6789", "078-05-1120"}},
    {"phone",
     {"+1 415 555 2671", "+14155552671", "(415) 555-2671", "415-555-2671", "415.555.2671",
      "1-800-555-0199", "+44 20 7946 0958", "020 7946 0958", "+33 1 23 45 67 89"}},
    {"iban",
     {"DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
      "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606"}},
    {"ipv4", {"10.1.2.3", "192.168.0.1", "8.8.8.8", "255.255.255.255"}},
    {"ipv6",
     {"2001:db8::1", "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
      "::ffff:192.0.2.1"}},
    {"aws_access_key", {"AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"}},
    {"jwt",
     {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
      "XgL0n3I9PlFUP0THsR8U"}},
    {"private_key",
     {"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"}},
    {"api_token",
     {"ghp_abcdefghijklmnopqrstuvwxyz0123456789", "xoxb-123456789012-abcdefghij",
      "glpat-abcdefghij1234567890", "sk_live_abcdefghijklmnop1234",
      "AIzaSyA1234567890abcdefghijklmnopqrstuv"}},
};

// Values that must stay as they are, with the reason they are not PII.
const std::vector<std::string_view> kNearMisses = {
    "4111111111111112",                      // fails Luhn
    "4111 1111 1111 1112",                   // fails Luhn
    "1234567812345678",                      // no card network's prefix
    "000-12-3456",                           // SSN area 000
    "666-12-3456",                           // SSN area 666
    "912-34-5678",                           // SSN area 9xx
    "123-00-6789",                           // SSN group 00
    "123456789",                             // nine bare digits: an order number as often as an SSN
    "2023-10-05",                            // a date
    "05.10.2023",                            // a date
    "12:34:56",                              // a time
    "5551234567",                            // bare digits: not a phone
    "10.0.19041.1",                          // a version, five parts
    "v1.2.3",                                // a version
    "256.1.1.1",                             // octet out of range
    "550e8400-e29b-41d4-a716-446655440000",  // a UUID
    "DE89370400440532013001",                // IBAN failing mod-97
    "AKIAIOSFODNN7EXAMP",                    // too short for an AWS key
    "std::string",                           // C++, not IPv6
    "-----BEGIN PUBLIC KEY-----",            // a public key
    "ORD-2024-000123",                       // an order number
    "qty 10 20 30",                          // small numbers
    "1.5",                                   // a decimal
};

std::string place(std::string_view context, std::string_view value) {
  std::string out(context);
  out.replace(out.find('V'), 1, value);
  return out;
}

TEST(MaskingContexts, NoValueSurvivesInAnyContext) {
  auto m = all_detectors();
  ASSERT_TRUE(m);
  int cases = 0;
  for (const auto& sample : kValues) {
    for (auto value : sample.values) {
      for (const auto& context : kContexts) {
        const std::string in = place(context, value);
        Scratch scratch;
        MaskCounts counts;
        MaskResult r;
        const bool changed = m->mask_value(in, m->plan_text(), r, scratch, counts);
        ++cases;
        EXPECT_TRUE(changed) << sample.detector << " missed in: " << in;
        if (!changed || r.kind != MaskResult::Kind::replaced) continue;
        EXPECT_EQ(r.bytes.find(value), std::string::npos)
            << sample.detector << " leaked: " << in << " -> " << r.bytes;
        EXPECT_NE(r.bytes.find(fmt::format("[{}]", sample.detector)), std::string::npos)
            << "not found as " << sample.detector << ": " << in << " -> " << r.bytes;
        MaskCounts again;
        MaskResult r2;
        EXPECT_FALSE(m->mask_value(r.bytes, m->plan_text(), r2, scratch, again))
            << "masked output still holds a detection: " << r.bytes << " -> " << r2.bytes;
      }
    }
  }
  EXPECT_GT(cases, 1500);
}

TEST(MaskingContexts, NearMissesStayUnchangedInAnyContext) {
  auto m = all_detectors();
  ASSERT_TRUE(m);
  for (auto value : kNearMisses) {
    for (const auto& context : kContexts) {
      const std::string in = place(context, value);
      EXPECT_EQ(testing::masked(*m, in), in) << "near-miss masked: " << in;
    }
  }
}

std::string base64(std::string_view in, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out.push_back(alphabet[(bits >> nbits) & 63]);
    }
  }
  if (nbits > 0) out.push_back(alphabet[(bits << (6 - nbits)) & 63]);
  if (!url)
    while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string hex(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    out.push_back("0123456789abcdef"[c >> 4]);
    out.push_back("0123456789abcdef"[c & 15]);
  }
  return out;
}

std::string percent(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[c >> 4]);
      out.push_back("0123456789ABCDEF"[c & 15]);
    }
  }
  return out;
}

TEST(MaskingContexts, DecodesBase64HexAndPercentEncodedValues) {
  auto m = all_detectors();
  ASSERT_TRUE(m);
  const std::vector<std::pair<std::string_view, std::string_view>> plain = {
      {"email", "alice@example.com"},
      {"email", "contact: bob.smith@mail.example.org"},
      {"credit_card", "card 4111 1111 1111 1111"},
      {"us_ssn", "ssn 123-45-6789"},
      {"phone", "+1 415 555 2671"},
      {"aws_access_key", "AKIAIOSFODNN7EXAMPLE"},
  };
  const std::vector<std::string> encoding_contexts = {
      "V", "k=V;", "\"V\"", "(V)", "a,V,b", "user=V action", "/x/V/y", "{\"k\":\"V\"}", "#V"};
  for (const auto& [detector, value] : plain) {
    std::vector<std::string> encoded = {base64(value, false), base64(value, true), hex(value),
                                        "\\x" + hex(value), "0x" + hex(value)};
    if (detector == "email" || detector == "credit_card" || detector == "us_ssn" ||
        detector == "phone")
      encoded.push_back(percent(value));
    for (const auto& e : encoded) {
      for (const auto& context : encoding_contexts) {
        const std::string in = place(context, e);
        const std::string out = testing::masked(*m, in);
        EXPECT_EQ(out.find(e), std::string::npos) << detector << " leaked: " << in << " -> " << out;
        EXPECT_NE(out.find(fmt::format("[{}]", detector)), std::string::npos)
            << in << " -> " << out;
        EXPECT_EQ(testing::masked(*m, out), out) << "rescan of " << out;
      }
    }
  }
  // Encoded runs with nothing inside stay: hashes, UUIDs without dashes, plain base64.
  for (std::string_view clean :
       {"d41d8cd98f00b204e9800998ecf8427e", "550e8400e29b41d4a716446655440000",
        "SGVsbG8sIHdvcmxkISBIb3cgYXJlIHlvdT8=", "internationalization", "%E6%9D%B1%E4%BA%AC",
        "\\x48656c6c6f2c20776f726c6421", "path/to/some/longer/file_name.txt"}) {
    EXPECT_EQ(testing::masked(*m, clean), clean);
  }
}

}  // namespace
}  // namespace portcullis::masking
