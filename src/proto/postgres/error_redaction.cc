// Redaction of quoted values in error and notice fields.
#include "proto/postgres/error_redaction.h"

namespace portcullis::proto::postgres {
namespace {

// Fields that carry no data of a row: kept as they are.
bool kept_whole(char code) {
  switch (code) {
    case 'S':  // severity, localized
    case 'V':  // severity
    case 'C':  // SQLSTATE
    case 'P':  // position in the statement
    case 'p':  // position in the internal query
    case 'F':  // source file
    case 'L':  // source line
    case 'R':  // source routine
    case 's':  // schema name
    case 't':  // table name
    case 'c':  // column name
    case 'd':  // data type name
    case 'n':  // constraint name
      return true;
    default:
      return false;
  }
}

void append_field(std::string& out, char code, std::string_view value) {
  out.push_back(code);
  out.append(value);
  out.push_back('\0');
}

}  // namespace

bool redact_error_values(std::string_view body, std::string& out) {
  out.clear();
  std::size_t at = 0;
  while (at < body.size() && body[at] != '\0') {
    const char code = body[at++];
    const auto end = body.find('\0', at);
    if (end == std::string_view::npos) {
      out.clear();
      return false;
    }
    const std::string_view value = body.substr(at, end - at);
    at = end + 1;
    if (kept_whole(code)) {
      append_field(out, code, value);
    } else if (code == 'M') {
      const auto first = value.find('"');
      const auto last = value.rfind('"');
      if (first == std::string_view::npos || first == last) {
        append_field(out, code, value);
      } else {
        std::string message(value.substr(0, first + 1));
        message += kRedactedValue;
        message += value.substr(last);
        append_field(out, code, message);
      }
    }
  }
  if (at != body.size() - 1 || body.empty()) {
    out.clear();
    return false;  // no terminator, or bytes after it
  }
  out.push_back('\0');
  return true;
}

}  // namespace portcullis::proto::postgres
