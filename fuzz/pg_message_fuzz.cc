// Fuzz target: a client or server byte stream. Every framed message is read by every body
// parser, frontend and backend alike; none may crash, leak or read outside the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/postgres/decoder.h"
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
    for (int which = 0; which < kParserCount; ++which) run_parser(which, body, tracker);
    stream.remove_prefix(consumed);
  }
  return 0;
}
