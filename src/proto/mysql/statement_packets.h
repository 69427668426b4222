// The prepared-statement packets: COM_STMT_PREPARE's answer, COM_STMT_EXECUTE with its bound
// values (read as text for the journal and for approvals), COM_STMT_SEND_LONG_DATA and the
// statement id every COM_STMT_* packet starts with. Pure.
// Reference: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proto/mysql/response.h"

namespace portcullis::proto::mysql {

struct PrepareOk {
  uint32_t statement_id = 0;
  uint16_t columns = 0;
  uint16_t params = 0;
  uint16_t warnings = 0;
};
Result<PrepareOk> decode_prepare_ok(std::string_view payload);

// A parameter's type as COM_STMT_EXECUTE sends it: the field type and the unsigned flag.
struct ParamType {
  FieldType type = FieldType::var_string;
  bool is_unsigned = false;
};

// Execution flags (the cursor type).
inline constexpr uint8_t kCursorTypeNoCursor = 0x00;
inline constexpr uint8_t kCursorTypeReadOnly = 0x01;

struct ExecuteRequest {
  uint32_t statement_id = 0;
  uint8_t flags = 0;
  // The types the values were read with: sent with this request, or those of the previous one
  // (a client sends them only when they change).
  std::vector<ParamType> types;
  // Each parameter as text (nullopt: NULL); a parameter whose value came by
  // COM_STMT_SEND_LONG_DATA is not in the request and is left empty here.
  std::vector<std::optional<std::string>> values;
};

// The statement id of any COM_STMT_* packet (after the command byte).
Result<uint32_t> statement_id_of(std::string_view payload);

// Reads COM_STMT_EXECUTE (the whole payload, command byte included) for a statement of
// `param_count` parameters; `previous_types` are those of its last execution, and
// `long_data_params` those that received COM_STMT_SEND_LONG_DATA since then.
Result<ExecuteRequest> decode_execute(std::string_view payload, std::size_t param_count,
                                      const std::vector<ParamType>& previous_types,
                                      const std::set<uint16_t>& long_data_params);

struct LongData {
  uint32_t statement_id = 0;
  uint16_t param = 0;
  std::string_view data;
};
Result<LongData> decode_long_data(std::string_view payload);

// A binary-protocol value of `type` as text: integers and floats in decimal, dates and times
// as MySQL prints them, strings as they are.
std::string binary_param_as_text(std::string_view bytes, ParamType type);

}  // namespace portcullis::proto::mysql
