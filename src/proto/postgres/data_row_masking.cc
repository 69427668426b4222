// Rewriting DataRow, CopyData and error bodies with masked values. A body is copied only from
// its first changed value on; a body with no change is reported unchanged and never copied.
#include "proto/postgres/data_row_masking.h"

#include <fmt/format.h>

#include <cstring>

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

uint32_t read_u32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

void append_u32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
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

Result<void> mask_one(std::string_view value, std::size_t index, const ColumnMasking& col,
                      const masking::Masker& masker, masking::Scratch& scratch,
                      masking::MaskCounts& counts, NewValue& nv) {
  if (col.plan.action == ColumnPlan::Action::skip) return {};
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
    case kInt8:
    case kInt2:
    case kInt4:
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
    case kFloat4:
    case kFloat8:
    case kCircle:
    case kMoney:
    case kDate:
    case kTime:
    case kTimestamp:
    case kTimestamptz:
    case kInterval:
    case kTimetz:
    case kBit:
    case kVarbit:
    case kNumeric:
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
      return true;
    default:
      return false;
  }
}

Result<MaskOutcome> mask_data_row(std::string_view body, std::span<const ColumnMasking> columns,
                                  const masking::Masker& masker, masking::Scratch& scratch,
                                  masking::MaskCounts& counts, std::string& out) {
  if (body.size() < 2) return make_error("malformed DataRow: no column count");
  const auto count =
      static_cast<uint16_t>((static_cast<uint8_t>(body[0]) << 8) | static_cast<uint8_t>(body[1]));
  if (count != columns.size()) {
    return make_error(
        fmt::format("DataRow has {} columns, RowDescription {}", count, columns.size()));
  }
  bool rewriting = false;
  std::size_t pos = 2;
  NewValue nv;
  for (std::size_t i = 0; i < count; ++i) {
    if (body.size() - pos < 4) return make_error("malformed DataRow: truncated length");
    const std::size_t field_start = pos;
    const uint32_t raw_len = read_u32(body.data() + pos);
    pos += 4;
    const bool is_null = raw_len == 0xffffffffu;
    std::string_view value;
    if (!is_null) {
      if (raw_len > body.size() - pos) return make_error("malformed DataRow: truncated value");
      value = body.substr(pos, raw_len);
      pos += raw_len;
    }
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
  if (pos != body.size()) return make_error("malformed DataRow: bytes after the last column");
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
    const bool maskable = code == 'D' || code == 'M' || code == 'H' || code == 'W';
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

}  // namespace portcullis::proto::postgres
