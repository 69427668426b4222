// Fuzz target: parse_config on arbitrary bytes must report problems, never crash or throw.
// Invariants: the same text always gives the same verdict and the same problems; a
// configuration that loads has unique connection names, and every access rule names only
// connections it defines (a rule must never grant a connection nobody configured).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "masking/config_vocabulary.h"

namespace {
// A folder that does not exist, so that relative paths in the input resolve to nothing.
constexpr std::string_view kFile = "/nonexistent-portcullis-fuzz/p.yaml";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // As check-config loads it: masking names and regexes are checked too.
  static const portcullis::config::MaskingVocabulary vocabulary =
      portcullis::masking::config_vocabulary();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result = portcullis::config::parse_config(text, kFile, vocabulary);
  auto again = portcullis::config::parse_config(text, kFile, vocabulary);
  if (result.ok() != again.ok()) __builtin_trap();
  if (!result.ok()) {
    if (result.error().message.empty()) __builtin_trap();
    if (result.error().message != again.error().message) __builtin_trap();
    return 0;
  }
  const auto& config = **result;
  std::set<std::string> names;
  for (const auto& connection : config.connections)
    if (!names.insert(connection.name).second) __builtin_trap();
  for (const auto& rule : config.access)
    for (const auto& name : rule.connections)
      if (config.find_connection(name) == nullptr) __builtin_trap();
  return 0;
}
