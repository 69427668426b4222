// The built-in detectors over a labelled corpus of values: true PII in many formats, which
// must all be masked, and near-misses, which must all stay as they are.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <string>

#include "test_masker.h"

namespace portcullis::masking {
namespace {

struct Labelled {
  std::string detector;  // "-": must stay unmasked
  std::string value;
  int line;
};

std::vector<Labelled> read_corpus() {
  std::ifstream in(MASKING_CORPUS);
  std::vector<Labelled> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string value = line.substr(tab + 1);
    for (std::size_t p; (p = value.find("\\n")) != std::string::npos;) value.replace(p, 2, 1, '\n');
    out.push_back({line.substr(0, tab), value, n});
  }
  return out;
}

// Every labelled value is checked on its masked text: the expected detector's marker is
// there, a second scan finds nothing left, and a near-miss comes back byte for byte. No leak
// is tolerated.
TEST(MaskingCorpus, MasksEveryValueAndKeepsEveryNearMiss) {
  const auto corpus = read_corpus();
  ASSERT_GE(corpus.size(), 300u);
  auto masker = testing::all_detectors();
  ASSERT_TRUE(masker);
  Scratch scratch;
  int pii = 0, near_misses = 0;
  for (const auto& item : corpus) {
    MaskCounts counts;
    MaskResult r;
    const bool changed = masker->mask_value(item.value, masker->plan_text(), r, scratch, counts);
    const std::string out = changed ? r.bytes : item.value;
    if (item.detector == "-") {
      ++near_misses;
      EXPECT_EQ(out, item.value) << "corpus line " << item.line << ": near-miss masked";
      continue;
    }
    ++pii;
    EXPECT_NE(out.find(fmt::format("[{}]", item.detector)), std::string::npos)
        << "corpus line " << item.line << ": " << item.detector << " not masked in \"" << item.value
        << "\" -> \"" << out << "\"";
    MaskCounts again;
    MaskResult rescan;
    EXPECT_FALSE(masker->mask_value(out, masker->plan_text(), rescan, scratch, again))
        << "corpus line " << item.line << ": masked text still holds a detection: \"" << out
        << "\"";
  }
  std::printf("masking corpus: %zu values, %d PII, %d near-misses\n", corpus.size(), pii,
              near_misses);
}

}  // namespace
}  // namespace portcullis::masking
