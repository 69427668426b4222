#include "identity/base64url.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

namespace portcullis::identity {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  for (std::size_t n = 0; n < 70; ++n) {
    std::string bytes(n, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded) << n;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64Url, EncodesKnownVectors) {
  // RFC 4648 section 10, without padding.
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RefusesPaddingAndForeignCharacters) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("Zm9v+A"));
  EXPECT_FALSE(base64url_decode("Zm9v/A"));
  EXPECT_FALSE(base64url_decode("Zm 9v"));
  EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)));
}

TEST(Base64Url, RefusesImpossibleLengthAndNonCanonicalTails) {
  EXPECT_FALSE(base64url_decode("Zm9vY"));  // 5 characters: 6 stray bits
  EXPECT_FALSE(base64url_decode("Zh"));     // "Zg" with a non-zero unused bit
  EXPECT_TRUE(base64url_decode("Zg"));
}

}  // namespace
}  // namespace portcullis::identity
