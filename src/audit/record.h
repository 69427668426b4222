// The audit meaning of a journal record: its canonical form, the hash chain over it, and its
// JSON. The canonical form is documented in docs/audit.md, so that an independent tool can
// check a journal without Portcullis.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/journal_record.h"

namespace portcullis::audit {

using Record = store::JournalRecord;
using store::Field;
using store::field_info;
using store::FieldInfo;
using store::FieldType;
using store::find_field;
using store::kFieldCount;
using store::kOriginalFieldCount;

// The SHA-256 chain starts from this value (64 zeros).
extern const std::string kGenesisHash;

// "portcullis-audit-v1\n", "prev_hash:<hex>\n", then for each field in order either
// "<name>:<byte length>:<value>\n" or, when absent, "<name>:~\n" -- except the fields
// appended since (from kOriginalFieldCount on), which are left out when absent.
std::string canonical_form(const Record& record);
// The same, appended to `out`.
void append_canonical_form(const Record& record, std::string& out);
// The record's `seq` field as a number; 0 when it has none.
std::int64_t seq_of(const Record& record);
// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);
// sha256_hex(canonical_form(record)).
std::string record_hash(const Record& record);

// record_hash and sha256_hex for many records in a row (the journal's writer, verify): one
// digest context and one buffer for the canonical form, reused. Not thread-safe.
class RecordHasher {
 public:
  RecordHasher();
  ~RecordHasher();
  RecordHasher(const RecordHasher&) = delete;
  RecordHasher& operator=(const RecordHasher&) = delete;

  std::string hash(const Record& record);
  std::string sha256_hex(std::string_view bytes);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  std::string canonical_;
};

// The record as one JSON object (field names from INTERFACE.md, absent fields left out,
// integers as numbers, list and map fields as JSON), prev_hash and hash last.
std::string to_json(const Record& record);

}  // namespace portcullis::audit
