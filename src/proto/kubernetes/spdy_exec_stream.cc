// SpdyExecStream: the client's streams named from their SYN_STREAMs, the server's output on
// them masked, everything else passed as it came.
#include "proto/kubernetes/spdy_exec_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "proto/kubernetes/header_list.h"

namespace portcullis::proto::kubernetes {

namespace {

SpdyExecStreamType type_named(std::string_view value) {
  // As the kubelet compares them: exactly.
  if (value == "error") return SpdyExecStreamType::error;
  if (value == "stdin") return SpdyExecStreamType::stdin_data;
  if (value == "stdout") return SpdyExecStreamType::stdout_data;
  if (value == "stderr") return SpdyExecStreamType::stderr_data;
  if (value == "resize") return SpdyExecStreamType::resize;
  return SpdyExecStreamType::unknown;
}

std::string_view name_of(SpdyExecStreamType type) {
  switch (type) {
    case SpdyExecStreamType::error:
      return "error";
    case SpdyExecStreamType::stdin_data:
      return "stdin";
    case SpdyExecStreamType::stdout_data:
      return "stdout";
    case SpdyExecStreamType::stderr_data:
      return "stderr";
    case SpdyExecStreamType::resize:
      return "resize";
    case SpdyExecStreamType::unknown:
      break;
  }
  return "unknown";
}

bool is_output_stream(SpdyExecStreamType type) {
  return type == SpdyExecStreamType::stdout_data || type == SpdyExecStreamType::stderr_data;
}

}  // namespace

bool is_readable_spdy_exec_protocol(std::string_view protocol) {
  return std::find(kSpdyExecProtocols.begin(), kSpdyExecProtocols.end(), protocol) !=
         kSpdyExecProtocols.end();
}

std::vector<std::string> readable_spdy_exec_protocols(
    const std::vector<std::string_view>& offered) {
  std::vector<std::string> readable;
  for (const std::string_view line : offered)
    filter_header_list(line, [&readable](std::string_view entry) {
      if (is_readable_spdy_exec_protocol(entry) &&
          std::find(readable.begin(), readable.end(), entry) == readable.end())
        readable.emplace_back(entry);
      return false;
    });
  return readable;
}

SpdyExecStream::SpdyExecStream(const masking::Masker* masker, masking::Scratch* scratch,
                               masking::MaskCounts* counts, SpdyExecStreamLimits limits)
    : ExecTranscript(limits.kept),
      limits_(limits),
      client_reader_(limits.max_frame),
      server_reader_(limits.max_frame),
      stdout_masking_(masker, scratch, counts),
      stderr_masking_(masker, scratch, counts) {}

masking::OutputMasking& SpdyExecStream::masking_of(SpdyExecStreamType type) {
  return type == SpdyExecStreamType::stdout_data ? stdout_masking_ : stderr_masking_;
}

Result<void> SpdyExecStream::from_client(std::string_view bytes, std::string& to_server) {
  client_reader_.feed(bytes);
  for (;;) {
    auto next = client_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    const SpdyFrame& frame = **next;
    if (frame.is(SpdyControl::syn_stream)) {
      if (auto opened = open_stream(frame); !opened) return opened;
    } else if (frame.is(SpdyControl::syn_reply) || frame.is(SpdyControl::headers)) {
      // Read only to follow the zlib stream the next SYN_STREAM continues.
      if (auto read = client_headers_.read(frame.header_block); !read) return read.error();
    } else if (!frame.control) {
      const auto stream = streams_.find(frame.stream_id);
      if (stream != streams_.end() && stream->second.type == SpdyExecStreamType::stdin_data)
        record_input(frame.payload);
    }
    to_server.append(frame.bytes);
  }
}

Result<void> SpdyExecStream::open_stream(const SpdyFrame& frame) {
  const uint32_t id = frame.stream_id;
  auto headers = client_headers_.read(frame.header_block);
  if (!headers) return headers.error();
  // Client streams have odd ids, each larger than the last (SPDY draft 3, section 2.3.2).
  if (id % 2 == 0 || id <= last_client_stream_)
    return make_error(fmt::format("spdy stream {} opened by the client out of order", id));
  if (streams_.size() >= limits_.max_streams)
    return make_error(fmt::format("more than {} spdy streams", limits_.max_streams));
  last_client_stream_ = id;
  // The purpose as the kubelet reads it (the first value of the header, whatever its case):
  // anything that could read two ways is refused.
  const std::string* purpose = nullptr;
  for (const auto& [name, value] : *headers) {
    if (!boost::beast::iequals(name, "streamtype")) continue;
    if (purpose != nullptr)
      return make_error(fmt::format("spdy stream {} names its streamtype twice", id));
    purpose = &value;
  }
  if (purpose == nullptr) return make_error(fmt::format("spdy stream {} has no streamtype", id));
  if (purpose->find('\0') != std::string::npos)
    return make_error(fmt::format("spdy stream {} has several streamtypes", id));
  const SpdyExecStreamType type = type_named(*purpose);
  if (type != SpdyExecStreamType::unknown)
    for (const auto& [other_id, other] : streams_)
      if (other.type == type) return make_error(fmt::format("a second {} stream", name_of(type)));
  streams_[id] = Stream{.type = type};
  if (type == SpdyExecStreamType::stdout_data) stdout_id_ = id;
  if (type == SpdyExecStreamType::stderr_data) stderr_id_ = id;
  return {};
}

Result<void> SpdyExecStream::from_server(std::string_view bytes, std::string& to_client) {
  server_reader_.feed(bytes);
  for (;;) {
    auto next = server_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    const SpdyFrame& frame = **next;
    if (!frame.control) {
      if (auto sent = server_data(frame, to_client); !sent) return sent;
      continue;
    }
    if (frame.is(SpdyControl::syn_stream))
      return make_error(fmt::format("the API server opened spdy stream {}", frame.stream_id));
    if (frame.is(SpdyControl::syn_reply) || frame.is(SpdyControl::headers)) {
      if (auto read = server_headers_.read(frame.header_block); !read) return read.error();
    } else if (frame.is(SpdyControl::goaway)) {
      // Nothing follows: what is held goes out before it.
      finish(to_client);
    }
    to_client.append(frame.bytes);
  }
}

Result<void> SpdyExecStream::server_data(const SpdyFrame& frame, std::string& to_client) {
  const auto found = streams_.find(frame.stream_id);
  if (found == streams_.end())
    return make_error(
        fmt::format("spdy data from the API server on stream {}, which the client did not open",
                    frame.stream_id));
  Stream& stream = found->second;
  if (stream.server_done)
    return make_error(
        fmt::format("spdy data from the API server after the end of stream {}", frame.stream_id));
  if (frame.fin()) stream.server_done = true;
  if (is_output_stream(stream.type)) {
    auto& masking = masking_of(stream.type);
    masked_.clear();
    masking.feed(frame.payload, masked_);
    if (frame.fin()) masking.finish(masked_);
    if (!masked_.empty() || frame.fin())
      send_output(frame.stream_id, frame.flags & kSpdyFlagFin, masked_, to_client);
    return {};
  }
  if (stream.type == SpdyExecStreamType::error) {
    if (!frame.payload.empty()) {
      // The Status ends the command: no more output comes, so what is held goes out first.
      finish(to_client);
      if (status_.size() + frame.payload.size() <= kMaxStatusSize) {
        status_.append(frame.payload);
        read_status(status_);
      }
    }
  } else if (!frame.payload.empty()) {
    // kubectl does not read these; a server that writes on them is not one this relay knows.
    return make_error(
        fmt::format("spdy data from the API server on the {} stream", name_of(stream.type)));
  }
  to_client.append(frame.bytes);
  return {};
}

void SpdyExecStream::send_output(uint32_t stream_id, uint8_t flags, std::string_view masked,
                                 std::string& to_client) {
  record_output(masked);
  append_spdy_data(stream_id, flags, masked, to_client);
}

void SpdyExecStream::finish_output(uint32_t stream_id, std::string& to_client) {
  if (stream_id == 0) return;
  const Stream& stream = streams_.at(stream_id);
  if (stream.server_done) return;
  masked_.clear();
  masking_of(stream.type).finish(masked_);
  if (!masked_.empty()) send_output(stream_id, 0, masked_, to_client);
}

void SpdyExecStream::flush(std::string& to_client) {
  for (const uint32_t id : {stdout_id_, stderr_id_}) {
    if (id == 0 || streams_.at(id).server_done) continue;
    masked_.clear();
    masking_of(streams_.at(id).type).flush(masked_);
    if (!masked_.empty()) send_output(id, 0, masked_, to_client);
  }
}

void SpdyExecStream::finish(std::string& to_client) {
  finish_output(stdout_id_, to_client);
  finish_output(stderr_id_, to_client);
}

}  // namespace portcullis::proto::kubernetes
