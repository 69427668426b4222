// SPDY/3.1 frames as kubectl and the API server write them, built for the tests of the SPDY
// reader and the SPDY exec relay.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/kubernetes/spdy_frames.h"
#include "proto/kubernetes/spdy_header_block.h"

namespace portcullis::proto::kubernetes::spdy_test {

inline void append_u32(std::string& out, uint32_t value) {
  out += static_cast<char>(value >> 24);
  out += static_cast<char>(value >> 16);
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value);
}

// A control frame of version `version` (3 unless a test says otherwise).
inline std::string control_frame(SpdyControl type, uint8_t flags, std::string_view payload,
                                 uint16_t version = kSpdyVersion) {
  std::string frame;
  frame += static_cast<char>(0x80 | (version >> 8));
  frame += static_cast<char>(version & 0xff);
  frame += static_cast<char>(static_cast<uint16_t>(type) >> 8);
  frame += static_cast<char>(static_cast<uint16_t>(type) & 0xff);
  frame += static_cast<char>(flags);
  frame += static_cast<char>(payload.size() >> 16);
  frame += static_cast<char>(payload.size() >> 8);
  frame += static_cast<char>(payload.size());
  frame.append(payload);
  return frame;
}

inline std::string syn_stream(SpdyHeaderWriter& writer, uint32_t id, const SpdyHeaders& headers,
                              uint8_t flags = 0) {
  std::string payload;
  append_u32(payload, id);
  append_u32(payload, 0);  // associated to no stream
  payload += '\0';         // priority 0
  payload += '\0';         // slot
  payload += writer.write(headers);
  return control_frame(SpdyControl::syn_stream, flags, payload);
}

inline std::string syn_reply(SpdyHeaderWriter& writer, uint32_t id, const SpdyHeaders& headers = {},
                             uint8_t flags = 0) {
  std::string payload;
  append_u32(payload, id);
  payload += writer.write(headers);
  return control_frame(SpdyControl::syn_reply, flags, payload);
}

inline std::string ping(uint32_t id) {
  std::string payload;
  append_u32(payload, id);
  return control_frame(SpdyControl::ping, 0, payload);
}

inline std::string goaway(uint32_t last_stream) {
  std::string payload;
  append_u32(payload, last_stream);
  append_u32(payload, 0);
  return control_frame(SpdyControl::goaway, 0, payload);
}

inline std::string data_frame(uint32_t id, std::string_view data, bool fin = false) {
  std::string frame;
  append_spdy_data(id, fin ? kSpdyFlagFin : 0, data, frame);
  return frame;
}

}  // namespace portcullis::proto::kubernetes::spdy_test
