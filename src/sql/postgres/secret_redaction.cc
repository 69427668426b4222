// Secrets in recorded statement text. The tree walk below decides which literals are secrets;
// pg_query_scan, PostgreSQL's own scanner, gives every token's byte span, so a literal is cut
// out exactly whatever its quoting (E'...', '' escapes, $tag$...$tag$, U&'...' UESCAPE '!').
#include "sql/postgres/secret_redaction.h"

#include <pg_query.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <span>
#include <utility>

#include "sql/postgres/parse_tree.h"

namespace portcullis::sql::postgres {

namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Parts of option and setting names that say the value is a secret. "conninfo" names a
// connection string (primary_conninfo), which may carry a password.
constexpr std::string_view kSecretNameParts[] = {
    "password", "passphrase", "secret", "token", "key", "conninfo",
};

// Settings whose names match kSecretNameParts but whose values are not secrets.
constexpr std::string_view kNonSecretSettings[] = {
    "password_encryption",  // names a hash algorithm
};

// Statements whose OPTIONS (...) are foreign-data options: free-form names, passed on to a
// foreign-data wrapper, where credentials live (postgres_fdw's password, API keys).
constexpr std::string_view kForeignDataStatements[] = {
    "CreateUserMappingStmt",  "AlterUserMappingStmt", "CreateForeignServerStmt",
    "AlterForeignServerStmt", "CreateFdwStmt",        "AlterFdwStmt",
};

// The walk for dblink calls recurses once per JSON level; simdjson already refuses documents
// nested deeper than 1024 levels, this bounds the walk on its own terms as well.
constexpr int kMaxWalkDepth = 2048;

// A DefElem's location is its first token (PASSWORD, ENCRYPTED, the option's name); its
// string is at most this many tokens later (ENCRYPTED PASSWORD 'x').
constexpr int kMaxTokensBeforeString = 2;

// Token numbers of libpg_query's scanner (enum Token in /usr/include/pg_query/pg_query.proto).
constexpr int32_t kTokenPlus = 43;
constexpr int32_t kTokenMinus = 45;
constexpr int32_t kTokenFconst = 260;
constexpr int32_t kTokenSconst = 261;
constexpr int32_t kTokenUsconst = 262;
constexpr int32_t kTokenIconst = 266;
constexpr int32_t kTokenSqlComment = 275;
constexpr int32_t kTokenCComment = 276;
constexpr int32_t kTokenConnection = 346;
constexpr int32_t kTokenUescape = 685;

bool contains_any(std::string_view haystack, std::span<const std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view n) {
    return haystack.find(n) != std::string_view::npos;
  });
}

bool names_a_secret(std::string_view name) {
  return contains_any(lower(name), kSecretNameParts);
}

bool is_secret_setting(std::string_view name) {
  std::string n = lower(name);
  return contains_any(n, kSecretNameParts) &&
         std::find(std::begin(kNonSecretSettings), std::end(kNonSecretSettings), n) ==
             std::end(kNonSecretSettings);
}

// A libpq connection string that carries a password: a password keyword ("password=x",
// "password = x"), or a URI with one in its user info (postgresql://user:x@host/db).
bool conninfo_has_password(std::string_view conninfo) {
  constexpr std::string_view kKeyword = "password";
  std::string c = lower(conninfo);
  for (std::size_t at = c.find(kKeyword); at != std::string::npos; at = c.find(kKeyword, at + 1)) {
    std::size_t next = c.find_first_not_of(" \t\r\n", at + kKeyword.size());
    if (next != std::string::npos && c[next] == '=') return true;
  }
  std::size_t scheme = c.find("://");
  if (scheme == std::string::npos) return false;
  std::string_view rest = std::string_view(c).substr(scheme + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::size_t at = authority.rfind('@');
  return at != std::string_view::npos && authority.substr(0, at).find(':') != std::string::npos;
}

// --- where the tree says the secrets are ----------------------------------------------

// CREATE/ALTER ROLE|USER|GROUP ... [ENCRYPTED] PASSWORD 'x' (PASSWORD NULL has no arg).
void find_role_password(const object& node, std::vector<SecretLiteral>& out) {
  for (const object& def : def_elems(node, "options")) {
    if (str_field(def, "defname") == "password" && has_field(def, "arg")) {
      out.push_back({SecretAnchor::string_after, int_field(def, "location")});
    }
  }
}

// OPTIONS (password 'x', SET api_key 'y'): DROP token has no arg.
void find_secret_options(const object& node, std::vector<SecretLiteral>& out) {
  for (const object& def : def_elems(node, "options")) {
    if (names_a_secret(str_field(def, "defname")) && has_field(def, "arg")) {
      out.push_back({SecretAnchor::string_after, int_field(def, "location")});
    }
  }
}

// SET name = value, ...: every value, whatever it is written as (a string, a number, a
// word), since SET my.password = hunter2 is a secret too.
void find_secret_setting(const object& set, std::vector<SecretLiteral>& out) {
  if (!is_secret_setting(str_field(set, "name"))) return;
  element args_el;
  array args;
  if (!get_field(set, "args", args_el) || args_el.get_array().get(args) != SUCCESS) return;
  for (element arg : args) {
    std::string_view type;
    object value;
    if (unwrap(arg, type, value)) {
      // A value that is not a plain constant cannot be located: withhold the statement.
      int64_t location = type == "A_Const" ? int_field(value, "location") : -1;
      out.push_back({SecretAnchor::literal_at, location});
    }
  }
}

// ALTER SYSTEM / ALTER ROLE / ALTER DATABASE ... SET: a VariableSetStmt under `setstmt`.
void find_nested_setting(const object& node, std::string_view key,
                         std::vector<SecretLiteral>& out) {
  element set_el;
  object set;
  if (get_field(node, key, set_el) && set_el.get_object().get(set) == SUCCESS) {
    find_secret_setting(set, out);
  }
}

// CREATE FUNCTION ... SET name = value, ALTER FUNCTION ... SET name = value.
void find_function_settings(const object& node, std::string_view key,
                            std::vector<SecretLiteral>& out) {
  for (const object& def : def_elems(node, key)) {
    if (str_field(def, "defname") != "set") continue;
    element arg;
    std::string_view type;
    object set;
    if (get_field(def, "arg", arg) && unwrap(arg, type, set) && type == "VariableSetStmt") {
      find_secret_setting(set, out);
    }
  }
}

bool is_dblink_name(std::string_view name) {
  std::string n = lower(name);
  std::size_t dot = n.rfind('.');
  return std::string_view(n).substr(dot == std::string::npos ? 0 : dot + 1).starts_with("dblink");
}

// Calls of dblink functions: a string argument holding a connection string with a password
// is a secret. The rest of that argument's strings go with it, so that 'password=' || 'x'
// does not leave the password behind.
class DblinkWalker {
 public:
  explicit DblinkWalker(std::vector<SecretLiteral>& out) : out_(out) {}

  void walk(element e, int depth) {
    if (depth > kMaxWalkDepth) {
      out_.push_back({SecretAnchor::literal_at, -1});  // not walked: withhold
      return;
    }
    if (e.type() == element_type::ARRAY) {
      array items;
      if (e.get_array().get(items) != SUCCESS) return;
      for (element item : items) walk(item, depth + 1);
      return;
    }
    object o;
    if (e.type() != element_type::OBJECT || e.get_object().get(o) != SUCCESS) return;
    std::string_view type;
    object node;
    if (unwrap(e, type, node) && type == "FuncCall" && calls_dblink(node)) {
      check_arguments(node, depth);
    }
    walk_fields(o, depth);
  }

  void walk_fields(const object& o, int depth) {
    for (auto f : o) {
      // CALL's FuncCall is printed without its {"FuncCall": ...} wrapper.
      object call;
      if (f.key == "funccall" && f.value.get_object().get(call) == SUCCESS && calls_dblink(call))
        check_arguments(call, depth);
      walk(f.value, depth + 1);
    }
  }

 private:
  static bool calls_dblink(const object& call) {
    element names_el;
    array names;
    if (!get_field(call, "funcname", names_el) || names_el.get_array().get(names) != SUCCESS)
      return false;
    std::string_view last;
    for (element item : names) {
      std::string_view type;
      object str;
      if (unwrap(item, type, str) && type == "String") last = str_field(str, "sval");
    }
    return is_dblink_name(last);
  }

  void check_arguments(const object& call, int depth) {
    element args_el;
    array args;
    if (!get_field(call, "args", args_el) || args_el.get_array().get(args) != SUCCESS) return;
    for (element arg : args) {
      std::vector<std::pair<int64_t, std::string_view>> strings;
      collect_strings(arg, depth + 1, strings);
      const bool secret = std::any_of(strings.begin(), strings.end(), [](const auto& s) {
        return conninfo_has_password(s.second);
      });
      if (!secret) continue;
      for (const auto& s : strings) out_.push_back({SecretAnchor::literal_at, s.first});
    }
  }

  // Every string constant in an argument expression, with its location.
  void collect_strings(element e, int depth,
                       std::vector<std::pair<int64_t, std::string_view>>& strings) {
    if (depth > kMaxWalkDepth) {
      strings.emplace_back(-1, "password");  // not walked: withhold
      return;
    }
    if (e.type() == element_type::ARRAY) {
      array items;
      if (e.get_array().get(items) != SUCCESS) return;
      for (element item : items) collect_strings(item, depth + 1, strings);
      return;
    }
    object o;
    if (e.type() != element_type::OBJECT || e.get_object().get(o) != SUCCESS) return;
    std::string_view type;
    object node;
    element sval_el;
    object sval;
    if (unwrap(e, type, node) && type == "A_Const" && get_field(node, "sval", sval_el) &&
        sval_el.get_object().get(sval) == SUCCESS) {
      strings.emplace_back(int_field(node, "location"), str_field(sval, "sval"));
      return;
    }
    for (auto f : o) collect_strings(f.value, depth + 1, strings);
  }

  std::vector<SecretLiteral>& out_;
};

// --- where the scanner says the literals are ------------------------------------------

struct Token {
  int32_t start = 0;
  int32_t end = 0;  // exclusive
  int32_t kind = 0;
};

// Reads one base-128 varint of the protobuf wire format.
bool read_varint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Skips a field of the given wire type; false on a type this message cannot hold.
bool skip_field(std::string_view& in, uint64_t wire_type) {
  uint64_t n = 0;
  switch (wire_type) {
    case 0:
      return read_varint(in, n);
    case 1:
      n = 8;
      break;
    case 2:
      if (!read_varint(in, n)) return false;
      break;
    case 5:
      n = 4;
      break;
    default:
      return false;
  }
  if (n > in.size()) return false;
  in.remove_prefix(n);
  return true;
}

// message ScanToken { int32 start = 1; int32 end = 2; Token token = 4; ... }
std::optional<Token> decode_token(std::string_view in) {
  Token t;
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!read_varint(in, tag)) return std::nullopt;
    const uint64_t field = tag >> 3;
    if ((tag & 7) == 0 && (field == 1 || field == 2 || field == 4)) {
      uint64_t v = 0;
      if (!read_varint(in, v)) return std::nullopt;
      auto value = static_cast<int32_t>(v);
      if (field == 1) t.start = value;
      if (field == 2) t.end = value;
      if (field == 4) t.kind = value;
    } else if (!skip_field(in, tag & 7)) {
      return std::nullopt;
    }
  }
  return t;
}

// message ScanResult { int32 version = 1; repeated ScanToken tokens = 2; }. Read by hand:
// the generated protobuf-c reader needs protobuf-c's headers, which the build does not have,
// for two fields of a stable message.
std::optional<std::vector<Token>> decode_scan(std::string_view in, std::size_t text_size) {
  std::vector<Token> tokens;
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!read_varint(in, tag)) return std::nullopt;
    if (tag == ((2 << 3) | 2)) {
      uint64_t len = 0;
      if (!read_varint(in, len) || len > in.size()) return std::nullopt;
      auto token = decode_token(in.substr(0, len));
      in.remove_prefix(len);
      if (!token || token->start < 0 || token->end < token->start ||
          static_cast<std::size_t>(token->end) > text_size)
        return std::nullopt;
      tokens.push_back(*token);
    } else if (!skip_field(in, tag & 7)) {
      return std::nullopt;
    }
  }
  return tokens;
}

class ScanResult {
 public:
  explicit ScanResult(PgQueryScanResult r) : r_(r) {}
  ~ScanResult() { pg_query_free_scan_result(r_); }
  ScanResult(const ScanResult&) = delete;
  ScanResult& operator=(const ScanResult&) = delete;
  const PgQueryScanResult* operator->() const { return &r_; }

 private:
  PgQueryScanResult r_;
};

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// The tokens of `text` in order, or nothing when the scanner refuses it.
std::optional<std::vector<Token>> scan(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string copy(text);
  ScanResult result(pg_query_scan(copy.c_str()));
  if (result->error != nullptr || result->pbuf.data == nullptr) return std::nullopt;
  auto tokens = decode_scan(std::string_view(result->pbuf.data, result->pbuf.len), text.size());
  if (!tokens) return std::nullopt;
  // libpg_query 15-4.0 reports U&'...' with an empty span (start == end): it ends where the
  // next token (or the text) begins, less the white space before it.
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    Token& t = (*tokens)[i];
    if (t.kind != kTokenUsconst) continue;
    auto end =
        i + 1 < tokens->size() ? static_cast<std::size_t>((*tokens)[i + 1].start) : text.size();
    while (end > static_cast<std::size_t>(t.start) && is_space(text[end - 1])) --end;
    t.end = static_cast<int32_t>(end);
  }
  return tokens;
}

bool is_comment(const Token& t) {
  return t.kind == kTokenSqlComment || t.kind == kTokenCComment;
}

bool is_string(const Token& t) {
  return t.kind == kTokenSconst || t.kind == kTokenUsconst;
}

// Index of the first token after `i` that is not a comment; tokens.size() when none.
std::size_t next_code_token(const std::vector<Token>& tokens, std::size_t i) {
  do {
    ++i;
  } while (i < tokens.size() && is_comment(tokens[i]));
  return i;
}

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// The literal that begins with token `i`. A sign there takes its number along (SET x = -5);
// before a string it stays, as PostgreSQL puts a negated constant's location on its sign
// whatever the constant (-'password=x'). U&'...' takes its UESCAPE '...' clause along.
std::optional<Span> literal_span(const std::vector<Token>& tokens, std::size_t i) {
  const Token& t = tokens[i];
  if (is_comment(t) || t.end <= t.start) return std::nullopt;
  Span span{static_cast<std::size_t>(t.start), static_cast<std::size_t>(t.end)};
  const std::size_t j = next_code_token(tokens, i);
  if (t.kind == kTokenMinus || t.kind == kTokenPlus) {
    if (j >= tokens.size()) return std::nullopt;
    if (is_string(tokens[j])) return literal_span(tokens, j);
    if (tokens[j].kind != kTokenIconst && tokens[j].kind != kTokenFconst) return std::nullopt;
    span.end = static_cast<std::size_t>(tokens[j].end);
  } else if (t.kind == kTokenUsconst && j < tokens.size() && tokens[j].kind == kTokenUescape) {
    const std::size_t k = next_code_token(tokens, j);
    if (k >= tokens.size() || tokens[k].kind != kTokenSconst) return std::nullopt;
    span.end = static_cast<std::size_t>(tokens[k].end);
  }
  return span;
}

// Index of the token that starts at `location` of the whole query text.
std::optional<std::size_t> token_at(const std::vector<Token>& tokens, int64_t location,
                                    std::size_t text_offset) {
  if (location < static_cast<int64_t>(text_offset)) return std::nullopt;
  const int64_t relative = location - static_cast<int64_t>(text_offset);
  auto it = std::lower_bound(tokens.begin(), tokens.end(), relative,
                             [](const Token& t, int64_t at) { return t.start < at; });
  if (it == tokens.end() || it->start != relative) return std::nullopt;
  return static_cast<std::size_t>(it - tokens.begin());
}

std::optional<Span> locate(const std::vector<Token>& tokens, const SecretLiteral& secret,
                           std::size_t text_offset) {
  switch (secret.anchor) {
    case SecretAnchor::literal_at: {
      auto i = token_at(tokens, secret.location, text_offset);
      if (!i) return std::nullopt;
      return literal_span(tokens, *i);
    }
    case SecretAnchor::string_after: {
      auto i = token_at(tokens, secret.location, text_offset);
      if (!i) return std::nullopt;
      std::size_t j = *i;
      for (int n = 0; n < kMaxTokensBeforeString; ++n) {
        j = next_code_token(tokens, j);
        if (j >= tokens.size()) return std::nullopt;
        if (is_string(tokens[j])) return literal_span(tokens, j);
      }
      return std::nullopt;
    }
    case SecretAnchor::string_after_connection:
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i].kind != kTokenConnection) continue;
        const std::size_t j = next_code_token(tokens, i);
        if (j < tokens.size() && is_string(tokens[j])) return literal_span(tokens, j);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<SecretLiteral> find_secret_literals(std::string_view type, const object& node,
                                                const std::vector<std::string>& functions) {
  std::vector<SecretLiteral> out;
  if (type == "CreateRoleStmt" || type == "AlterRoleStmt") {
    find_role_password(node, out);
  } else if (std::find(std::begin(kForeignDataStatements), std::end(kForeignDataStatements),
                       type) != std::end(kForeignDataStatements)) {
    find_secret_options(node, out);
  } else if (type == "CreateSubscriptionStmt" || type == "AlterSubscriptionStmt") {
    if (conninfo_has_password(str_field(node, "conninfo")))
      out.push_back({SecretAnchor::string_after_connection, -1});
  } else if (type == "VariableSetStmt") {
    find_secret_setting(node, out);
  } else if (type == "AlterSystemStmt" || type == "AlterRoleSetStmt" ||
             type == "AlterDatabaseSetStmt") {
    find_nested_setting(node, "setstmt", out);
  } else if (type == "CreateFunctionStmt") {
    find_function_settings(node, "options", out);
  } else if (type == "AlterFunctionStmt") {
    find_function_settings(node, "actions", out);
  }
  if (std::any_of(functions.begin(), functions.end(), is_dblink_name)) {
    DblinkWalker walker(out);
    walker.walk_fields(node, 0);
  }
  return out;
}

std::string redact_secret_literals(std::string_view text, std::size_t text_offset,
                                   const std::vector<SecretLiteral>& secrets,
                                   std::string_view kind) {
  if (secrets.empty()) return {};
  auto tokens = scan(text);
  if (!tokens) return withheld_text(kind);
  std::vector<Span> spans;
  spans.reserve(secrets.size());
  for (const SecretLiteral& secret : secrets) {
    auto span = locate(*tokens, secret, text_offset);
    if (!span || span->end > text.size()) return withheld_text(kind);
    spans.push_back(*span);
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (const Span& span : spans) {
    if (span.begin < copied) {  // the same literal twice, or one inside another
      copied = std::max(copied, span.end);
      continue;
    }
    out.append(text.substr(copied, span.begin - copied));
    out.append(kRedactedLiteral);
    copied = span.end;
  }
  out.append(text.substr(copied));
  return out;
}

std::string withheld_text(std::string_view kind) {
  std::string out(kind.empty() ? std::string_view("statement") : kind);
  out += " (text withheld: contains a secret)";
  return out;
}

}  // namespace portcullis::sql::postgres
