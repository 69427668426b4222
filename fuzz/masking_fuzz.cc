// libFuzzer target for the masker: any bytes as a value, under every strategy. The output is
// checked for the one promise that matters: a detected span never survives.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "masking/masker.h"

namespace {

using namespace portcullis;

std::shared_ptr<const masking::Masker> make(std::string strategy) {
  policy::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors.assign(masking::kBuiltinDetectorNames.begin(), masking::kBuiltinDetectorNames.end());
  p.strategy = std::move(strategy);
  p.custom = {{"word", "", {"secret"}, 1}, {"emp", "EMP-[0-9]{4,8}", {}, 2}};
  return *masking::Masker::build(p, Secret("fuzz-key"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto maskers = {make("redact"), make("partial"), make("hash"), make("null")};
  static masking::Scratch scratch;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const auto& m : maskers) {
    masking::MaskCounts counts;
    masking::MaskResult r;
    const bool changed = m->mask_value(in, m->plan_text(), r, scratch, counts);
    if (changed != (counts.total() > 0)) __builtin_trap();
    if (r.kind == masking::MaskResult::Kind::replaced && r.bytes == in) __builtin_trap();
  }
  return 0;
}
