// libFuzzer target for the masking of a command's output stream (masking/output_masking):
// the host's output is untrusted bytes cut into packets anywhere. The first byte chooses the
// packet size. Checked: without a masker the stream is passed unchanged; with every built-in
// detector, the output holds no private key block's BEGIN line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "masking/detector.h"
#include "masking/masker.h"
#include "masking/output_masking.h"

namespace {

using namespace portcullis;

std::shared_ptr<const masking::Masker> make() {
  config::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors.assign(masking::kBuiltinDetectorNames.begin(), masking::kBuiltinDetectorNames.end());
  return *masking::Masker::build(p, Secret("fuzz-key"));
}

std::string stream(const masking::Masker* masker, std::string_view in, std::size_t packet) {
  static masking::Scratch scratch;
  masking::MaskCounts counts;
  masking::OutputMasking masking(masker, &scratch, &counts);
  std::string out;
  for (std::size_t at = 0; at < in.size(); at += packet) masking.feed(in.substr(at, packet), out);
  masking.finish(out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const auto masker = make();
  const std::size_t packet = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (stream(nullptr, in, packet) != in) __builtin_trap();
  const std::string out = stream(masker.get(), in, packet);
  // A private key's BEGIN line left in the output, as the detector reads one ("-----BEGIN ",
  // capitals, digits and spaces with "PRIVATE KEY", "-----"): the block was not masked.
  for (auto begin = out.find("-----BEGIN "); begin != std::string::npos;
       begin = out.find("-----BEGIN ", begin + 1)) {
    auto p = begin + 11;
    while (p < out.size() && p - begin < 11 + 64 &&
           ((out[p] >= 'A' && out[p] <= 'Z') || (out[p] >= '0' && out[p] <= '9') || out[p] == ' '))
      ++p;
    const std::string_view label = std::string_view(out).substr(begin + 11, p - begin - 11);
    if (out.compare(p, 5, "-----") == 0 && label.find("PRIVATE KEY") != std::string_view::npos)
      __builtin_trap();
  }
  return 0;
}
