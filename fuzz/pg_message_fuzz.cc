// Fuzz target: a client or server byte stream. Every framed message is read by every body
// parser, frontend and backend alike; none may crash, leak or read outside the body.
// Invariants: what a parser accepted, encoded again (with the codec's own encoders where the
// gateway has one, MessageWriter otherwise) and framed, decodes to the same message, and is no
// longer than the body it came from: a parser never reads more than the input holds, and two
// readings of one message never differ.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/statement_tracker.h"

namespace {

using namespace portcullis::proto::postgres;

// The session's limit on a message body is configurable; 1 MiB keeps inputs cheap to frame.
constexpr std::size_t kMaxBody = 1 << 20;
constexpr int kParserCount = 12;

// A parser that accepted a body must have produced views inside it.
void check_inside(std::string_view body, std::string_view part) {
  if (part.empty()) return;
  if (part.data() < body.data() || part.data() + part.size() > body.data() + body.size())
    __builtin_trap();
}

template <class T>
void check_error(const portcullis::Result<T>& result) {
  if (!result.ok() && result.error().message.empty()) __builtin_trap();
}

// The body of the one message framed in `frame`, checked no longer than `original`.
std::string reframed(const std::string& frame, std::string_view original) {
  Message message;
  std::size_t consumed = 0;
  std::string error;
  if (decode_message(frame, kMaxBody, message, consumed, error) != DecodeStatus::ready ||
      consumed != frame.size())
    __builtin_trap();
  if (message.body.size() > original.size()) __builtin_trap();
  return std::string(message.body);
}

template <class Build>
std::string encode(char type, Build build) {
  std::string out;
  MessageWriter writer(out);
  writer.begin(type);
  build(writer);
  writer.finish();
  return out;
}

void values(MessageWriter& w, const std::vector<std::optional<std::string_view>>& values) {
  w.int16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    w.int32(v ? static_cast<int32_t>(v->size()) : -1);
    if (v) w.bytes(*v);
  }
}

void formats(MessageWriter& w, const std::vector<int16_t>& formats) {
  w.int16(static_cast<int16_t>(formats.size()));
  for (auto f : formats) w.int16(f);
}

// The value of a parse of re-encoded bytes, which must succeed. A copy: its views point into
// the re-encoded body, which the caller keeps.
template <class T>
T again(const portcullis::Result<T>& result) {
  if (!result.ok()) __builtin_trap();
  return *result;
}

// Encodes what parser `which` accepted from `body` and reads it back: the same message.
void round_trip(int which, std::string_view body) {
  switch (which) {
    case 0:
      if (auto r = parse_query(body)) {
        const auto b = reframed(encode('Q', [&](auto& w) { w.cstring(r->sql); }), body);
        if (again(parse_query(b)).sql != r->sql) __builtin_trap();
      }
      break;
    case 1:
      if (auto r = parse_parse(body)) {
        const auto b = reframed(encode('P',
                                       [&](auto& w) {
                                         w.cstring(r->statement).cstring(r->query);
                                         w.int16(static_cast<int16_t>(r->parameter_types.size()));
                                         for (auto t : r->parameter_types)
                                           w.int32(static_cast<int32_t>(t));
                                       }),
                                body);
        const auto x = again(parse_parse(b));
        if (x.statement != r->statement || x.query != r->query ||
            x.parameter_types != r->parameter_types)
          __builtin_trap();
      }
      break;
    case 2:
      if (auto r = parse_bind(body)) {
        const auto b = reframed(encode('B',
                                       [&](auto& w) {
                                         w.cstring(r->portal).cstring(r->statement);
                                         formats(w, r->parameter_formats);
                                         values(w, r->parameters);
                                         formats(w, r->result_formats);
                                       }),
                                body);
        const auto x = again(parse_bind(b));
        if (x.portal != r->portal || x.statement != r->statement ||
            x.parameter_formats != r->parameter_formats || x.parameters != r->parameters ||
            x.result_formats != r->result_formats)
          __builtin_trap();
      }
      break;
    case 3:
      if (auto r = parse_execute(body)) {
        const auto b =
            reframed(encode('E', [&](auto& w) { w.cstring(r->portal).int32(r->max_rows); }), body);
        const auto x = again(parse_execute(b));
        if (x.portal != r->portal || x.max_rows != r->max_rows) __builtin_trap();
      }
      break;
    case 4:
      if (auto r = parse_describe_or_close(body)) {
        std::string frame;
        append_describe(frame, r->target, r->name);
        const auto b = reframed(frame, body);
        const auto x = again(parse_describe_or_close(b));
        if (x.target != r->target || x.name != r->name) __builtin_trap();
      }
      break;
    case 5:
      if (auto r = parse_function_call(body)) {
        const auto b = reframed(encode('F',
                                       [&](auto& w) {
                                         w.int32(static_cast<int32_t>(r->function_oid));
                                         formats(w, r->argument_formats);
                                         values(w, r->arguments);
                                         w.int16(r->result_format);
                                       }),
                                body);
        const auto x = again(parse_function_call(b));
        if (x.function_oid != r->function_oid || x.argument_formats != r->argument_formats ||
            x.arguments != r->arguments || x.result_format != r->result_format)
          __builtin_trap();
      }
      break;
    case 6:
      if (auto r = parse_password(body)) {
        std::string frame;
        append_password_message(frame, *r);
        const auto b = reframed(frame, body);
        if (again(parse_password(b)) != *r) __builtin_trap();
      }
      break;
    case 7:
      if (auto r = parse_authentication(body)) {
        std::string frame;
        append_authentication(frame, r->code, r->data);
        const auto b = reframed(frame, body);
        const auto x = again(parse_authentication(b));
        if (x.code != r->code || x.data != r->data) __builtin_trap();
      }
      break;
    case 8:
      if (auto r = parse_backend_key_data(body)) {
        std::string frame;
        append_backend_key_data(frame, *r);
        const auto b = reframed(frame, body);
        const auto x = again(parse_backend_key_data(b));
        if (x.process_id != r->process_id || x.secret_key != r->secret_key) __builtin_trap();
      }
      break;
    case 9:
      if (auto r = parse_parameter_status(body)) {
        std::string frame;
        append_parameter_status(frame, r->name, r->value);
        const auto b = reframed(frame, body);
        const auto x = again(parse_parameter_status(b));
        if (x.name != r->name || x.value != r->value) __builtin_trap();
      }
      break;
    case 10:
      if (auto r = parse_ready_for_query(body)) {
        std::string frame;
        append_ready_for_query(frame, r->transaction_status);
        const auto b = reframed(frame, body);
        if (again(parse_ready_for_query(b)).transaction_status != r->transaction_status)
          __builtin_trap();
      }
      if (auto r = parse_row_description(body)) {
        const auto b = reframed(encode('T',
                                       [&](auto& w) {
                                         w.int16(static_cast<int16_t>(r->size()));
                                         for (const auto& f : *r)
                                           w.cstring(f.name)
                                               .int32(static_cast<int32_t>(f.table_oid))
                                               .int16(f.column)
                                               .int32(static_cast<int32_t>(f.type_oid))
                                               .int16(f.type_size)
                                               .int32(f.type_modifier)
                                               .int16(f.format);
                                       }),
                                body);
        const auto x = again(parse_row_description(b));
        if (x.size() != r->size()) __builtin_trap();
        for (std::size_t i = 0; i < x.size(); ++i)
          if (x[i].name != (*r)[i].name || x[i].table_oid != (*r)[i].table_oid ||
              x[i].column != (*r)[i].column || x[i].type_oid != (*r)[i].type_oid ||
              x[i].type_size != (*r)[i].type_size || x[i].type_modifier != (*r)[i].type_modifier ||
              x[i].format != (*r)[i].format)
            __builtin_trap();
      }
      break;
    default:
      if (auto r = parse_error_fields(body)) {
        const auto b = reframed(encode('E',
                                       [&](auto& w) {
                                         for (const auto& [code, value] : r->fields)
                                           w.byte(code).cstring(value);
                                         w.byte('\0');
                                       }),
                                body);
        if (again(parse_error_fields(b)).fields != r->fields) __builtin_trap();
      }
      break;
  }
}

void run_parser(int which, std::string_view body, StatementTracker& tracker) {
  switch (which) {
    case 0: {
      auto r = parse_query(body);
      check_error(r);
      if (r) check_inside(body, r->sql);
      break;
    }
    case 1: {
      auto r = parse_parse(body);
      check_error(r);
      if (r) {
        check_inside(body, r->statement);
        check_inside(body, r->query);
        tracker.on_parse(*r);
      }
      break;
    }
    case 2: {
      auto r = parse_bind(body);
      check_error(r);
      if (r) {
        check_inside(body, r->portal);
        check_inside(body, r->statement);
        for (const auto& p : r->parameters)
          if (p) check_inside(body, *p);
        // The tracker indexes format codes by parameter: parse_bind must have checked them.
        if (r->parameter_formats.size() > 1 && r->parameter_formats.size() != r->parameters.size())
          __builtin_trap();
        tracker.on_bind(*r);
        if (const auto* portal = tracker.portal(r->portal))
          if (portal->params.size() != r->parameters.size()) __builtin_trap();
      }
      break;
    }
    case 3: {
      auto r = parse_execute(body);
      check_error(r);
      if (r) {
        check_inside(body, r->portal);
        if (const auto* portal = tracker.portal(r->portal))
          if (portal->text == nullptr) __builtin_trap();
      }
      break;
    }
    case 4: {
      auto r = parse_describe_or_close(body);
      check_error(r);
      if (r) {
        check_inside(body, r->name);
        tracker.on_close(*r);
      }
      break;
    }
    case 5: {
      auto r = parse_function_call(body);
      check_error(r);
      if (r) {
        for (const auto& a : r->arguments)
          if (a) check_inside(body, *a);
        // The session indexes format codes by argument, as for Bind.
        if (r->argument_formats.size() > 1 && r->argument_formats.size() != r->arguments.size())
          __builtin_trap();
      }
      break;
    }
    case 6: {
      auto r = parse_password(body);
      check_error(r);
      if (r) check_inside(body, *r);
      break;
    }
    case 7: {
      auto r = parse_authentication(body);
      check_error(r);
      if (r) check_inside(body, r->data);
      break;
    }
    case 8: {
      auto r = parse_backend_key_data(body);
      check_error(r);
      break;
    }
    case 9: {
      auto r = parse_parameter_status(body);
      check_error(r);
      if (r) {
        check_inside(body, r->name);
        check_inside(body, r->value);
      }
      break;
    }
    case 10: {
      auto r = parse_ready_for_query(body);
      check_error(r);
      auto fields = parse_row_description(body);
      check_error(fields);
      if (fields)
        for (const auto& field : *fields) check_inside(body, field.name);
      break;
    }
    default: {
      auto r = parse_error_fields(body);
      check_error(r);
      if (r)
        for (const auto& [code, value] : r->fields) check_inside(body, value);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  StatementTracker tracker;
  // The first byte picks one parser to run on the rest as a body, so that each parser is
  // reached directly and not only through a well-framed stream.
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  run_parser(data[0] % kParserCount, input, tracker);
  round_trip(data[0] % kParserCount, input);

  std::string_view stream(input);
  for (;;) {
    Message message;
    std::size_t consumed = 0;
    std::string error;
    const auto status = decode_message(stream, kMaxBody, message, consumed, error);
    if (status == DecodeStatus::invalid && error.empty()) __builtin_trap();
    if (status != DecodeStatus::ready) break;
    if (consumed != kHeaderSize + message.body.size() || consumed > stream.size()) __builtin_trap();
    // A copy of exactly the body, so that ASan catches a read one byte past it.
    const std::string body(message.body);
    for (int which = 0; which < kParserCount; ++which) {
      run_parser(which, body, tracker);
      round_trip(which, body);
    }
    stream.remove_prefix(consumed);
  }
  return 0;
}
