#include "identity/subject.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::identity {
namespace {

std::string reason(std::string_view subject) {
  auto valid = validate_subject(subject, "token subject");
  return valid ? "(accepted)" : valid.error().message;
}

TEST(ValidateSubject, AcceptsPrintableAsciiAndUnicodeNames) {
  EXPECT_EQ(reason("alice@example.com"), "(accepted)");
  EXPECT_EQ(reason("Zoë Ångström"), "(accepted)");
  EXPECT_EQ(reason("\xe5\xbc\xa0\xe4\xbc\x9f"), "(accepted)");  // 张伟
  EXPECT_EQ(reason("\xf0\x9f\x94\x91"), "(accepted)");          // U+1F511
}

TEST(ValidateSubject, RefusesNewlinesAndOtherControlCharacters) {
  EXPECT_EQ(reason("alice\nevent=login_ok subject=admin"),
            "the token subject contains a control character (U+000A at byte 5)");
  for (const std::string& bad : {std::string("a\rb"), std::string("a\0b", 3), std::string("a\tb"),
                                 std::string("a\x1b[2Jb"), std::string("a\x7f")})
    EXPECT_NE(reason(bad).find("control character"), std::string::npos) << reason(bad);
  // NEL, a C1 control some readers take for a line break.
  EXPECT_NE(reason("a\xc2\x85").find("U+0085"), std::string::npos);
}

TEST(ValidateSubject, RefusesUnicodeLineAndParagraphSeparators) {
  EXPECT_EQ(reason("a\xe2\x80\xa8z"),
            "the token subject contains a line or paragraph separator (U+2028 at byte 1)");
  EXPECT_NE(reason("a\xe2\x80\xa9").find("U+2029"), std::string::npos);
}

TEST(ValidateSubject, RefusesInvalidUtf8) {
  for (const std::string& bad : {
           std::string("a\xff"),              // never in UTF-8
           std::string("a\xc3"),              // truncated
           std::string("a\xc0\x8a"),          // overlong newline
           std::string("a\xe0\x80\xaf"),      // overlong '/'
           std::string("a\xed\xa0\x80"),      // a surrogate
           std::string("a\xf4\x90\x80\x80"),  // above U+10FFFF
           std::string("a\x80"),              // a lone continuation byte
       })
    EXPECT_EQ(reason(bad), "the token subject is not valid UTF-8 (byte 1)") << bad;
}

}  // namespace
}  // namespace portcullis::identity
