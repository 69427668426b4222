// Which of a client's startup parameters reach the backend. The gateway chooses the backend
// user and database, owns settings that enforce policy, and unpacks `options` so that each
// setting in it is checked like a parameter of its own.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

using ParameterList = std::vector<std::pair<std::string, std::string>>;

// The parameters to send in the backend StartupMessage, `user` and `database` first. Refuses
// (with a message for the caller) replication connections, settings the gateway owns, and
// `options` that hold anything but `-c name=value` / `--name=value` settings.
Result<ParameterList> backend_startup_parameters(const StartupMessage& startup,
                                                 const std::string& backend_user,
                                                 const std::string& backend_database);

// A client encoding whose text the server reads exactly as the classifier does (UTF-8,
// SQL_ASCII, single-byte and EUC encodings), by PostgreSQL's rules for encoding names.
bool is_safe_client_encoding(std::string_view name);

// False when a setting the server reports makes it read query text differently from the
// classifier: an unsafe client_encoding, or standard_conforming_strings off.
bool text_reading_is_safe(std::string_view name, std::string_view value);

// Splits an `options` value as PostgreSQL does (pg_split_opts, src/backend/utils/init/
// postinit.c): on unescaped white space, with backslash escaping the next character.
std::vector<std::string> split_options(std::string_view options);

}  // namespace portcullis::proto::postgres
