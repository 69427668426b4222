// The built-in content detectors and the hand-written scanner that finds them: one pass over
// a value that stops only at candidate bytes (a digit, '@', ':', a token prefix) and runs the
// exact grammar and validator for that candidate alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace portcullis::masking {

enum class Detector : uint8_t {
  email,
  credit_card,
  us_ssn,
  phone,
  iban,
  ipv4,
  ipv6,
  aws_access_key,
  jwt,
  private_key,
  api_token,
};

inline constexpr std::size_t kBuiltinDetectorCount = 11;

inline constexpr std::array<std::string_view, kBuiltinDetectorCount> kBuiltinDetectorNames{
    "email", "credit_card",    "us_ssn", "phone",       "iban",     "ipv4",
    "ipv6",  "aws_access_key", "jwt",    "private_key", "api_token"};

std::optional<Detector> detector_from_name(std::string_view name);

// A bit per built-in detector.
using DetectorSet = uint32_t;
inline constexpr DetectorSet bit(Detector d) {
  return DetectorSet{1} << static_cast<unsigned>(d);
}

// A masked byte range of a value. `detector` is a built-in detector's index, or
// kBuiltinDetectorCount + the index of a custom detector of the profile.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint16_t detector = 0;
  // An encoded run (base64, hex, percent) the detector found in its decoded bytes: the span's
  // text is not in the detector's own format, so a partial view of it means nothing.
  bool encoded = false;
};

// Appends to `out` the spans of the enabled built-in detectors in `value`, in order and not
// overlapping. Runs of base64, hex and percent-encoding are decoded and scanned too; one that
// holds a detection is a span as a whole, under the detector that found it inside.
// Linear in the size of the value: returns the work done (bytes the candidate grammars read,
// and stops of the first pass), which tests bound.
uint64_t find_builtin(std::string_view value, DetectorSet enabled, std::vector<Span>& out);

}  // namespace portcullis::masking
