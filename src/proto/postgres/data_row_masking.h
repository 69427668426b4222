// Masking of the backend messages that carry values: DataRow, CopyData rows (text and CSV)
// and the fields of ErrorResponse / NoticeResponse. Pure: a message body and per-column plans
// in, "unchanged" (forward the original bytes) or a rewritten body out.
// Reference: https://www.postgresql.org/docs/15/protocol-message-formats.html
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "masking/masker.h"

namespace portcullis::proto::postgres {

// Format codes of RowDescription and Bind (0 text, 1 binary).
enum class FormatCode : int16_t { text = 0, binary = 1 };

// Whether a PostgreSQL type can hold text worth scanning. False for booleans, dates, times,
// UUIDs, OIDs and the like (src/include/catalog/pg_type.dat); true for text types, JSON, XML,
// bytea, arrays, network addresses, numbers (int2, int4, int8, numeric, float4, float8,
// money: a card cast to numeric is still a card) and every type it does not know (enums,
// domains, composites, extensions): unknown types are scanned.
bool type_can_hold_text(uint32_t type_oid);

// Whether the binary format of a type is readable by the masker: the text types and bytea
// (the bytes themselves), jsonb (a version byte, then the text), and the numbers, decoded to
// their decimal text. A binary number cannot be rewritten in place: one that holds a
// detection makes mask_data_row fail.
bool binary_format_readable(uint32_t type_oid);

// One column of a result, from its RowDescription entry and the masker's plan for it.
struct ColumnMasking {
  masking::ColumnPlan plan;
  uint32_t type_oid = 0;
  FormatCode format = FormatCode::text;
};

enum class MaskOutcome {
  unchanged,  // forward the original message as it came
  rewritten,  // send `out` as the new body
};

// Masks the values of a DataRow body (Int16 count, then Int32 length or -1 and the bytes of
// each value). An error means the row cannot be masked as its plan requires (malformed, a
// column count that disagrees with the plans, a binary value the masker cannot read, a
// binary number that holds a detection): the caller must not forward the row and refuses
// the statement.
Result<MaskOutcome> mask_data_row(std::string_view body, std::span<const ColumnMasking> columns,
                                  const masking::Masker& masker, masking::Scratch& scratch,
                                  masking::MaskCounts& counts, std::string& out);

// The options of a COPY that shape its rows.
struct CopyFormat {
  bool csv = false;
  char delimiter = '\t';     // ',' for CSV
  char quote = '"';          // CSV only
  char escape = '"';         // CSV only
  std::string null = "\\N";  // "" for CSV
};

// Masks one row of COPY TO STDOUT output (the data of one CopyData message) in text or CSV
// format. Fields beyond `plans` use masker.plan_text(). NULL from the null strategy is
// written as the format's null string.
Result<MaskOutcome> mask_copy_row(std::string_view data, const CopyFormat& format,
                                  std::span<const masking::ColumnPlan> plans,
                                  const masking::Masker& masker, masking::Scratch& scratch,
                                  masking::MaskCounts& counts, std::string& out);

// The values of one COPY row in text or CSV format (a CSV HEADER row gives the column names).
Result<std::vector<std::string>> copy_row_values(std::string_view data, const CopyFormat& format);

// Masks the fields of an ErrorResponse or NoticeResponse body that can carry data: Message,
// Detail, Hint, Where, the internal query (q) and the schema, table, column, data type and
// constraint names (s, t, c, d, n), and any field this code does not know. Severity (S, V),
// SQLSTATE (C), positions (P, p) and the source location (F, L, R) are kept. "Key
// (email)=(alice@example.com) already exists". The null strategy becomes a redaction marker
// there, as a field cannot be NULL.
Result<MaskOutcome> mask_error_fields(std::string_view body, const masking::Masker& masker,
                                      masking::Scratch& scratch, masking::MaskCounts& counts,
                                      std::string& out);

// Masks a NotificationResponse body (Int32 process ID, String channel, String payload): the
// channel and the payload go through the detectors; NULL from the null strategy becomes the
// redaction marker.
Result<MaskOutcome> mask_notification(std::string_view body, const masking::Masker& masker,
                                      masking::Scratch& scratch, masking::MaskCounts& counts,
                                      std::string& out);

// Masks a ParameterStatus body (String name, String value): the detectors over the value, or,
// with `redact_whole`, the value replaced by the redaction marker (counted as a column rule).
// The name is kept: clients and drivers key on it.
Result<MaskOutcome> mask_parameter_status(std::string_view body, const masking::Masker& masker,
                                          masking::Scratch& scratch, masking::MaskCounts& counts,
                                          bool redact_whole, std::string& out);

}  // namespace portcullis::proto::postgres
