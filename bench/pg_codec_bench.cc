// The PostgreSQL codec per message: framing (decode_header / decode_message) and the body
// readers the decision point uses, on the messages of a pgbench -S round trip, and the
// encoder on the messages the gateway writes itself (an ErrorResponse, ReadyForQuery).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/message.h"

namespace pg = portcullis::proto::postgres;

namespace {

constexpr std::size_t kMaxBody = 64 << 20;

std::string int32_bytes(int32_t value) {
  const auto v = static_cast<uint32_t>(value);
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string int16_bytes(int16_t value) {
  const auto v = static_cast<uint16_t>(value);
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string framed(char type, const std::string& body) {
  return std::string(1, type) + int32_bytes(static_cast<int32_t>(body.size() + 4)) + body;
}

// What pgbench -S -M prepared sends per transaction: Bind, Execute, Sync.
std::string prepared_round_trip() {
  const std::string value = "483921";
  std::string bind = std::string("") + '\0' + "P0_1" + '\0' + int16_bytes(0) + int16_bytes(1) +
                     int32_bytes(static_cast<int32_t>(value.size())) + value + int16_bytes(0);
  std::string execute = std::string("") + '\0' + int32_bytes(0);
  return framed(pg::frontend::kBind, bind) + framed(pg::frontend::kExecute, execute) +
         framed(pg::frontend::kSync, "");
}

// What pgbench -S -M simple sends: one Query.
std::string simple_query() {
  return framed(pg::frontend::kQuery,
                std::string("SELECT abalance FROM pgbench_accounts WHERE aid = 483921;") + '\0');
}

// A RowDescription of eight text columns, as the masking path reads it.
std::string row_description() {
  std::string body = int16_bytes(8);
  for (int i = 0; i < 8; ++i) {
    body += "column_" + std::to_string(i) + '\0';
    body += int32_bytes(16384) + int16_bytes(static_cast<int16_t>(i + 1)) + int32_bytes(25) +
            int16_bytes(-1) + int32_bytes(-1) + int16_bytes(0);
  }
  return body;
}

void BM_FrameRoundTripMessages(benchmark::State& state) {
  const std::string input = prepared_round_trip();
  std::string error;
  for (auto _ : state) {
    std::size_t pos = 0;
    while (pos < input.size()) {
      pg::Message message;
      std::size_t consumed = 0;
      const auto status = pg::decode_message(std::string_view(input).substr(pos), kMaxBody, message,
                                             consumed, error);
      if (status != pg::DecodeStatus::ready) state.SkipWithError("not framed");
      benchmark::DoNotOptimize(message);
      pos += consumed;
    }
  }
  state.SetItemsProcessed(state.iterations() * 3);  // messages
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_FrameRoundTripMessages);

void BM_ParseBind(benchmark::State& state) {
  const std::string input = prepared_round_trip();
  pg::FrameHeader header;
  std::string error;
  pg::decode_header(input, kMaxBody, header, error);
  const std::string_view body = std::string_view(input).substr(pg::kHeaderSize, header.body_size);
  for (auto _ : state) {
    auto bind = pg::parse_bind(body);
    if (!bind) state.SkipWithError("bind");
    benchmark::DoNotOptimize(bind);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseBind);

void BM_ParseQuery(benchmark::State& state) {
  const std::string input = simple_query();
  const std::string_view body = std::string_view(input).substr(pg::kHeaderSize);
  for (auto _ : state) {
    auto query = pg::parse_query(body);
    if (!query) state.SkipWithError("query");
    benchmark::DoNotOptimize(query);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseQuery);

void BM_ParseRowDescription8Columns(benchmark::State& state) {
  const std::string body = row_description();
  for (auto _ : state) {
    auto fields = pg::parse_row_description(body);
    if (!fields) state.SkipWithError("row description");
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseRowDescription8Columns);

void BM_EncodeErrorResponse(benchmark::State& state) {
  std::string out;
  const pg::ErrorMessage error{pg::Severity::error, "42501",
                               "portcullis: statement refused by guardrail \"no-drops\"", "", ""};
  for (auto _ : state) {
    out.clear();
    pg::append_error_response(out, error);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeErrorResponse);

void BM_EncodeReadyForQuery(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    pg::append_ready_for_query(out, 'I');
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeReadyForQuery);

}  // namespace

BENCHMARK_MAIN();
