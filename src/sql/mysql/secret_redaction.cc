// Finding secret literals among a statement's tokens: the token after a word that names a
// password, the literals of a call that hashes or encrypts with one.
#include "sql/mysql/secret_redaction.h"

#include <algorithm>
#include <vector>

#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

namespace {

constexpr std::string_view kRedactedLiteral = "'***'";

bool is_literal(const Token& t) {
  return t.kind == TokenKind::string || t.kind == TokenKind::national_string ||
         t.kind == TokenKind::hex_string || t.kind == TokenKind::bit_string;
}

// Words whose value is a password: PASSWORD 'x', MASTER_PASSWORD = 'x', SOURCE_PASSWORD = 'x'.
bool names_password(const Token& t) {
  return is_word(t, "password") || is_word(t, "master_password") || is_word(t, "source_password") ||
         is_word(t, "master_ssl_key") || is_word(t, "source_ssl_key");
}

// Calls whose literals are secrets from argument `first` on: PASSWORD('x'), AES_ENCRYPT(s, 'k').
int secret_arguments_from(const Token& t) {
  for (std::string_view f : {"password", "old_password"}) {
    if (is_word(t, f)) return 0;
  }
  for (std::string_view f : {"aes_encrypt", "aes_decrypt", "des_encrypt", "des_decrypt", "encode",
                             "decode", "encrypt"}) {
    if (is_word(t, f)) return 1;
  }
  return -1;
}

// The literal at or after tokens[i] (an introducer before it skipped), or tokens.size().
std::size_t literal_at(std::span<const Token> t, std::size_t i) {
  if (i < t.size() && t[i].kind == TokenKind::introducer) ++i;
  return i < t.size() && is_literal(t[i]) ? i : t.size();
}

}  // namespace

std::string withheld_text(std::string_view kind) {
  return std::string(kind) + " (text withheld: contains a secret)";
}

std::string redact_secrets(std::span<const Token> t, std::string_view text, bool inner_secret,
                           std::string_view kind) {
  std::vector<std::size_t> secrets;
  auto add = [&](std::size_t i) {
    if (i < t.size()) secrets.push_back(i);
  };
  const bool set_password = t.size() > 1 && is_word(t[0], "set") && is_word(t[1], "password");
  const bool runs_text = !t.empty() && (is_word(t[0], "prepare") || is_word(t[0], "execute"));
  bool identified = false;
  bool after_equals = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const Token& w = t[i];
    if (set_password && is_punct(w, "=")) after_equals = true;
    if ((set_password && after_equals) || (runs_text && inner_secret)) {
      if (is_literal(w)) add(i);
      continue;
    }
    if (is_word(w, "identified")) identified = true;
    const bool call = i + 1 < t.size() && is_punct(t[i + 1], "(");
    if (call) {
      const int from = secret_arguments_from(w);
      if (from < 0) continue;
      const std::size_t close = matching_paren(t, i + 1);
      int argument = 0;
      int depth = 0;
      for (std::size_t k = i + 2; k < close; ++k) {
        if (is_punct(t[k], "(")) ++depth;
        if (is_punct(t[k], ")")) --depth;
        if (depth == 0 && is_punct(t[k], ",")) ++argument;
        if (argument >= from && is_literal(t[k])) add(k);
      }
      continue;
    }
    if (names_password(w)) {
      std::size_t j = i + 1;
      if (j < t.size() && is_punct(t[j], "=")) ++j;
      add(literal_at(t, j));
      continue;
    }
    // IDENTIFIED BY 'x', IDENTIFIED BY PASSWORD 'hash', IDENTIFIED WITH plugin BY / AS 'x',
    // MariaDB's IDENTIFIED VIA plugin USING 'x' [OR plugin USING 'y'].
    if (identified && (is_word(w, "by") || is_word(w, "as") || is_word(w, "using"))) {
      std::size_t j = i + 1;
      if (j < t.size() && is_word(t[j], "password")) ++j;
      add(literal_at(t, j));
    }
  }
  if (secrets.empty()) return {};
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i : secrets) {
    const std::size_t at = static_cast<std::size_t>(t[i].text.data() - text.data());
    if (t[i].text.data() < text.data() || at < copied || at + t[i].text.size() > text.size()) {
      return withheld_text(kind);
    }
    out.append(text.substr(copied, at - copied));
    // A quote right beside '***' would join the two into one string ('a''***').
    auto is_quote = [](char c) { return c == '\'' || c == '"' || c == '`'; };
    if (!out.empty() && is_quote(out.back())) out.push_back(' ');
    out.append(kRedactedLiteral);
    copied = at + t[i].text.size();
    if (copied < text.size() && is_quote(text[copied])) out.push_back(' ');
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace portcullis::sql::mysql
