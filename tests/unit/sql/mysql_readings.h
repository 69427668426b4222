// The ways of reading MySQL text the lexer and classifier tests use: a MySQL 8 server, and a
// MariaDB server with ANSI_QUOTES or with NO_BACKSLASH_ESCAPES.
#pragma once

#include "sql/mysql/lexer.h"

namespace portcullis::sql::mysql {

inline Reading mysql8() {
  return Reading{.no_backslash_escapes = false,
                 .ansi_quotes = false,
                 .mariadb = false,
                 .server_version = 80036};
}
inline Reading ansi() {
  return Reading{.no_backslash_escapes = false,
                 .ansi_quotes = true,
                 .mariadb = true,
                 .server_version = 101104};
}
inline Reading no_backslash() {
  return Reading{.no_backslash_escapes = true,
                 .ansi_quotes = false,
                 .mariadb = true,
                 .server_version = 101104};
}

}  // namespace portcullis::sql::mysql
