// Rewriting DataRow, CopyData and error bodies with masked values. A body is copied only from
// its first changed value on; a body with no change is reported unchanged and never copied.
#include "proto/postgres/data_row_masking.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "proto/postgres/data_row.h"

namespace portcullis::proto::postgres {
namespace {

using masking::ColumnPlan;
using masking::MaskResult;

// Type OIDs, src/include/catalog/pg_type.dat.
constexpr uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21,
                   kInt4 = 23, kRegproc = 24, kText = 25, kOid = 26, kTid = 27, kXid = 28,
                   kCid = 29, kJson = 114, kXml = 142, kPoint = 600, kLseg = 601, kPath = 602,
                   kBox = 603, kPolygon = 604, kLine = 628, kFloat4 = 700, kFloat8 = 701,
                   kUnknown = 705, kCircle = 718, kMoney = 790, kBpchar = 1042, kVarchar = 1043,
                   kDate = 1082, kTime = 1083, kTimestamp = 1114, kTimestamptz = 1184,
                   kInterval = 1186, kTimetz = 1266, kBit = 1560, kVarbit = 1562, kNumeric = 1700,
                   kRegclass = 2205, kRegtype = 2206, kUuid = 2950, kPgLsn = 3220, kJsonb = 3802,
                   kXid8 = 5069;

// jsonb's binary send format starts with this version number (jsonb_send, utils/adt/jsonb.c).
constexpr uint8_t kJsonbVersion = 1;

constexpr std::string_view kRedacted = "[redacted]";

void append_u32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

// The fewest digits a built-in detector finds in a number: a card (ISO/IEC 7812, 13 to 19
// digits). Bare digits are no SSN or phone and a number holds no IPv4, so a shorter number is
// no candidate and costs nothing more. Custom detectors may want any number: they see all.
constexpr std::size_t kShortestNumberDetection = 13;

enum class NumberKind : uint8_t { none, integer, numeric, floating, money };

NumberKind number_kind(uint32_t oid) {
  switch (oid) {
    case kInt2:
    case kInt4:
    case kInt8:
      return NumberKind::integer;
    case kNumeric:
      return NumberKind::numeric;
    case kFloat4:
    case kFloat8:
      return NumberKind::floating;
    case kMoney:
      return NumberKind::money;
    default:
      return NumberKind::none;
  }
}

uint16_t read_u16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

uint64_t read_u64(const char* p) {
  return (static_cast<uint64_t>(read_u32(p)) << 32) | read_u32(p + 4);
}

void append_integer(int64_t v, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// numeric's binary send format (numeric_send, utils/adt/numeric.c): Int16 ndigits, Int16
// weight, UInt16 sign, Int16 dscale, then ndigits base-10000 digits, most significant first.
Result<void> numeric_text(std::string_view v, std::string& out) {
  constexpr uint16_t kNeg = 0x4000, kPos = 0x0000;
  if (v.size() < 8) return make_error("malformed numeric");
  const int ndigits = static_cast<int16_t>(read_u16(v.data()));
  const int weight = static_cast<int16_t>(read_u16(v.data() + 2));
  const uint16_t sign = read_u16(v.data() + 4);
  const int dscale = static_cast<int16_t>(read_u16(v.data() + 6));
  if (ndigits < 0 || dscale < 0 || v.size() != 8 + 2 * static_cast<std::size_t>(ndigits))
    return make_error("malformed numeric");
  if (sign != kNeg && sign != kPos) {
    out += "NaN";  // NaN and the infinities hold no digits
    return {};
  }
  auto digit = [&](int k) {
    return k >= 0 && k < ndigits ? read_u16(v.data() + 8 + 2 * k) % 10000 : 0;
  };
  if (sign == kNeg) out.push_back('-');
  if (weight < 0) {
    out.push_back('0');
  } else {
    for (int k = 0; k <= weight; ++k) {
      char buf[8];
      const int n = k == 0 ? std::snprintf(buf, sizeof buf, "%d", digit(k))
                           : std::snprintf(buf, sizeof buf, "%04d", digit(k));
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (dscale > 0) {
    out.push_back('.');
    std::string frac;
    for (int k = weight + 1; static_cast<int>(frac.size()) < dscale; ++k) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04d", digit(k));
      frac += buf;
    }
    frac.resize(static_cast<std::size_t>(dscale));
    out += frac;
  }
  return {};
}

// The integer digits a number's text stands for, when they differ from the text itself:
// "4111111111111111.00", "4.111111111111111e+15" (float8 output), "$4,111,111,111,111,111.00"
// (money). Empty when there is nothing more to scan.
std::string integer_digits(std::string_view text, NumberKind kind) {
  std::string out;
  if (kind == NumberKind::floating && text.find_first_of("eE") != std::string_view::npos) {
    double d = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
    // Integral and below 10^20: the digits a card or the like would have had.
    if (r.ec == std::errc() && std::isfinite(d) && std::fabs(d) < 1e20 && d == std::trunc(d)) {
      char buf[32];
      const int n = std::snprintf(buf, sizeof buf, "%.0f", std::fabs(d));
      out.assign(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      out.push_back(c);
    } else if (c == '.') {
      break;
    } else if (c != ',' && c != '-' && c != '$' && c != ' ') {
      return {};
    }
  }
  return out == text ? std::string() : out;
}

bool is_json(uint32_t oid) {
  return oid == kJson || oid == kJsonb;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A value's new form. `null` or `text` (the replacement bytes as they go on the wire).
struct NewValue {
  bool changed = false;
  bool null = false;
  std::string bytes;
};

// A whole-value replacement must still parse as the column's type where we can keep it so:
// a JSON column gets a JSON string.
void replacement_for_type(uint32_t oid, std::string&& masked, std::string& out) {
  if (is_json(oid)) {
    out.assign(1, '"').append(masked).append(1, '"');
  } else {
    out = std::move(masked);
  }
}

// Masks the text of a value (already stripped of any binary framing).
void mask_text(std::string_view text, const ColumnMasking& col, const masking::Masker& masker,
               masking::Scratch& scratch, masking::MaskCounts& counts, NewValue& nv) {
  MaskResult r;
  if (!masker.mask_value(text, col.plan, r, scratch, counts)) return;
  nv.changed = true;
  if (r.kind == MaskResult::Kind::null) {
    nv.null = true;
    return;
  }
  if (col.plan.action == ColumnPlan::Action::whole) {
    replacement_for_type(col.type_oid, std::move(r.bytes), nv.bytes);
  } else {
    nv.bytes = std::move(r.bytes);
  }
}

// A number's text through the detectors: the text itself, then the integer digits it stands
// for. A detection in the digits masks the whole value.
void mask_number_text(std::string_view text, NumberKind kind, const ColumnMasking& col,
                      const masking::Masker& masker, masking::Scratch& scratch,
                      masking::MaskCounts& counts, NewValue& nv) {
  if (text.size() < kShortestNumberDetection && !masker.has_custom_detectors()) return;
  mask_text(text, col, masker, scratch, counts, nv);
  if (nv.changed) return;
  const std::string digits = integer_digits(text, kind);
  if (digits.size() < kShortestNumberDetection && !masker.has_custom_detectors()) return;
  if (digits.empty()) return;
  MaskResult r;
  if (!masker.mask_value(digits, col.plan, r, scratch, counts)) return;
  nv.changed = true;
  nv.null = r.kind == MaskResult::Kind::null;
  if (!nv.null) nv.bytes = std::move(r.bytes);
}

// A number in binary format, as its decimal text. The fast path: an int2 or int4 and an int8
// below 10^12 are too short for any built-in detector and are not even formatted.
Result<void> mask_binary_number(std::string_view value, std::size_t index, NumberKind kind,
                                const ColumnMasking& col, const masking::Masker& masker,
                                masking::Scratch& scratch, masking::MaskCounts& counts) {
  const bool custom = masker.has_custom_detectors();
  std::string text;
  switch (kind) {
    case NumberKind::integer:
    case NumberKind::money: {
      int64_t v = 0;
      if (value.size() == 2) {
        v = static_cast<int16_t>(read_u16(value.data()));
      } else if (value.size() == 4) {
        v = static_cast<int32_t>(read_u32(value.data()));
      } else if (value.size() == 8) {
        v = static_cast<int64_t>(read_u64(value.data()));
      } else {
        return make_error(fmt::format("column {}: malformed binary integer", index + 1));
      }
      constexpr int64_t kShortest = 1'000'000'000'000;  // 10^12: 13 digits and up
      if (!custom && v > -kShortest && v < kShortest) return {};
      append_integer(v, text);
      break;
    }
    case NumberKind::numeric:
      if (value.size() >= 8 && !custom) {
        const int weight = static_cast<int16_t>(read_u16(value.data() + 2));
        const int dscale = static_cast<int16_t>(read_u16(value.data() + 6));
        if (std::max(weight + 1, 0) * 4 + std::max(dscale, 0) <
            static_cast<int>(kShortestNumberDetection))
          return {};
      }
      if (auto r = numeric_text(value, text); !r)
        return make_error(fmt::format("column {}: {}", index + 1, r.error().message));
      break;
    case NumberKind::floating: {
      double d = 0;
      if (value.size() == 4) {
        const uint32_t bits = read_u32(value.data());
        float f;
        std::memcpy(&f, &bits, 4);
        d = f;
      } else if (value.size() == 8) {
        const uint64_t bits = read_u64(value.data());
        std::memcpy(&d, &bits, 8);
      } else {
        return make_error(fmt::format("column {}: malformed binary float", index + 1));
      }
      if (!custom && std::fabs(d) < 1e12) return {};
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof buf, d);
      text.assign(buf, r.ptr);
      break;
    }
    case NumberKind::none:
      return {};
  }
  NewValue nv;
  mask_number_text(text, kind, col, masker, scratch, counts, nv);
  if (nv.changed) {
    return make_error(fmt::format(
        "column {}: a binary-format numeric value holds data the profile masks; request text "
        "format",
        index + 1));
  }
  return {};
}

Result<void> mask_one(std::string_view value, std::size_t index, const ColumnMasking& col,
                      const masking::Masker& masker, masking::Scratch& scratch,
                      masking::MaskCounts& counts, NewValue& nv) {
  if (col.plan.action == ColumnPlan::Action::skip) return {};
  const NumberKind number = number_kind(col.type_oid);
  if (number != NumberKind::none && col.plan.action == ColumnPlan::Action::scan) {
    if (col.format == FormatCode::binary)
      return mask_binary_number(value, index, number, col, masker, scratch, counts);
    mask_number_text(value, number, col, masker, scratch, counts, nv);
    return {};
  }
  if (col.format == FormatCode::binary) {
    if (col.plan.action == ColumnPlan::Action::whole &&
        col.plan.strategy == masking::Strategy::null) {
      MaskResult r;
      masker.mask_value(value, col.plan, r, scratch, counts);
      nv.changed = nv.null = true;
      return {};
    }
    if (!binary_format_readable(col.type_oid)) {
      return make_error(
          fmt::format("column {} (type OID {}) is in binary format, which the masker cannot read; "
                      "request text format",
                      index + 1, col.type_oid));
    }
    if (col.type_oid == kJsonb) {
      if (value.empty() || static_cast<uint8_t>(value[0]) != kJsonbVersion) {
        return make_error(fmt::format("column {}: unknown jsonb binary version", index + 1));
      }
      mask_text(value.substr(1), col, masker, scratch, counts, nv);
      if (nv.changed && !nv.null)
        nv.bytes.insert(nv.bytes.begin(), static_cast<char>(kJsonbVersion));
      return {};
    }
    mask_text(value, col, masker, scratch, counts, nv);
    return {};
  }
  // Text format. bytea in hex output ("\x4142"): scan the bytes, not their hex.
  if (col.type_oid == kBytea && value.starts_with("\\x") &&
      col.plan.action == ColumnPlan::Action::scan) {
    std::string raw;
    raw.reserve((value.size() - 2) / 2);
    for (std::size_t k = 2; k + 1 < value.size(); k += 2) {
      const int hi = hex_value(value[k]);
      const int lo = hex_value(value[k + 1]);
      if (hi < 0 || lo < 0) return make_error(fmt::format("column {}: malformed bytea", index + 1));
      raw.push_back(static_cast<char>(hi * 16 + lo));
    }
    mask_text(raw, col, masker, scratch, counts, nv);
    if (nv.changed && !nv.null) {
      constexpr char kHex[] = "0123456789abcdef";
      std::string hex = "\\x";
      for (unsigned char c : nv.bytes) {
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 0xf]);
      }
      nv.bytes = std::move(hex);
    }
    return {};
  }
  mask_text(value, col, masker, scratch, counts, nv);
  return {};
}

}  // namespace

bool type_can_hold_text(uint32_t type_oid) {
  switch (type_oid) {
    case kBool:
    case kRegproc:
    case kOid:
    case kTid:
    case kXid:
    case kCid:
    case kPoint:
    case kLseg:
    case kPath:
    case kBox:
    case kPolygon:
    case kLine:
    case kCircle:
    case kDate:
    case kTime:
    case kTimestamp:
    case kTimestamptz:
    case kInterval:
    case kTimetz:
    case kBit:
    case kVarbit:
    case kRegclass:
    case kRegtype:
    case kUuid:
    case kPgLsn:
    case kXid8:
      return false;
    default:
      return true;
  }
}

bool binary_format_readable(uint32_t type_oid) {
  switch (type_oid) {
    case kText:
    case kVarchar:
    case kBpchar:
    case kName:
    case kChar:
    case kJson:
    case kXml:
    case kUnknown:
    case kBytea:
    case kJsonb:
    case kInt2:
    case kInt4:
    case kInt8:
    case kNumeric:
    case kFloat4:
    case kFloat8:
    case kMoney:
      return true;
    default:
      return false;
  }
}

Result<MaskOutcome> mask_data_row(std::string_view body, std::span<const ColumnMasking> columns,
                                  const masking::Masker& masker, masking::Scratch& scratch,
                                  masking::MaskCounts& counts, std::string& out) {
  auto reader = DataRowReader::open(body);
  if (!reader) return reader.error();
  const uint16_t count = reader->count();
  if (count != columns.size()) {
    return make_error(
        fmt::format("DataRow has {} columns, RowDescription {}", count, columns.size()));
  }
  bool rewriting = false;
  NewValue nv;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t field_start = reader->position();
    auto read = reader->next();
    if (!read) return read.error();
    const bool is_null = !read->has_value();
    const std::string_view value = is_null ? std::string_view() : **read;
    const std::size_t pos = reader->position();
    nv.changed = nv.null = false;
    if (!is_null) {
      if (auto r = mask_one(value, i, columns[i], masker, scratch, counts, nv); !r)
        return r.error();
    }
    if (nv.changed && !rewriting) {
      rewriting = true;
      out.clear();
      out.reserve(body.size() + 64);
      out.append(body.substr(0, field_start));
    }
    if (!rewriting) continue;
    if (!nv.changed) {
      out.append(body.substr(field_start, pos - field_start));
    } else if (nv.null) {
      append_u32(out, 0xffffffffu);
    } else {
      append_u32(out, static_cast<uint32_t>(nv.bytes.size()));
      out.append(nv.bytes);
    }
  }
  if (reader->position() != body.size())
    return make_error("malformed DataRow: bytes after the last column");
  return rewriting ? MaskOutcome::rewritten : MaskOutcome::unchanged;
}

namespace {

// COPY text format (copy.c, CopyAttributeOutText / CopyReadAttributesText).
std::string unescape_copy_text(std::string_view field, char delimiter) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t k = 0; k < field.size(); ++k) {
    char c = field[k];
    if (c != '\\' || k + 1 >= field.size()) {
      out.push_back(c);
      continue;
    }
    c = field[++k];
    switch (c) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x': {
        int v = 0, digits = 0;
        while (digits < 2 && k + 1 < field.size() && hex_value(field[k + 1]) >= 0) {
          v = v * 16 + hex_value(field[++k]);
          ++digits;
        }
        if (digits == 0)
          out.push_back('x');
        else
          out.push_back(static_cast<char>(v));
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0', digits = 1;
          while (digits < 3 && k + 1 < field.size() && field[k + 1] >= '0' && field[k + 1] <= '7') {
            v = v * 8 + (field[++k] - '0');
            ++digits;
          }
          out.push_back(static_cast<char>(v & 0xff));
        } else {
          (void)delimiter;
          out.push_back(c);
        }
    }
  }
  return out;
}

void escape_copy_text(std::string_view value, char delimiter, std::string& out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c == delimiter) out.push_back('\\');
        out.push_back(c);
    }
  }
}

struct CopyField {
  std::string_view raw;  // as on the wire
  std::string value;     // decoded
  bool null = false;
};

// Splits one COPY row (without its line end) into fields, as PostgreSQL's COPY writes them.
Result<std::vector<CopyField>> split_copy_fields(std::string_view row, const CopyFormat& format) {
  std::vector<CopyField> fields;
  std::size_t k = 0;
  while (true) {
    const std::size_t start = k;
    CopyField f;
    if (!format.csv) {
      while (k < row.size() && row[k] != format.delimiter) k += (row[k] == '\\') ? 2 : 1;
      if (k > row.size()) k = row.size();
      f.raw = row.substr(start, k - start);
      f.null = f.raw == format.null;
      if (!f.null) f.value = unescape_copy_text(f.raw, format.delimiter);
    } else if (k < row.size() && row[k] == format.quote) {
      ++k;
      bool closed = false;
      while (k < row.size()) {
        const char c = row[k];
        if (c == format.escape && k + 1 < row.size() && row[k + 1] == format.quote) {
          f.value.push_back(format.quote);
          k += 2;
        } else if (c == format.quote) {
          ++k;
          closed = true;
          break;
        } else {
          f.value.push_back(c);
          ++k;
        }
      }
      if (!closed) return make_error("malformed COPY CSV row: unterminated quoted field");
      while (k < row.size() && row[k] != format.delimiter) f.value.push_back(row[k++]);
      f.raw = row.substr(start, k - start);
    } else {
      while (k < row.size() && row[k] != format.delimiter) ++k;
      f.raw = row.substr(start, k - start);
      f.null = f.raw == format.null;
      f.value.assign(f.raw);
    }
    fields.push_back(std::move(f));
    if (k >= row.size()) break;
    ++k;  // the delimiter
  }

  return fields;
}

// The row without its line end, and the line end.
std::pair<std::string_view, std::string_view> strip_line_end(std::string_view data) {
  std::string_view row = data;
  std::string_view eol;
  if (row.ends_with("\r\n")) {
    eol = row.substr(row.size() - 2);
  } else if (row.ends_with('\n')) {
    eol = row.substr(row.size() - 1);
  }
  row.remove_suffix(eol.size());
  return {row, eol};
}

}  // namespace

Result<std::vector<std::string>> copy_row_values(std::string_view data, const CopyFormat& format) {
  auto fields = split_copy_fields(strip_line_end(data).first, format);
  if (!fields) return fields.error();
  std::vector<std::string> values;
  values.reserve(fields->size());
  for (auto& field : *fields) values.push_back(std::move(field.value));
  return values;
}

Result<MaskOutcome> mask_copy_row(std::string_view data, const CopyFormat& format,
                                  std::span<const masking::ColumnPlan> plans,
                                  const masking::Masker& masker, masking::Scratch& scratch,
                                  masking::MaskCounts& counts, std::string& out) {
  const auto [row, eol] = strip_line_end(data);
  auto split = split_copy_fields(row, format);
  if (!split) return split.error();
  const std::vector<CopyField>& fields = *split;

  bool changed = false;
  std::string rebuilt;
  rebuilt.reserve(data.size() + 32);
  const ColumnPlan text_plan = masker.plan_text();
  MaskResult r;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) rebuilt.push_back(format.delimiter);
    const CopyField& f = fields[i];
    const ColumnPlan& plan = i < plans.size() ? plans[i] : text_plan;
    if (f.null || !masker.mask_value(f.value, plan, r, scratch, counts)) {
      rebuilt.append(f.raw);
      continue;
    }
    changed = true;
    if (r.kind == MaskResult::Kind::null) {
      rebuilt.append(format.null);
    } else if (!format.csv) {
      escape_copy_text(r.bytes, format.delimiter, rebuilt);
    } else {
      rebuilt.push_back(format.quote);
      for (char c : r.bytes) {
        if (c == format.quote || c == format.escape) rebuilt.push_back(format.escape);
        rebuilt.push_back(c);
      }
      rebuilt.push_back(format.quote);
    }
  }
  if (!changed) return MaskOutcome::unchanged;
  rebuilt.append(eol);
  out = std::move(rebuilt);
  return MaskOutcome::rewritten;
}

Result<MaskOutcome> mask_error_fields(std::string_view body, const masking::Masker& masker,
                                      masking::Scratch& scratch, masking::MaskCounts& counts,
                                      std::string& out) {
  const ColumnPlan plan = masker.plan_text();
  bool rewriting = false;
  std::size_t pos = 0;
  MaskResult r;
  while (true) {
    if (pos >= body.size()) return make_error("malformed error fields: no terminator");
    const char code = body[pos];
    if (code == 0) {
      if (pos + 1 != body.size()) return make_error("malformed error fields: bytes after the end");
      break;
    }
    const std::size_t nul = body.find('\0', pos + 1);
    if (nul == std::string_view::npos) return make_error("malformed error fields: unterminated");
    const std::string_view value = body.substr(pos + 1, nul - pos - 1);
    // Severity, code, position and source location carry no data; every other field can (the
    // internal query 'q', and schema, table, column, type and constraint names).
    const bool maskable = std::strchr("SVCFLRPp", code) == nullptr;
    const bool changed = maskable && masker.mask_value(value, plan, r, scratch, counts);
    if (changed && !rewriting) {
      rewriting = true;
      out.assign(body.substr(0, pos));
    }
    if (rewriting) {
      if (!changed) {
        out.append(body.substr(pos, nul + 1 - pos));
      } else {
        out.push_back(code);
        if (r.kind == MaskResult::Kind::null) {
          out.append(kRedacted);
        } else {
          out.append(r.bytes);
        }
        out.push_back('\0');
      }
    }
    pos = nul + 1;
  }
  if (!rewriting) return MaskOutcome::unchanged;
  out.push_back('\0');
  return MaskOutcome::rewritten;
}

namespace {

// A NUL-terminated String of a message body from `pos`; npos when unterminated.
std::size_t string_end(std::string_view body, std::size_t pos) {
  return pos > body.size() ? std::string_view::npos : body.find('\0', pos);
}

// Appends `value` masked as text that belongs to no column: the null strategy becomes the
// redaction marker, as these strings cannot be NULL. Returns whether it changed.
bool append_masked_string(std::string_view value, const masking::Masker& masker,
                          masking::Scratch& scratch, masking::MaskCounts& counts,
                          std::string& out) {
  MaskResult r;
  if (!masker.mask_value(value, masker.plan_text(), r, scratch, counts)) {
    out.append(value);
    out.push_back('\0');
    return false;
  }
  out.append(r.kind == MaskResult::Kind::null ? kRedacted : std::string_view(r.bytes));
  out.push_back('\0');
  return true;
}

}  // namespace

Result<MaskOutcome> mask_notification(std::string_view body, const masking::Masker& masker,
                                      masking::Scratch& scratch, masking::MaskCounts& counts,
                                      std::string& out) {
  if (body.size() < 4) return make_error("malformed NotificationResponse: no process ID");
  const std::size_t channel_end = string_end(body, 4);
  if (channel_end == std::string_view::npos)
    return make_error("malformed NotificationResponse: unterminated channel");
  const std::size_t payload_end = string_end(body, channel_end + 1);
  if (payload_end == std::string_view::npos)
    return make_error("malformed NotificationResponse: unterminated payload");
  if (payload_end + 1 != body.size())
    return make_error("malformed NotificationResponse: bytes after the payload");
  std::string rebuilt(body.substr(0, 4));
  bool changed =
      append_masked_string(body.substr(4, channel_end - 4), masker, scratch, counts, rebuilt);
  changed |= append_masked_string(body.substr(channel_end + 1, payload_end - channel_end - 1),
                                  masker, scratch, counts, rebuilt);
  if (!changed) return MaskOutcome::unchanged;
  out = std::move(rebuilt);
  return MaskOutcome::rewritten;
}

Result<MaskOutcome> mask_parameter_status(std::string_view body, const masking::Masker& masker,
                                          masking::Scratch& scratch, masking::MaskCounts& counts,
                                          bool redact_whole, std::string& out) {
  const std::size_t name_end = string_end(body, 0);
  if (name_end == std::string_view::npos)
    return make_error("malformed ParameterStatus: unterminated name");
  const std::size_t value_end = string_end(body, name_end + 1);
  if (value_end == std::string_view::npos)
    return make_error("malformed ParameterStatus: unterminated value");
  if (value_end + 1 != body.size())
    return make_error("malformed ParameterStatus: bytes after the value");
  const std::string_view value = body.substr(name_end + 1, value_end - name_end - 1);
  std::string rebuilt(body.substr(0, name_end + 1));
  if (redact_whole) {
    if (value == kRedacted) return MaskOutcome::unchanged;
    counts.add(masker.column_rule_index());
    rebuilt.append(kRedacted);
    rebuilt.push_back('\0');
  } else if (!append_masked_string(value, masker, scratch, counts, rebuilt)) {
    return MaskOutcome::unchanged;
  }
  out = std::move(rebuilt);
  return MaskOutcome::rewritten;
}

}  // namespace portcullis::proto::postgres
