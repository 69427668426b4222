// Loading portcullis.yaml into a Config: YAML parsing, schema and cross-reference checks,
// secrets resolved from the environment or files, relative paths made absolute.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::config {

// The masking vocabulary, which the masking module owns and this module sits below: the caller
// passes it so that check-config reports an unknown strategy or detector, or a regex that does
// not compile, at its line. Left empty, names are checked for form only and regexes not at all
// (tests of other sections, fuzzing of the reader).
struct MaskingVocabulary {
  std::vector<std::string> strategies;  // in the order messages list them
  std::vector<std::string> detectors;   // the built-in content detectors
  // Whether a custom detector's regex compiles; the error says why not.
  std::function<Result<void>(std::string_view regex)> check_regex;
};

// Reads and validates `file`. On failure the error message lists every problem found, one per
// line, as `FILE:LINE: message` with FILE as given; no message contains a password. Never throws.
Result<ConfigPtr> load_config(const std::filesystem::path& file,
                              const MaskingVocabulary& masking = {});

// The same for text already in memory. `file` names the text in messages, and its folder is
// where relative paths resolve; it is not read.
Result<ConfigPtr> parse_config(std::string_view yaml_text, const std::filesystem::path& file,
                               const MaskingVocabulary& masking = {});

}  // namespace portcullis::config
