// Secrets in recorded MySQL statement text: passwords (IDENTIFIED BY 'x', SET PASSWORD = 'x',
// MASTER_PASSWORD = 'x', CREATE SERVER ... OPTIONS (PASSWORD 'x')), the arguments of
// PASSWORD('x') and the keys of AES_ENCRYPT(data, 'key') and its kind become '***' in the text
// the journal keeps. Pure functions over the lexer's tokens.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "sql/mysql/lexer.h"

namespace portcullis::sql::mysql {

// `text` (the statement's own text, which `tokens` lie in) with each secret literal replaced
// by '***'; empty when the statement holds none. `inner_secret` says that the SQL text the
// statement runs (PREPARE s FROM 'text', EXECUTE IMMEDIATE 'text') holds one: then that text
// is replaced whole. A secret that cannot be located withholds the whole text.
std::string redact_secrets(std::span<const Token> tokens, std::string_view text, bool inner_secret,
                           std::string_view kind);

// What is recorded instead of a statement whose secrets cannot be cut out one by one:
// "create_procedure (text withheld: contains a secret)".
std::string withheld_text(std::string_view kind);

}  // namespace portcullis::sql::mysql
