// libFuzzer target for the DataRow, COPY, error-field, notification and parameter-status
// rewriters: arbitrary bodies and column formats. A rewritten DataRow must itself parse, with
// the same column count; masking it again changes nothing (masking is idempotent); and no
// rewrite grows a body beyond a bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/postgres/data_row_masking.h"

namespace {

using namespace portcullis;
using namespace portcullis::proto::postgres;

std::shared_ptr<const masking::Masker> make() {
  config::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors.assign(masking::kBuiltinDetectorNames.begin(), masking::kBuiltinDetectorNames.end());
  p.columns = {{"*.c1", "null", 1}, {"*.c2", "partial", 2}};
  return *masking::Masker::build(p, Secret());
}

// text, int4, jsonb, bytea, json, inet, varchar, bool, int8, numeric, float8, money, int2.
constexpr uint32_t kTypes[] = {25, 23, 3802, 17, 114, 869, 1043, 16, 20, 1700, 701, 790, 21};

// A masked value is at most a marker per input byte; "[aws_access_key]" is the longest.
constexpr std::size_t kGrowth = 32;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto masker = make();
  static masking::Scratch scratch;
  if (size < 2) return 0;
  const uint8_t shape = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  masking::MaskCounts counts;
  std::string out;

  const std::size_t ncols = body.size() >= 2 ? (static_cast<uint8_t>(body[1]) & 0x0f) : 0;
  std::vector<ColumnMasking> cols;
  for (std::size_t i = 0; i < ncols; ++i) {
    const uint32_t oid = kTypes[(shape + i) % std::size(kTypes)];
    const std::string name = "c" + std::to_string(i % 4);
    cols.push_back(ColumnMasking{masker->plan_column("t", name, type_can_hold_text(oid)), oid,
                                 ((shape >> (i % 8)) & 1) ? FormatCode::binary : FormatCode::text});
  }
  auto r = mask_data_row(body, cols, *masker, scratch, counts, out);
  if (r.ok() && *r == MaskOutcome::rewritten) {
    if (out.size() > kGrowth * body.size() + 64) __builtin_trap();
    std::string again;
    std::vector<ColumnMasking> skip(cols.size());
    auto check = mask_data_row(out, skip, *masker, scratch, counts, again);
    if (!check.ok() || *check != MaskOutcome::unchanged) __builtin_trap();
    // Text-format values only: a masked row masked again is unchanged. (Binary values that
    // decode differently once rewritten, and whole-value rules on markers, are left out.)
    bool all_text_scan = true;
    for (const auto& c : cols) {
      all_text_scan = all_text_scan && c.format == FormatCode::text &&
                      c.plan.action != masking::ColumnPlan::Action::whole && c.type_oid != 17;
    }
    if (all_text_scan) {
      auto twice = mask_data_row(out, cols, *masker, scratch, counts, again);
      if (!twice.ok() || *twice != MaskOutcome::unchanged) __builtin_trap();
    }
  }

  CopyFormat format;
  if (shape & 0x80) {
    format.csv = true;
    format.delimiter = ',';
    format.null = "";
  }
  (void)mask_copy_row(body, format, {}, *masker, scratch, counts, out);
  (void)copy_row_values(body, format);  // a CSV header row names the columns
  if (auto e = mask_error_fields(body, *masker, scratch, counts, out);
      e.ok() && *e == MaskOutcome::rewritten) {
    std::string again;
    auto twice = mask_error_fields(out, *masker, scratch, counts, again);
    if (!twice.ok() || *twice != MaskOutcome::unchanged) __builtin_trap();
  }
  if (auto n = mask_notification(body, *masker, scratch, counts, out);
      n.ok() && *n == MaskOutcome::rewritten && out.size() > kGrowth * body.size() + 64) {
    __builtin_trap();
  }
  (void)mask_parameter_status(body, *masker, scratch, counts, (shape & 0x40) != 0, out);
  return 0;
}
