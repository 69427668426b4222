// Masking a command's output as it streams: values split across packets, long lines, the
// end of the stream, the null strategy.
#include "masking/output_masking.h"

#include <gtest/gtest.h>

namespace portcullis::masking {
namespace {

std::shared_ptr<const masking::Masker> masker_with_detectors(std::vector<std::string> detectors,
                                                             std::string strategy = "redact") {
  config::MaskingProfileConfig profile;
  profile.name = "p";
  profile.detectors = std::move(detectors);
  profile.strategy = std::move(strategy);
  auto masker = masking::Masker::build(profile, Secret("test-key"));
  EXPECT_TRUE(masker.ok());
  return *masker;
}

class OutputMaskingTest : public ::testing::Test {
 protected:
  // Feeds `chunks` one by one, then ends the stream; returns everything sent.
  std::string stream(const masking::Masker* masker, const std::vector<std::string>& chunks) {
    OutputMasking masking(masker, &scratch_, &counts_);
    std::string out;
    for (const auto& chunk : chunks) masking.feed(chunk, out);
    masking.finish(out);
    return out;
  }

  masking::Scratch scratch_;
  masking::MaskCounts counts_;
};

TEST_F(OutputMaskingTest, WithoutAMaskerOutputPassesUnchanged) {
  EXPECT_EQ(stream(nullptr, {"a@example.com\n", "partial"}), "a@example.com\npartial");
}

TEST_F(OutputMaskingTest, MasksAValueSplitAcrossChunks) {
  auto masker = masker_with_detectors({"email", "us_ssn"});
  EXPECT_EQ(stream(masker.get(), {"ssn 123-45-", "6789 and ali", "ce@example.com\nnext\n"}),
            "ssn [us_ssn] and [email]\nnext\n");
  EXPECT_EQ(counts_.total(), 2u);
}

TEST_F(OutputMaskingTest, HoldsAnIncompleteLineUntilItEnds) {
  auto masker = masker_with_detectors({"email"});
  OutputMasking masking(masker.get(), &scratch_, &counts_);
  std::string out;
  masking.feed("first a@example.com\nsecond b@exa", out);
  EXPECT_EQ(out, "first [email]\n");
  EXPECT_EQ(masking.held(), std::string("second b@exa").size());
  masking.feed("mple.com", out);
  EXPECT_EQ(out, "first [email]\n");
  masking.finish(out);
  EXPECT_EQ(out, "first [email]\nsecond [email]");
}

TEST_F(OutputMaskingTest, ALongLineIsMaskedWhenTheHoldIsFull) {
  auto masker = masker_with_detectors({"email"});
  OutputMasking masking(masker.get(), &scratch_, &counts_);
  std::string out;
  const std::string filler(OutputMasking::kMaxHeldLine, 'x');
  masking.feed("a@example.com " + filler, out);
  EXPECT_EQ(masking.held(), 0u);
  EXPECT_EQ(out, "[email] " + filler);
}

// A private key in the output, as `cat ~/.ssh/id_ed25519` prints it, whatever the packets.
constexpr std::string_view kPrivateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDV0v3fM4m6IhFVl1QkJxNyb4s2w9p0eQ2hQ1c5v0XwAAAAJjV8W9Z1fFv\n"
    "WQAAAAtzc2gtZWQyNTUxOQAAACDV0v3fM4m6IhFVl1QkJxNyb4s2w9p0eQ2hQ1c5v0XwAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

TEST_F(OutputMaskingTest, APrivateKeySplitAcrossPacketsIsMaskedWhole) {
  auto masker = masker_with_detectors({"private_key"});
  const std::string text = "before\n" + std::string(kPrivateKey) + "after\n";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    const std::string out = stream(masker.get(), {text.substr(0, cut), text.substr(cut)});
    EXPECT_EQ(out.find("b3BlbnNzaC1rZXkt"), std::string::npos) << "cut at " << cut << ": " << out;
    EXPECT_EQ(out.find("WQAAAAtzc2gtZWQy"), std::string::npos) << "cut at " << cut << ": " << out;
    EXPECT_NE(out.find("after\n"), std::string::npos) << "cut at " << cut << ": " << out;
  }
}

TEST_F(OutputMaskingTest, APrivateKeyLongerThanTheHoldIsWithheldToItsEnd) {
  auto masker = masker_with_detectors({"private_key"});
  std::string body;
  while (body.size() < OutputMasking::kMaxHeldLine + 1000)
    body += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n";
  const std::vector<std::string> chunks = {"-----BEGIN RSA PRIVATE KEY-----\n",
                                           body.substr(0, 50000), body.substr(50000),
                                           "-----END RSA PRIVATE KEY-----\nafter\n"};
  const std::string out = stream(masker.get(), chunks);
  EXPECT_EQ(out.find("QUJDREVGR0hJSktM"), std::string::npos) << out.substr(0, 300);
  EXPECT_NE(out.find("after\n"), std::string::npos) << out.substr(0, 300);
  EXPECT_LT(out.size(), 200u);
}

TEST_F(OutputMaskingTest, TheNullStrategyWithholdsTheLines) {
  auto masker = masker_with_detectors({"email"}, "null");
  EXPECT_EQ(stream(masker.get(), {"a@example.com\n", "plain\n"}),
            std::string(OutputMasking::kWithheld) + "\nplain\n");
}

TEST_F(OutputMaskingTest, BinaryOutputWithoutValuesIsUnchanged) {
  auto masker = masker_with_detectors({"email", "us_ssn"});
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  EXPECT_EQ(stream(masker.get(), {binary, binary}), binary + binary);
}

}  // namespace
}  // namespace portcullis::masking

namespace portcullis::masking {
namespace {

TEST_F(OutputMaskingTest, FlushSendsAHeldPromptMasked) {
  auto masker = masker_with_detectors({"email"});
  OutputMasking masking(masker.get(), &scratch_, &counts_);
  std::string out;
  masking.feed("mail bob@example.com? ", out);
  EXPECT_EQ(out, "");
  masking.flush(out);
  EXPECT_EQ(out, "mail [email]? ");
  EXPECT_EQ(masking.held(), 0u);
  masking.feed("y\n", out);
  EXPECT_EQ(out, "mail [email]? y\n");
}

TEST_F(OutputMaskingTest, FlushKeepsHoldingAnOpenPrivateKey) {
  auto masker = masker_with_detectors({"private_key"});
  OutputMasking masking(masker.get(), &scratch_, &counts_);
  std::string out;
  masking.feed("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", out);
  masking.flush(out);
  EXPECT_EQ(out, "");
  masking.feed("-----END OPENSSH PRIVATE KEY-----\n", out);
  EXPECT_EQ(out.find("b3BlbnNzaC1rZXktdjEAAAAA"), std::string::npos) << out;
}

}  // namespace
}  // namespace portcullis::masking
