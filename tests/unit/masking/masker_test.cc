// Strategies, column rules, custom detectors and counts of a profile's masker.
#include "masking/masker.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "masking/column_glob.h"
#include "test_masker.h"

namespace portcullis::masking {
namespace {

using testing::all_detectors;
using testing::make_masker;
using testing::masked;

TEST(Strategies, PartialKeepsWhatIsDocumented) {
  auto m = all_detectors("partial");
  EXPECT_EQ(masked(*m, "4111 1111 1111 1234"), "4111 1111 1111 1234");  // fails Luhn: kept
  EXPECT_EQ(masked(*m, "4111 1111 1111 1111"), "**** **** **** 1111");
  EXPECT_EQ(masked(*m, "alice@example.com"), "****@example.com");
  EXPECT_EQ(masked(*m, "123-45-6789"), "***-**-6789");
  EXPECT_EQ(masked(*m, "+1 415 555 2671"), "+* *** *** **71");
  EXPECT_EQ(masked(*m, "DE89370400440532013000"), "DE****************3000");
  EXPECT_EQ(masked(*m, "10.1.2.3"), "10.*.*.*");
  EXPECT_EQ(masked(*m, "sk_live_abcdefghijklmnop1234"), "sk_live_****");
  EXPECT_EQ(masked(*m, "AKIAIOSFODNN7EXAMPLE"), "AKIA****");
}

TEST(Strategies, HashIsStableKeyedAndPrefixed) {
  auto a = all_detectors("hash");
  const std::string h1 = masked(*a, "alice@example.com");
  EXPECT_EQ(h1.size(), std::string("[hash:0123456789abcdef]").size());
  EXPECT_TRUE(h1.starts_with("[hash:"));
  EXPECT_EQ(masked(*a, "alice@example.com"), h1);
  EXPECT_NE(masked(*a, "bob@example.com"), h1);
  config::MaskingProfileConfig p;
  p.detectors = {"email"};
  p.strategy = "hash";
  auto other_key = make_masker(p, "another-key");
  EXPECT_NE(masked(*other_key, "alice@example.com"), h1);
}

TEST(Strategies, HashWithoutAKeyIsAConfigurationError) {
  config::MaskingProfileConfig p;
  p.name = "p";
  p.detectors = {"email"};
  p.strategy = "hash";
  auto m = Masker::build(p, Secret());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("hash key"), std::string::npos);
}

TEST(Strategies, NullMakesTheWholeValueNull) {
  config::MaskingProfileConfig p;
  p.detectors = {"email", "credit_card"};
  p.strategies = {{"credit_card", "null"}};
  auto m = make_masker(p);
  EXPECT_EQ(masked(*m, "a@example.com"), "[email]");
  EXPECT_EQ(masked(*m, "a@example.com 4111111111111111"), "<NULL>");
}

TEST(Strategies, OverridePerDetector) {
  config::MaskingProfileConfig p;
  p.detectors = {"email", "us_ssn"};
  p.strategy = "partial";
  p.strategies = {{"us_ssn", "redact"}};
  auto m = make_masker(p);
  EXPECT_EQ(masked(*m, "x@example.com 123-45-6789"), "****@example.com [us_ssn]");
}

TEST(Masker, RejectsUnknownNames) {
  config::MaskingProfileConfig p;
  p.name = "p";
  p.detectors = {"email", "passport"};
  EXPECT_FALSE(Masker::build(p, Secret()).ok());
  p.detectors = {"email"};
  p.strategy = "scramble";
  EXPECT_FALSE(Masker::build(p, Secret()).ok());
}

TEST(ColumnRules, GlobsMatchTableDotColumnAndColumnAloneWhenTableUnknown) {
  EXPECT_TRUE(glob_match("*.password*", "users.password_hash"));
  EXPECT_TRUE(glob_match("*.SSN", "people.ssn"));
  EXPECT_FALSE(glob_match("*.ssn", "people.ssn_note"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_TRUE(column_rule_matches("*.ssn", "", "ssn"));
  EXPECT_TRUE(column_rule_matches("users.ssn", "", "ssn"));
  EXPECT_FALSE(column_rule_matches("users.ssn", "orders", "ssn"));
}

TEST(ColumnRules, MaskTheWholeValueWhateverItHolds) {
  config::MaskingProfileConfig p;
  p.detectors = {"email"};
  p.columns = {{"*.password*", "redact", 1},
               {"*.ssn", "null", 2},
               {"*.card", "partial", 3},
               {"*.token", "hash", 4}};
  auto m = make_masker(p);
  Scratch s;
  MaskCounts counts;
  MaskResult r;
  auto plan = m->plan_column("users", "password_hash", true);
  EXPECT_EQ(plan.action, ColumnPlan::Action::whole);
  ASSERT_TRUE(m->mask_value("hunter2", plan, r, s, counts));
  EXPECT_EQ(r.bytes, "[redacted]");
  ASSERT_TRUE(m->mask_value("123", m->plan_column("", "ssn", false), r, s, counts));
  EXPECT_EQ(r.kind, MaskResult::Kind::null);
  ASSERT_TRUE(m->mask_value("4111111111111111", m->plan_column("t", "card", true), r, s, counts));
  EXPECT_EQ(r.bytes, "****1111");
  ASSERT_TRUE(m->mask_value("abc", m->plan_column("t", "token", true), r, s, counts));
  EXPECT_TRUE(r.bytes.starts_with("[hash:"));
  EXPECT_EQ(m->plan_column("t", "amount", false).action, ColumnPlan::Action::skip);
  EXPECT_EQ(m->plan_column("t", "note", true).action, ColumnPlan::Action::scan);
  EXPECT_EQ(counts.by_detector()[m->column_rule_index()], 4u);
  EXPECT_EQ(m->detector_name(m->column_rule_index()), "column");
}

TEST(CustomDetectors, RegexAndWordListsThroughHyperscan) {
  config::MaskingProfileConfig p;
  p.detectors = {"email"};
  p.custom = {{"employee_id", "EMP-[0-9]{6}", {}, 1}, {"codename", "", {"bluebird", "red fox"}, 2}};
  auto m = make_masker(p);
  EXPECT_EQ(masked(*m, "by EMP-123456 and EMP-654321"), "by [employee_id] and [employee_id]");
  EXPECT_EQ(masked(*m, "Project BlueBird, not bluebirds; red fox"),
            "Project [codename], not bluebirds; [codename]");
  EXPECT_EQ(masked(*m, "EMP-123456 <a@example.com>"), "[employee_id] <[email]>");
  Scratch s;
  MaskCounts counts;
  MaskResult r;
  m->mask_value("EMP-111111 EMP-222222 bluebird", m->plan_text(), r, s, counts);
  EXPECT_EQ(counts.by_detector()[kBuiltinDetectorCount], 2u);
  EXPECT_EQ(counts.by_detector()[kBuiltinDetectorCount + 1], 1u);
  EXPECT_EQ(m->detector_name(kBuiltinDetectorCount), "employee_id");
}

TEST(CustomDetectors, BadRegexIsReported) {
  EXPECT_FALSE(check_custom_regex("EMP-[0-9").ok());
  EXPECT_FALSE(check_custom_regex("a*").ok());
  EXPECT_TRUE(check_custom_regex("EMP-[0-9]{6}").ok());
}

TEST(Counts, AccumulatePerDetector) {
  auto m = all_detectors();
  Scratch s;
  MaskCounts counts;
  MaskResult r;
  m->mask_value("a@example.com b@example.com 123-45-6789", m->plan_text(), r, s, counts);
  EXPECT_EQ(counts.by_detector()[static_cast<std::size_t>(Detector::email)], 2u);
  EXPECT_EQ(counts.by_detector()[static_cast<std::size_t>(Detector::us_ssn)], 1u);
  EXPECT_EQ(counts.total(), 3u);
}

// Hyperscan's AVX-512 VBMI engines read past the end of the data; on such a CPU this input,
// ending just before an unmapped page, crashed the scan (found by the fuzzer). Every piece of
// it is scanned at both edges of a page whose neighbours are unmapped.
TEST(CustomDetectors, ValuesAtAPageEdgeAreScannedSafely) {
  config::MaskingProfileConfig p;
  p.detectors = testing::kAllDetectors;
  p.custom = {{"word", "", {"secret"}, 1}, {"emp", "EMP-[0-9]{4,8}", {}, 2}};
  auto m = make_masker(p);
  ASSERT_NE(m, nullptr);
  constexpr std::size_t kPage = 4096;
  auto* map = static_cast<char*>(
      mmap(nullptr, 3 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(map, MAP_FAILED);
  ASSERT_EQ(mprotect(map, kPage, PROT_NONE), 0);
  ASSERT_EQ(mprotect(map + 2 * kPage, kPage, PROT_NONE), 0);
  char* page = map + kPage;
  constexpr char kInput[] =
      "{\"ssn\":\0\0\0\0=\0\0\0Y---II3-45glpat--6789\"example.org415) 555-2671\"} secret EMP-12345";
  const std::string input(kInput, sizeof kInput - 1);
  Scratch scratch;
  std::size_t masked_at_end = 0;
  for (std::size_t from = 0; from < input.size(); ++from) {
    for (std::size_t len = 1; from + len <= input.size(); ++len) {
      const std::string_view piece(input.data() + from, len);
      for (char* at : {page + kPage - len, page}) {
        std::memcpy(at, piece.data(), len);
        MaskCounts counts;
        MaskResult r;
        const bool changed = m->mask_value({at, len}, m->plan_text(), r, scratch, counts);
        if (at == page + kPage - len && changed && piece.ends_with("EMP-12345")) ++masked_at_end;
      }
    }
  }
  // The padded copy still finds what is there.
  EXPECT_EQ(masked_at_end, input.size() - 8);
  EXPECT_EQ(masked(*m, "id EMP-12345"), "id [emp]");
  munmap(map, 3 * kPage);
}

}  // namespace
}  // namespace portcullis::masking
