// Loading portcullis.yaml into a Config: YAML parsing, schema and cross-reference checks,
// secrets resolved from the environment or files, relative paths made absolute.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/result.h"
#include "policy/config.h"

namespace portcullis::policy {

// Reads and validates `file`. On failure the error message lists every problem found, one per
// line, as `FILE:LINE: message` with FILE as given; no message contains a password. Never throws.
Result<ConfigPtr> load_config(const std::filesystem::path& file);

// The same for text already in memory. `file` names the text in messages, and its folder is
// where relative paths resolve; it is not read.
Result<ConfigPtr> parse_config(std::string_view yaml_text, const std::filesystem::path& file);

}  // namespace portcullis::policy
