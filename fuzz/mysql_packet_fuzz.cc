// Fuzzes the MySQL codec: packet framing, then every decoder a packet from a client or a
// backend reaches (greeting, handshake response, auth switch, OK/ERR/EOF, column definitions,
// text and binary rows, prepared-statement packets), with the first byte choosing the
// capabilities and the column shapes. Nothing may crash, hang, or read past the input; what a
// decoder accepted, encoded again, decodes to the same values.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "proto/mysql/capabilities.h"
#include "proto/mysql/handshake.h"
#include "proto/mysql/packet.h"
#include "proto/mysql/response.h"
#include "proto/mysql/statement_packets.h"

using namespace portcullis::proto::mysql;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Framing over the whole input, packet after packet, with a small limit.
  std::string_view rest = input;
  Frame frame;
  while (next_frame(rest, 1 << 16, frame) == FrameStatus::ready && frame.consumed > 0)
    rest.remove_prefix(frame.consumed);
  (void)single_packet_payload(input);

  const Capabilities caps = capability::kProtocol41 |
                            ((selector & 1) ? capability::kDeprecateEof : 0) |
                            ((selector & 2) ? capability::kSessionTrack : 0);
  (void)decode_greeting(input);
  (void)is_ssl_request(input);
  if (auto response = decode_handshake_response(input)) {
    auto again = decode_handshake_response(encode_handshake_response(*response));
    if (!again || again->user != response->user ||
        again->auth_response != response->auth_response ||
        again->attributes != response->attributes)
      __builtin_trap();
  }
  (void)decode_auth_switch(input);
  if (auto ok = decode_ok(input, caps)) (void)encode_ok(*ok, caps);
  if (auto err = decode_err(input)) {
    auto again = decode_err(encode_err(*err));
    if (!again || again->code != err->code || again->message != err->message) __builtin_trap();
  }
  (void)decode_eof(input);
  (void)is_result_end(input, caps);
  (void)result_end_status(input, caps);
  if (auto column = decode_column_definition(input)) (void)encode_column_definition(*column);

  // Rows against a column shape taken from the selector's high bits.
  static constexpr FieldType kTypes[] = {
      FieldType::longlong, FieldType::var_string, FieldType::datetime,   FieldType::tiny,
      FieldType::double_,  FieldType::blob,       FieldType::newdecimal, FieldType::time};
  std::vector<ColumnDefinition> columns((selector >> 2) % 9);
  for (std::size_t i = 0; i < columns.size(); ++i)
    columns[i].type = kTypes[(selector + i * 3) % (sizeof kTypes / sizeof kTypes[0])];
  RowValues values;
  if (decode_text_row(input, columns.size(), values)) {
    std::vector<std::optional<std::string>> owned;
    for (const auto& v : values)
      owned.emplace_back(v ? std::optional<std::string>(*v) : std::nullopt);
    RowValues again;
    const std::string encoded = encode_text_row(owned);
    if (!decode_text_row(encoded, columns.size(), again) || again.size() != values.size())
      __builtin_trap();
    for (std::size_t i = 0; i < again.size(); ++i)
      if (again[i] != values[i]) __builtin_trap();
  }
  if (decode_binary_row(input, columns, values)) {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (values[i]) (void)binary_value_as_text(*values[i], columns[i]);
  }

  (void)decode_prepare_ok(input);
  (void)statement_id_of(input);
  (void)decode_long_data(input);
  std::vector<ParamType> previous(columns.size());
  std::set<uint16_t> long_data;
  if (selector & 0x80) long_data.insert(0);
  (void)decode_execute(input, columns.size(), previous, long_data);
  return 0;
}
