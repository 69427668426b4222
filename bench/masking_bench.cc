// The masker on realistic values: ~30-byte values, ~5 % holding PII, eight to a row.
// Targets (issue 5): >= 1 GB/s per core on mostly clean data, < 1 us for an 8-column row.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "masking/masker.h"
#include "proto/postgres/data_row_masking.h"

namespace {

using namespace portcullis;

constexpr const char* kWords[] = {"shipped", "order",   "customer", "Berlin", "pending",  "the",
                                  "Grüße",   "invoice", "paid",     "blue",   "widget",   "and",
                                  "status",  "large",   "München",  "total",  "delivery", "note"};
constexpr const char* kPii[] = {"alice@example.com",   "4111 1111 1111 1111",    "123-45-6789",
                                "+1 415 555 2671",     "DE89370400440532013000", "10.1.2.3",
                                "AKIAIOSFODNN7EXAMPLE"};

std::vector<std::string> make_values(std::size_t n, double pii_share, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string v;
    while (v.size() < 24) {
      if (!v.empty()) v += ' ';
      v += kWords[rng() % std::size(kWords)];
    }
    if (coin(rng) < 0.3) v += " " + std::to_string(rng() % 100000);  // clean numbers too
    if (coin(rng) < pii_share) v += " " + std::string(kPii[rng() % std::size(kPii)]);
    out.push_back(std::move(v));
  }
  return out;
}

std::shared_ptr<const masking::Masker> default_profile() {
  config::MaskingProfileConfig p;
  p.name = "default";
  p.detectors = {"email", "credit_card", "us_ssn",         "phone",       "iban",     "ipv4",
                 "ipv6",  "jwt",         "aws_access_key", "private_key", "api_token"};
  p.columns = {{"*.password*", "redact", 1}, {"*.ssn", "redact", 2}};
  return *masking::Masker::build(p, Secret());
}

void run_values(benchmark::State& state, double pii_share) {
  auto masker = default_profile();
  const auto values = make_values(1 << 16, pii_share, 7);
  std::size_t bytes = 0;
  for (const auto& v : values) bytes += v.size();
  masking::Scratch scratch;
  masking::MaskCounts counts;
  masking::MaskResult r;
  const auto plan = masker->plan_text();
  for (auto _ : state) {
    for (const auto& v : values)
      benchmark::DoNotOptimize(masker->mask_value(v, plan, r, scratch, counts));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["ns_per_value"] =
      benchmark::Counter(static_cast<double>(state.iterations() * values.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_CleanValues(benchmark::State& state) {
  run_values(state, 0.0);
}
void BM_Values5PercentPii(benchmark::State& state) {
  run_values(state, 0.05);
}

// A clean 1 MiB text value: the scanner's raw speed.
void BM_LargeCleanValue(benchmark::State& state) {
  auto masker = default_profile();
  std::string big;
  const auto values = make_values(40000, 0.0, 3);
  for (const auto& v : values) {
    if (big.size() >= (1u << 20)) break;
    big += v;
    big += '\n';
  }
  masking::Scratch scratch;
  masking::MaskCounts counts;
  masking::MaskResult r;
  for (auto _ : state)
    benchmark::DoNotOptimize(masker->mask_value(big, masker->plan_text(), r, scratch, counts));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * big.size()));
}

// Whole DataRow messages of eight text columns, 5 % of values with PII.
void BM_DataRow8Columns(benchmark::State& state) {
  using namespace portcullis::proto::postgres;
  auto masker = default_profile();
  const auto values = make_values(8 * 4096, 0.05, 11);
  std::vector<std::string> rows;
  std::size_t bytes = 0;
  for (std::size_t r = 0; r < 4096; ++r) {
    std::string body("\0\x08", 2);
    for (std::size_t c = 0; c < 8; ++c) {
      const std::string& v = values[r * 8 + c];
      const auto n = static_cast<uint32_t>(v.size());
      for (int s = 24; s >= 0; s -= 8) body.push_back(static_cast<char>(n >> s));
      body += v;
    }
    bytes += body.size();
    rows.push_back(std::move(body));
  }
  std::vector<ColumnMasking> cols(
      8, ColumnMasking{masker->plan_column("t", "note", true), 25, FormatCode::text});
  masking::Scratch scratch;
  masking::MaskCounts counts;
  std::string out;
  for (auto _ : state) {
    for (const auto& row : rows)
      benchmark::DoNotOptimize(mask_data_row(row, cols, *masker, scratch, counts, out));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["ns_per_row"] =
      benchmark::Counter(static_cast<double>(state.iterations() * rows.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// A profile with a custom regex: every value also goes through Hyperscan.
void BM_Values5PercentPiiWithCustomRegex(benchmark::State& state) {
  config::MaskingProfileConfig p;
  p.name = "custom";
  p.detectors = {"email", "credit_card", "us_ssn", "phone", "iban", "ipv4"};
  p.custom = {{"employee_id", "EMP-[0-9]{6}", {}, 1}};
  auto masker = *masking::Masker::build(p, Secret());
  const auto values = make_values(1 << 16, 0.05, 7);
  std::size_t bytes = 0;
  for (const auto& v : values) bytes += v.size();
  masking::Scratch scratch;
  masking::MaskCounts counts;
  masking::MaskResult r;
  for (auto _ : state) {
    for (const auto& v : values)
      benchmark::DoNotOptimize(masker->mask_value(v, masker->plan_text(), r, scratch, counts));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

BENCHMARK(BM_CleanValues);
BENCHMARK(BM_Values5PercentPii);
BENCHMARK(BM_LargeCleanValue);
BENCHMARK(BM_DataRow8Columns);
BENCHMARK(BM_Values5PercentPiiWithCustomRegex);

}  // namespace

BENCHMARK_MAIN();
