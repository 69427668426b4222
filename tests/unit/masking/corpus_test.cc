// Precision and recall of the built-in detectors over a labelled corpus of values: true PII in
// many formats and near-misses that must stay unmasked.
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
    for (std::size_t p; (p = value.find("\\n")) != std::string::npos;) value.replace(p, 2, "\n");
    out.push_back({line.substr(0, tab), value, n});
  }
  return out;
}

TEST(MaskingCorpus, HoldsPrecisionAndRecallAbove98Percent) {
  const auto corpus = read_corpus();
  ASSERT_GE(corpus.size(), 300u);
  auto masker = testing::all_detectors();
  ASSERT_TRUE(masker);
  Scratch scratch;
  int tp = 0, fp = 0, fn = 0, tn = 0;
  for (const auto& item : corpus) {
    MaskCounts counts;
    MaskResult r;
    masker->mask_value(item.value, masker->plan_text(), r, scratch, counts);
    std::vector<std::string> found;
    for (std::size_t k = 0; k < counts.by_detector().size(); ++k)
      if (counts.by_detector()[k] > 0) found.emplace_back(masker->detector_name(k));
    const bool expected = item.detector != "-";
    const bool right =
        expected && std::find(found.begin(), found.end(), item.detector) != found.end();
    if (expected && right) {
      ++tp;
      if (found.size() > 1) ++fp;  // a second, wrong detection in the same value
    } else if (expected) {
      ++fn;
      std::cout << "corpus line " << item.line << ": missed " << item.detector << " in \""
                << item.value << "\"" << (found.empty() ? "" : " (found " + found[0] + ")") << "\n";
    } else if (!found.empty()) {
      ++fp;
      std::cout << "corpus line " << item.line << ": " << found[0] << " in near-miss \""
                << item.value << "\" -> \"" << r.bytes << "\"\n";
    } else {
      ++tn;
    }
  }
  const double precision = tp + fp == 0 ? 0 : static_cast<double>(tp) / (tp + fp);
  const double recall = tp + fn == 0 ? 0 : static_cast<double>(tp) / (tp + fn);
  std::printf("masking corpus: %zu values, %d PII, %d near-misses; precision %.4f, recall %.4f\n",
              corpus.size(), tp + fn, fp + tn, precision, recall);
  EXPECT_GE(precision, 0.98);
  EXPECT_GE(recall, 0.98);
}

}  // namespace
}  // namespace portcullis::masking
