// The large-object functions by OID.
#include "proto/postgres/fastpath_functions.h"

#include <array>

namespace portcullis::proto::postgres {
namespace {

constexpr std::array<std::pair<uint32_t, std::string_view>, 16> kFunctions = {{
    {715, "lo_create"},
    {764, "lo_import"},
    {765, "lo_export"},
    {767, "lo_import"},
    {952, "lo_open"},
    {953, "lo_close"},
    {954, "loread"},
    {955, "lowrite"},
    {956, "lo_lseek"},
    {957, "lo_creat"},
    {958, "lo_tell"},
    {964, "lo_unlink"},
    {1004, "lo_truncate"},
    {3170, "lo_lseek64"},
    {3171, "lo_tell64"},
    {3172, "lo_truncate64"},
}};

}  // namespace

std::span<const std::pair<uint32_t, std::string_view>> fastpath_functions() {
  return kFunctions;
}

std::optional<std::string_view> fastpath_function_name(uint32_t oid) {
  for (const auto& [id, name] : kFunctions)
    if (id == oid) return name;
  return std::nullopt;
}

}  // namespace portcullis::proto::postgres
