// The journal record's field table.
#include "store/journal_record.h"

namespace portcullis::store {
namespace {

constexpr std::array<FieldInfo, kFieldCount> kFields{{
    {"seq", FieldType::integer},         {"id", FieldType::text},
    {"time", FieldType::text},           {"instance", FieldType::text},
    {"session", FieldType::text},        {"event", FieldType::text},
    {"subject", FieldType::text},        {"subject_kind", FieldType::text},
    {"groups", FieldType::json},         {"auth", FieldType::text},
    {"client_addr", FieldType::text},    {"connection", FieldType::text},
    {"protocol", FieldType::text},       {"command", FieldType::text},
    {"params", FieldType::json},         {"fingerprint", FieldType::text},
    {"kinds", FieldType::json},          {"classes", FieldType::json},
    {"verdict", FieldType::text},        {"rule", FieldType::text},
    {"reviewer", FieldType::text},       {"statement", FieldType::text},
    {"rows", FieldType::integer},        {"bytes_in", FieldType::integer},
    {"bytes_out", FieldType::integer},   {"masked", FieldType::json},
    {"duration_us", FieldType::integer}, {"error", FieldType::text},
    {"results_sha256", FieldType::text}, {"credential", FieldType::text},
}};

}  // namespace

const FieldInfo& field_info(Field field) {
  return kFields.at(static_cast<std::size_t>(field));
}

const FieldInfo* find_field(std::string_view name, Field* field) {
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    if (kFields[i].name == name) {
      if (field != nullptr) *field = static_cast<Field>(i);
      return &kFields[i];
    }
  }
  return nullptr;
}

}  // namespace portcullis::store
