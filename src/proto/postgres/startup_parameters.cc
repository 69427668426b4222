// Startup parameter filtering.
#include "proto/postgres/startup_parameters.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace portcullis::proto::postgres {
namespace {

// Settings through which a caller could change who it acts as or lift a read-only session.
// GUC names are case-insensitive; these are lower case.
constexpr std::array<std::string_view, 5> kGatewayOwned = {
    "default_transaction_read_only", "transaction_read_only", "role", "session_authorization",
    "session_replication_role"};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool owned(std::string_view name) {
  const auto key = lower(name);
  return std::find(kGatewayOwned.begin(), kGatewayOwned.end(), key) != kGatewayOwned.end();
}

// Client encodings whose every byte of a multi-byte character is >= 0x80, or that are
// single-byte: the server reads quotes and backslashes in them exactly as the classifier
// does (it reads UTF-8). PostgreSQL's names as clean_encoding_name() leaves them
// (src/common/encnames.c): lower case, letters and digits only. SJIS, BIG5, GBK, GB18030,
// UHC, JOHAB and their aliases are left out: their second bytes can be a quote or a
// backslash.
constexpr std::array<std::string_view, 47> kSafeClientEncodings = {
    "utf8",     "unicode",   "sqlascii",  "latin1",     "latin2",    "latin3",    "latin4",
    "latin5",   "latin6",    "latin7",    "latin8",     "latin9",    "latin10",   "iso88591",
    "iso88592", "iso88593",  "iso88594",  "iso88595",   "iso88596",  "iso88597",  "iso88598",
    "iso88599", "iso885910", "iso885913", "iso885914",  "iso885915", "iso885916", "win1250",
    "win1251",  "win1252",   "win1253",   "win1254",    "win1255",   "win1256",   "win1257",
    "win1258",  "win866",    "win874",    "koi8",       "koi8r",     "koi8u",     "eucjp",
    "euccn",    "euckr",     "euctw",     "eucjis2004", "alt"};

}  // namespace

bool is_safe_client_encoding(std::string_view name) {
  std::string clean;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      clean.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // PostgreSQL also knows windowsNNNN for winNNNN.
  if (clean.starts_with("windows")) clean = "win" + clean.substr(7);
  return std::find(kSafeClientEncodings.begin(), kSafeClientEncodings.end(), clean) !=
         kSafeClientEncodings.end();
}

bool text_reading_is_safe(std::string_view name, std::string_view value) {
  if (name == "client_encoding") return is_safe_client_encoding(value);
  if (name == "standard_conforming_strings") return value == "on";
  return true;
}

namespace {

// Settings that change how the backend reads query text must keep values the gateway's
// parser reads the same way.
Result<void> check_text_setting(std::string_view key, std::string_view value) {
  const auto v = lower(value);
  if (key == "client_encoding" && !is_safe_client_encoding(value))
    return make_error(fmt::format(
        "client encoding \"{}\" is not accepted: use UTF8 (the gateway checks query text "
        "as the server reads it)",
        value));
  if (key == "standard_conforming_strings" && v != "on" && v != "true" && v != "1")
    return make_error("standard_conforming_strings must stay on through the gateway");
  return {};
}

Result<void> add_setting(ParameterList& out, std::string_view name, std::string_view value) {
  if (name.empty()) return make_error("empty setting name in startup options");
  // PostgreSQL's command-line form allows dashes for underscores (--work-mem=...): normalise
  // first, so that an owned setting cannot slip through spelled with dashes.
  std::string key(name);
  std::replace(key.begin(), key.end(), '-', '_');
  if (owned(key))
    return make_error(fmt::format("setting \"{}\" is controlled by the gateway", name));
  if (auto checked = check_text_setting(lower(key), value); !checked) return checked.error();
  out.emplace_back(std::move(key), std::string(value));
  return {};
}

// One `name=value` from `-c name=value` or `--name=value`.
Result<void> add_assignment(ParameterList& out, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos)
    return make_error(fmt::format("startup option \"{}\" has no value", assignment));
  return add_setting(out, assignment.substr(0, eq), assignment.substr(eq + 1));
}

}  // namespace

std::vector<std::string> split_options(std::string_view options) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const char c = options[i];
    if (c == '\\' && i + 1 < options.size()) {
      word.push_back(options[++i]);
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<ParameterList> backend_startup_parameters(const StartupMessage& startup,
                                                 const std::string& backend_user,
                                                 const std::string& backend_database) {
  ParameterList out;
  out.emplace_back("user", backend_user);
  out.emplace_back("database", backend_database);
  for (const auto& [name, value] : startup.parameters) {
    if (name == "user" || name == "database") continue;  // replaced by the gateway's own
    if (name.starts_with("_pq_.")) continue;  // protocol extensions: the gateway speaks 3.0 only
    if (name == "replication")
      return make_error("replication connections are not supported through the gateway");
    if (name == "options") {
      const auto words = split_options(value);
      for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view word = words[i];
        Result<void> added;
        if (word == "-c") {
          if (i + 1 == words.size()) return make_error("startup option -c has no setting");
          added = add_assignment(out, words[++i]);
        } else if (word.starts_with("-c")) {
          added = add_assignment(out, word.substr(2));
        } else if (word.starts_with("--")) {
          added = add_assignment(out, word.substr(2));
        } else {
          return make_error(fmt::format(
              "startup option \"{}\" is not accepted; only -c name=value settings are", word));
        }
        if (!added) return added.error();
      }
      continue;
    }
    if (auto added = add_setting(out, name, value); !added) return added.error();
  }
  return out;
}

}  // namespace portcullis::proto::postgres
