// Bash's $'...' quoting: backslash escapes decoded as ANSI C does (\n, \t, \xHH, \NNN, \uHHHH,
// \cX, ...). Shared by the parser; kept apart so its table can be read and tested alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portcullis::shell {

// Decodes the quoted text that starts at `begin` (just after `$'`) into `out`. Returns the
// index just past the closing quote, or std::string_view::npos when there is none. As bash
// does, a NUL byte (\0, \x00) ends the value: the rest of the quote is read but dropped.
std::size_t decode_ansi_c_quote(std::string_view text, std::size_t begin, std::string& out);

}  // namespace portcullis::shell
