// Fuzz target: the first packet of a client connection, and the filtering of the startup
// parameters it carries. Neither may crash, leak or accept a parameter list it misread.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "proto/postgres/decoder.h"
#include "proto/postgres/startup_parameters.h"

namespace {

using namespace portcullis::proto::postgres;

// PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h).
constexpr std::size_t kMaxStartupPacket = 10000;

// Settings the gateway owns (startup_parameters.cc): none may be forwarded, in any spelling.
constexpr std::array<std::string_view, 5> kOwned = {
    "default_transaction_read_only", "transaction_read_only", "role", "session_authorization",
    "session_replication_role"};

bool owned(std::string name) {
  for (auto& c : name)
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(kOwned.begin(), kOwned.end(), name) != kOwned.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly the input, so that ASan catches a read one byte past it.
  const std::string input(reinterpret_cast<const char*>(data), size);
  StartupPacket packet;
  std::size_t consumed = 0;
  std::string error;
  const auto status = decode_startup_packet(input, kMaxStartupPacket, packet, consumed, error);
  if (status == DecodeStatus::invalid && error.empty()) __builtin_trap();
  if (status != DecodeStatus::ready) return 0;
  if (consumed < 8 || consumed > input.size() || consumed > kMaxStartupPacket) __builtin_trap();

  const auto* startup = std::get_if<StartupMessage>(&packet);
  if (startup == nullptr) return 0;
  for (const auto& [name, value] : startup->parameters) {
    if (name.data() < input.data() || value.data() + value.size() > input.data() + consumed)
      __builtin_trap();
    if (name == "options") {
      for (const auto& word : split_options(value))
        if (word.empty()) __builtin_trap();
    }
  }
  auto params = backend_startup_parameters(*startup, "backend_user", "backend_db");
  if (params) {
    if (params->size() < 2 || (*params)[0].first != "user" || (*params)[1].first != "database")
      __builtin_trap();
    for (std::size_t i = 2; i < params->size(); ++i) {
      const auto& name = (*params)[i].first;
      // What the gateway forwards must never lift its own settings.
      if (name.empty() || owned(name)) __builtin_trap();
    }
  } else if (params.error().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
