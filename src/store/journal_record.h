// A journal record as the store keeps it: every field a string or absent, in one fixed order
// (the audit event's fields, INTERFACE.md). What the fields mean and how they are hashed is
// the audit module's business (audit/record.h); the store only keeps and finds them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portcullis::store {

// The fields of a record, in canonical order. Never reorder or remove one: a new field is
// appended after the original ones (seq to results_sha256), and is written to the canonical
// form and a segment's record frame only when present, so that every record written before
// it existed keeps its bytes and its hash.
enum class Field : std::size_t {
  seq,
  id,
  time,
  instance,
  session,
  event,
  subject,
  subject_kind,
  groups,
  auth,
  client_addr,
  connection,
  protocol,
  command,
  params,
  fingerprint,
  kinds,
  classes,
  verdict,
  rule,
  reviewer,
  statement,
  rows,
  bytes_in,
  bytes_out,
  masked,
  duration_us,
  error,
  results_sha256,
  // Appended fields: absent from the canonical form when absent.
  credential,  // which credential logged in (identity::Identity::credential)
  count_,      // not a field
};

inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::count_);
// The fields of the first record format: always in the canonical form and a record frame,
// "absent" spelt out. The ones after them are there only when present.
inline constexpr std::size_t kOriginalFieldCount = static_cast<std::size_t>(Field::credential);

// How a field's text is typed in JSON output and in the store.
enum class FieldType {
  text,     // a JSON string
  integer,  // decimal digits (a JSON number; INTEGER in SQL)
  json,     // JSON text kept as written (an array or an object)
};

struct FieldInfo {
  std::string_view name;
  FieldType type;
};

const FieldInfo& field_info(Field field);
// Null when `name` names no field.
const FieldInfo* find_field(std::string_view name, Field* field);

struct JournalRecord {
  std::array<std::optional<std::string>, kFieldCount> fields;
  std::string prev_hash;  // hex SHA-256 of the record before, kGenesisHash for the first
  std::string hash;       // hex SHA-256 of canonical_form()
  // Where the store placed the record among every instance's records (JournalStore::search);
  // not part of the record itself, and 0 on records not read from a store.
  int64_t cursor = 0;

  std::optional<std::string>& operator[](Field f) { return fields[static_cast<std::size_t>(f)]; }
  const std::optional<std::string>& operator[](Field f) const {
    return fields[static_cast<std::size_t>(f)];
  }
};

}  // namespace portcullis::store
