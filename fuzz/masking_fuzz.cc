// libFuzzer target for the masker: any bytes as a value, under every strategy. The output is
// checked for the promises that matter: a value masked with every built-in detector holds no
// detection any more, no span a detector finds survives, and a change is always counted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "masking/detector.h"
#include "masking/masker.h"

namespace {

using namespace portcullis;

std::shared_ptr<const masking::Masker> make(std::string strategy, bool custom) {
  config::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors.assign(masking::kBuiltinDetectorNames.begin(), masking::kBuiltinDetectorNames.end());
  p.strategy = std::move(strategy);
  if (custom) p.custom = {{"word", "", {"secret"}, 1}, {"emp", "EMP-[0-9]{4,8}", {}, 2}};
  return *masking::Masker::build(p, Secret("fuzz-key"));
}

constexpr masking::DetectorSet kAll =
    (masking::DetectorSet{1} << masking::kBuiltinDetectorCount) - 1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto maskers = {make("redact", true), make("partial", true), make("hash", true),
                               make("null", true)};
  static const auto redact = make("redact", false);
  static masking::Scratch scratch;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const auto& m : maskers) {
    masking::MaskCounts counts;
    masking::MaskResult r;
    const bool changed = m->mask_value(in, m->plan_text(), r, scratch, counts);
    if (changed != (counts.total() > 0)) __builtin_trap();
    if (r.kind == masking::MaskResult::Kind::replaced && r.bytes == in) __builtin_trap();
  }

  // The invariant of content masking: with every built-in detector and markers, the masked
  // output holds nothing a detector finds, and no detected span's text is left in it.
  masking::MaskCounts counts;
  masking::MaskResult r;
  const std::string out =
      redact->mask_value(in, redact->plan_text(), r, scratch, counts) ? r.bytes : std::string(in);
  std::vector<masking::Span> spans;
  masking::find_builtin(out, kAll, spans);
  if (!spans.empty()) __builtin_trap();
  spans.clear();
  masking::find_builtin(in, kAll, spans);
  for (const auto& s : spans) {
    const std::string_view found = in.substr(s.begin, s.end - s.begin);
    // Short spans can occur in the output by chance (a marker's text, a kept word), and text
    // the input holds twice may be a detection in one place only; a long span found once
    // that is left in the output is a leak.
    const bool once = in.find(found) == s.begin && in.find(found, s.begin + 1) == in.npos;
    if (found.size() >= 16 && once && out.find(found) != std::string::npos) __builtin_trap();
  }
  return 0;
}
