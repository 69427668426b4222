// ExecStream: frames read whole each way, stdout and stderr masked, stdin recorded, the Status
// read for the exit code.
#include "proto/kubernetes/exec_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "proto/kubernetes/header_list.h"

namespace portcullis::proto::kubernetes {

namespace {

bool is_output(uint8_t channel) {
  return channel == static_cast<uint8_t>(ExecChannel::stdout_data) ||
         channel == static_cast<uint8_t>(ExecChannel::stderr_data);
}

}  // namespace

ExecStream::ExecStream(const masking::Masker* masker, masking::Scratch* scratch,
                       masking::MaskCounts* counts,
                       std::function<std::array<uint8_t, 4>()> mask_key_source,
                       ExecStreamLimits limits)
    : ExecTranscript({.kept_input = limits.kept_input, .kept_output = limits.kept_output}),
      stdout_masking_(masker, scratch, counts),
      stderr_masking_(masker, scratch, counts),
      mask_key_source_(std::move(mask_key_source)),
      client_reader_(Sender::client, limits.max_frame),
      server_reader_(Sender::server, limits.max_frame) {}

masking::OutputMasking& ExecStream::masking_of(ExecChannel channel) {
  return channel == ExecChannel::stdout_data ? stdout_masking_ : stderr_masking_;
}

Result<void> ExecStream::from_client(std::string_view bytes, std::string& to_server) {
  client_reader_.feed(bytes);
  for (;;) {
    auto next = client_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    Frame& frame = **next;
    if (is_control(frame.opcode)) {
      if (frame.opcode == Opcode::close) client_closed_ = true;
      to_server += write_frame(frame.opcode, true, frame.payload, mask_key_source_());
      continue;
    }
    // RFC 6455 section 5.5.1: no data frame after a close frame.
    if (client_closed_) return make_error("websocket data frame from the client after its close");
    if (frame.opcode != Opcode::continuation) client_opcode_ = frame.opcode;
    if (frame.fin && client_message_.empty()) {
      if (auto sent = client_message(client_opcode_, frame.payload, to_server); !sent) return sent;
      continue;
    }
    client_message_ += frame.payload;
    if (!frame.fin) continue;
    auto sent = client_message(client_opcode_, client_message_, to_server);
    client_message_.clear();
    if (!sent) return sent;
  }
}

Result<void> ExecStream::client_message(Opcode opcode, std::string_view payload,
                                        std::string& to_server) {
  if (!payload.empty() &&
      static_cast<uint8_t>(payload[0]) == static_cast<uint8_t>(ExecChannel::stdin_data)) {
    record_input(payload.substr(1));
  }
  to_server += write_frame(opcode, true, payload, mask_key_source_());
  return {};
}

Result<void> ExecStream::from_server(std::string_view bytes, std::string& to_client) {
  server_reader_.feed(bytes);
  for (;;) {
    auto next = server_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    Frame& frame = **next;
    if (is_control(frame.opcode)) {
      if (frame.opcode == Opcode::close) {
        // Nothing follows a close: what is held goes out before it.
        finish(to_client);
        server_closed_ = true;
      }
      to_client += write_frame(frame.opcode, true, frame.payload, std::nullopt);
      continue;
    }
    if (server_closed_) return make_error("websocket data frame from the server after its close");
    if (frame.opcode != Opcode::continuation) server_opcode_ = frame.opcode;
    // Fragments are put together before the channel byte is read: only the first carries it,
    // and output is masked as one stream per channel whatever its framing.
    if (frame.fin && server_message_.empty()) {
      if (auto sent = server_message(server_opcode_, frame.payload, to_client); !sent) return sent;
      continue;
    }
    server_message_ += frame.payload;
    if (!frame.fin) continue;
    auto sent = server_message(server_opcode_, server_message_, to_client);
    server_message_.clear();
    if (!sent) return sent;
  }
}

Result<void> ExecStream::server_message(Opcode opcode, std::string_view payload,
                                        std::string& to_client) {
  if (payload.empty()) {
    to_client += write_frame(opcode, true, payload, std::nullopt);
    return {};
  }
  const auto channel = static_cast<uint8_t>(payload[0]);
  // Output on a channel kubectl might read otherwise would pass unmasked: only the channels of
  // the subprotocol go through.
  if (channel > static_cast<uint8_t>(ExecChannel::resize) &&
      channel != static_cast<uint8_t>(ExecChannel::close))
    return make_error(fmt::format("exec stream message on the unknown channel {}", channel));
  if (is_output(channel)) {
    const auto output = static_cast<ExecChannel>(channel);
    masked_.clear();
    masking_of(output).feed(payload.substr(1), masked_);
    if (!masked_.empty()) {
      send_output(output, masked_, to_client);
    } else if (payload.size() == 1) {
      // A message with the channel byte alone (a stream opening) carries nothing to mask.
      to_client += write_frame(Opcode::binary, true, payload, std::nullopt);
    }
    return {};
  }
  if (channel == static_cast<uint8_t>(ExecChannel::status)) {
    // The Status ends the command: no more output comes, so what is held goes out first.
    finish(to_client);
    if (status_.size() + payload.size() - 1 <= kMaxStatusSize) {
      status_.append(payload.substr(1));
      read_status(status_);
    }
  } else if (channel == static_cast<uint8_t>(ExecChannel::close) && payload.size() >= 2 &&
             is_output(static_cast<uint8_t>(payload[1]))) {
    finish_channel(static_cast<ExecChannel>(payload[1]), to_client);
  }
  to_client += write_frame(opcode, true, payload, std::nullopt);
  return {};
}

void ExecStream::send_output(ExecChannel channel, std::string_view masked, std::string& to_client) {
  std::string payload;
  payload.reserve(masked.size() + 1);
  payload += static_cast<char>(channel);
  payload.append(masked);
  to_client += write_frame(Opcode::binary, true, payload, std::nullopt);
  record_output(masked);
}

void ExecStream::finish_channel(ExecChannel channel, std::string& to_client) {
  masked_.clear();
  masking_of(channel).finish(masked_);
  if (!masked_.empty()) send_output(channel, masked_, to_client);
}

void ExecStream::flush(std::string& to_client) {
  for (const auto channel : {ExecChannel::stdout_data, ExecChannel::stderr_data}) {
    masked_.clear();
    masking_of(channel).flush(masked_);
    if (!masked_.empty()) send_output(channel, masked_, to_client);
  }
}

void ExecStream::finish(std::string& to_client) {
  finish_channel(ExecChannel::stdout_data, to_client);
  finish_channel(ExecChannel::stderr_data, to_client);
}

std::string readable_exec_subprotocols(std::string_view offered) {
  return filter_header_list(offered, [](std::string_view entry) {
    return std::find(kExecSubprotocols.begin(), kExecSubprotocols.end(), entry) !=
           kExecSubprotocols.end();
  });
}

}  // namespace portcullis::proto::kubernetes
