// Fuzz target: the first packet of a client connection, and the filtering of the startup
// parameters it carries. Neither may crash, leak or accept a parameter list it misread.
// Invariants: what was decoded lies inside the packet it came from; a packet encoded again
// from what was decoded (the codec's own encoders) decodes to the same thing and is no longer
// than the original; what the gateway forwards never names a setting it owns.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/startup_parameters.h"

namespace {

using namespace portcullis::proto::postgres;

// PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h).
constexpr std::size_t kMaxStartupPacket = 10000;

// Settings the gateway owns (startup_parameters.cc): none may be forwarded, in any spelling.
constexpr std::array<std::string_view, 5> kOwned = {
    "default_transaction_read_only", "transaction_read_only", "role", "session_authorization",
    "session_replication_role"};

// Decodes the one packet in `packet`, which must be whole and no longer than `original`.
StartupPacket decode_again(const std::string& packet, std::size_t original) {
  StartupPacket out;
  std::size_t consumed = 0;
  std::string error;
  if (decode_startup_packet(packet, kMaxStartupPacket, out, consumed, error) !=
          DecodeStatus::ready ||
      consumed != packet.size() || consumed > original)
    __builtin_trap();
  return out;
}

void round_trip(const StartupPacket& packet, std::size_t consumed) {
  std::string encoded;
  if (std::holds_alternative<SslRequest>(packet)) {
    append_ssl_request(encoded);
    if (!std::holds_alternative<SslRequest>(decode_again(encoded, consumed))) __builtin_trap();
  } else if (const auto* cancel = std::get_if<CancelRequest>(&packet)) {
    append_cancel_request(encoded, *cancel);
    const auto again = decode_again(encoded, consumed);
    const auto* same = std::get_if<CancelRequest>(&again);
    if (same == nullptr || same->process_id != cancel->process_id ||
        same->secret_key != cancel->secret_key)
      __builtin_trap();
  } else if (const auto* startup = std::get_if<StartupMessage>(&packet)) {
    // The encoder writes protocol 3.0, the only one the gateway speaks to a backend.
    if (startup->protocol_version != kProtocolVersion3) return;
    std::vector<std::pair<std::string, std::string>> parameters;
    for (const auto& [name, value] : startup->parameters)
      parameters.emplace_back(std::string(name), std::string(value));
    append_startup_message(encoded, parameters);
    const auto again = decode_again(encoded, consumed);
    const auto* same = std::get_if<StartupMessage>(&again);
    if (same == nullptr || same->protocol_version != startup->protocol_version ||
        same->parameters != startup->parameters)
      __builtin_trap();
  }
}

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
  round_trip(packet, consumed);

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
