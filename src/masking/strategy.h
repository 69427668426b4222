// What a detection becomes: a marker naming the detector, a partial view, a keyed hash, or
// SQL NULL for the whole value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace portcullis::masking {

enum class Strategy : uint8_t { redact, partial, hash, null };

inline constexpr std::array<std::string_view, 4> kStrategyNames{"redact", "partial", "hash",
                                                                "null"};

std::optional<Strategy> strategy_from_name(std::string_view name);

}  // namespace portcullis::masking
