// Fuzz target: parse_config on arbitrary bytes must report problems, never crash or throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A folder that does not exist, so that relative paths in the input resolve to nothing.
  auto result = portcullis::policy::parse_config(text, "/nonexistent-portcullis-fuzz/p.yaml");
  if (!result.ok() && result.error().message.empty()) __builtin_trap();
  return 0;
}
