// Splitting a watch stream into its documents, whatever chunks it arrives in.
#include "proto/kubernetes/json_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portcullis::proto::kubernetes {
namespace {

const std::vector<std::string> kEvents = {
    R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"shop","resourceVersion":"1001"}}})",
    R"({"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"shop","resourceVersion":"1002"},"status":{"phase":"Running"}}})",
    R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"1003"}}})",
};

std::string stream_of(const std::vector<std::string>& events) {
  std::string stream;
  for (const auto& event : events) stream += event + "\n";
  return stream;
}

// Feeds `chunks` and collects every line as soon as it is complete.
std::vector<std::string> split(JsonLines& lines, const std::vector<std::string_view>& chunks) {
  std::vector<std::string> out;
  for (const auto chunk : chunks) {
    EXPECT_TRUE(lines.feed(chunk).ok());
    while (auto line = lines.next()) out.emplace_back(*line);
  }
  return out;
}

TEST(JsonLinesTest, YieldsEachDocumentAtEverySplitPoint) {
  const auto stream = stream_of(kEvents);
  const std::string_view view(stream);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    JsonLines lines;
    EXPECT_EQ(split(lines, {view.substr(0, cut), view.substr(cut)}), kEvents) << "cut " << cut;
    EXPECT_TRUE(lines.finish().ok());
  }
}

TEST(JsonLinesTest, YieldsEachDocumentAtEveryPairOfSplitPoints) {
  const auto stream = stream_of(kEvents);
  const std::string_view view(stream);
  for (std::size_t first = 0; first <= stream.size(); ++first) {
    for (std::size_t second = first; second <= stream.size(); ++second) {
      JsonLines lines;
      const auto out = split(
          lines, {view.substr(0, first), view.substr(first, second - first), view.substr(second)});
      ASSERT_EQ(out, kEvents) << "cuts " << first << ", " << second;
      ASSERT_TRUE(lines.finish().ok());
    }
  }
}

TEST(JsonLinesTest, YieldsEachDocumentFedByteByByte) {
  const auto stream = stream_of(kEvents);
  JsonLines lines;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(std::string_view(stream).substr(i, 1));
  EXPECT_EQ(split(lines, bytes), kEvents);
  EXPECT_TRUE(lines.finish().ok());
}

TEST(JsonLinesTest, YieldsNothingBeforeTheLineEnds) {
  JsonLines lines;
  ASSERT_TRUE(lines.feed(R"({"type":"ADDED")").ok());
  EXPECT_FALSE(lines.next());
  ASSERT_TRUE(lines.feed(R"(,"object":{}})").ok());
  EXPECT_FALSE(lines.next());
  ASSERT_TRUE(lines.feed("\n").ok());
  EXPECT_EQ(lines.next(), R"({"type":"ADDED","object":{}})");
  EXPECT_FALSE(lines.next());
}

TEST(JsonLinesTest, SkipsWhitespaceOnlyLines) {
  JsonLines lines;
  EXPECT_EQ(split(lines, {"\n  \n\t\r\n{\"a\":1}\r\n\n \n{\"b\":2}\n   "}),
            (std::vector<std::string>{"{\"a\":1}\r", "{\"b\":2}"}));
  EXPECT_TRUE(lines.finish().ok());
}

TEST(JsonLinesTest, FinishRefusesATrailingPartialDocument) {
  JsonLines lines;
  EXPECT_EQ(split(lines, {kEvents[0] + "\n" + kEvents[1].substr(0, 20)}),
            (std::vector<std::string>{kEvents[0]}));
  EXPECT_FALSE(lines.finish().ok());
}

TEST(JsonLinesTest, FinishAcceptsAnEmptyStream) {
  JsonLines lines;
  EXPECT_TRUE(lines.finish().ok());
}

TEST(JsonLinesTest, AcceptsALineOfExactlyTheLimit) {
  JsonLines lines(8);
  EXPECT_EQ(split(lines, {"12345", "678\n"}), (std::vector<std::string>{"12345678"}));
}

TEST(JsonLinesTest, RefusesAPartialLineLongerThanTheLimit) {
  JsonLines lines(8);
  ASSERT_TRUE(lines.feed("12345").ok());
  EXPECT_FALSE(lines.feed("6789").ok());
  EXPECT_FALSE(lines.next());
  EXPECT_FALSE(lines.feed("\n").ok());
  EXPECT_FALSE(lines.finish().ok());
}

TEST(JsonLinesTest, RefusesACompleteLineLongerThanTheLimitInOneChunk) {
  JsonLines lines(8);
  EXPECT_FALSE(lines.feed("1\n123456789\n1\n").ok());
  EXPECT_FALSE(lines.next());
}

TEST(JsonLinesTest, TheLimitCountsEachLineOnItsOwn) {
  JsonLines lines(8);
  EXPECT_EQ(split(lines, {"1234567\n1234", "567\n12345678\n"}),
            (std::vector<std::string>{"1234567", "1234567", "12345678"}));
}

TEST(JsonLinesTest, ALineStaysValidUntilTheNextFeed) {
  JsonLines lines;
  ASSERT_TRUE(lines.feed("{\"a\":1}\n{\"b\":2}\n").ok());
  const auto first = lines.next();
  const auto second = lines.next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, "{\"a\":1}");
  EXPECT_EQ(*second, "{\"b\":2}");
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
