// A recursive-descent reader of sh command lines. It reads the text once, as the shell does:
// words are cut and their quotes removed as they are read, substitutions are parsed in place
// (so a `)` inside quotes or a case pattern never closes them), and here-document bodies are
// read at the newline that follows their operator.
#include "shell/parser.h"

#include <cstddef>
#include <string>
#include <utility>

#include "shell/ansi_c_quoting.h"
#include "shell/redirections.h"

namespace portcullis::shell {
namespace {

bool is_blank(int c) {
  return c == ' ' || c == '\t';
}

// Characters that end an unquoted word.
bool is_word_end(int c) {
  return c < 0 || is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
         c == '>' || c == '(' || c == ')';
}

bool is_name_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(int c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

// Words that end a list when they stand where a command would start.
bool is_list_terminator(std::string_view w) {
  return w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" || w == "done" ||
         w == "esac" || w == "}";
}

// NAME= or NAME+= at the start of an unquoted word: the length of that prefix, or 0.
std::size_t assignment_prefix(std::string_view raw) {
  if (raw.empty() || !is_name_start(static_cast<unsigned char>(raw[0]))) return 0;
  std::size_t i = 1;
  while (i < raw.size() && is_name_char(static_cast<unsigned char>(raw[i]))) ++i;
  if (i < raw.size() && raw[i] == '+') ++i;
  if (i < raw.size() && raw[i] == '=') return i + 1;
  return 0;
}

// A word as it is being read.
struct WordBuilder {
  std::string value;
  bool expands = false;  // parameter, command or arithmetic substitution
  bool globs = false;    // unquoted * ? [...] or brace expansion
  bool quoted = false;   // some part was quoted or escaped
  bool bracket_open = false;
  bool brace_open = false;
  bool brace_list = false;
};

struct PendingHereDocument {
  std::string delimiter;
  bool strip_tabs = false;
  bool expands = false;  // the delimiter was not quoted: the body undergoes expansion
};

// `$((` and `((` are read as arithmetic first and, when they do not close as arithmetic, read
// again as substitutions or subshells (bash does the same). Each retry may read the text
// again, and nested retries would multiply: a few are allowed per line, then it is refused.
constexpr int kMaxArithmeticRetries = 32;

// What the parsers of one text (and of its backquotes and here-documents) share.
struct Limits {
  int retries = 0;
  // Bytes that may still be copied into commands by the redirections of compound commands.
  std::size_t copy_budget = 0;
};

std::size_t size_of(const Redirection& r) {
  return sizeof(Redirection) + r.op.size() + r.target.value.size() + r.target.raw.size();
}

class Parser {
 public:
  Parser(std::string_view text, ParsedText& out, int depth, Origin origin, Limits& limits)
      : s_(text), out_(out), depth_(depth), origin_(origin), limits_(limits) {}

  void parse_program() {
    parse_list();
    if (failed()) return;
    if (!at_end()) fail_unexpected();
    // A here-document still waiting at the end of the text ends there, as in bash.
  }

  // The body of a here-document whose delimiter was not quoted: text in which $(...), `...`
  // and ${...} are expanded, quotes are not special.
  void scan_here_document_body() {
    WordBuilder ignored;
    while (!at_end() && !failed()) {
      int c = peek();
      if (c == '\\') {
        p_ += 2;
      } else if (c == '$') {
        scan_dollar(ignored, true);
      } else if (c == '`') {
        scan_backquote(ignored, true);
      } else {
        ++p_;
      }
      ignored.value.clear();
    }
  }

 private:
  std::string_view s_;
  std::size_t p_ = 0;
  ParsedText& out_;
  int depth_;
  Origin origin_;
  Limits& limits_;
  std::size_t parsed_ = 0;  // commands parsed so far, to refuse empty lists
  std::vector<PendingHereDocument> pending_;

  // Counts one level of nesting for as long as it lives; too deep is a parse error.
  class Nesting {
   public:
    explicit Nesting(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("commands nested too deeply");
    }
    ~Nesting() { --p_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& p_;
  };

  bool at_end() const { return p_ >= s_.size(); }
  int peek(std::size_t k = 0) const {
    return p_ + k < s_.size() ? static_cast<unsigned char>(s_[p_ + k]) : -1;
  }
  bool failed() const { return !out_.error.empty(); }
  void fail(std::string_view message) {
    if (out_.error.empty()) {
      out_.error = std::string(message) + " (at byte " + std::to_string(p_) + ")";
    }
  }
  void fail_unexpected() {
    if (at_end()) {
      fail("unexpected end of text");
      return;
    }
    std::string_view w = plain_word();
    std::string shown = w.empty() ? std::string(1, s_[p_]) : std::string(w);
    if (s_.substr(p_, 2) == ";;") shown = ";;";
    if (s_[p_] == '\n') shown = "newline";
    fail("unexpected `" + shown + "`");
  }

  // Blanks, escaped newlines and comments.
  void skip_blanks() {
    while (!at_end()) {
      int c = peek();
      if (is_blank(c)) {
        ++p_;
      } else if (c == '\\' && peek(1) == '\n') {
        p_ += 2;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++p_;
      } else {
        return;
      }
    }
  }

  void consume_newline() {
    ++p_;
    std::vector<PendingHereDocument> pending = std::move(pending_);
    pending_.clear();
    for (const PendingHereDocument& h : pending) {
      read_here_document(h);
      if (failed()) return;
    }
  }

  void skip_linebreaks() {
    for (;;) {
      skip_blanks();
      if (peek() != '\n') return;
      consume_newline();
      if (failed()) return;
    }
  }

  // An unquoted word of plain characters at the cursor, when one ends there: how reserved
  // words (if, then, {, }, ...) are recognised. Empty otherwise.
  std::string_view plain_word() const {
    std::size_t i = p_;
    while (i < s_.size()) {
      int c = static_cast<unsigned char>(s_[i]);
      if (is_word_end(c) || c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`') break;
      ++i;
    }
    if (i == p_) return {};
    if (i < s_.size()) {
      int c = static_cast<unsigned char>(s_[i]);
      if (!is_word_end(c)) return {};
    }
    return s_.substr(p_, i - p_);
  }

  bool at_reserved(std::string_view word) const { return plain_word() == word; }

  void expect_reserved(std::string_view word) {
    skip_linebreaks();
    if (failed()) return;
    if (!at_reserved(word)) {
      fail("expected `" + std::string(word) + "`");
      return;
    }
    p_ += word.size();
  }

  bool at_list_end() const {
    if (at_end()) return true;
    int c = peek();
    if (c == ')') return true;
    if (c == ';' && (peek(1) == ';' || peek(1) == '&')) return true;
    return is_list_terminator(plain_word());
  }

  // Commands separated by ; & and newlines, up to a word or operator that ends the list.
  void parse_list() {
    for (;;) {
      skip_linebreaks();
      if (failed() || at_list_end()) return;
      parse_and_or();
      if (failed()) return;
      skip_blanks();
      int c = peek();
      if (c == ';' && peek(1) != ';' && peek(1) != '&') {
        ++p_;
      } else if (c == '&' && peek(1) != '&' && peek(1) != '>') {
        ++p_;
      } else if (c == '\n') {
        consume_newline();
      } else {
        return;
      }
    }
  }

  void parse_and_or() {
    parse_pipeline();
    for (;;) {
      if (failed()) return;
      skip_blanks();
      if ((peek() == '&' && peek(1) == '&') || (peek() == '|' && peek(1) == '|')) {
        p_ += 2;
        skip_linebreaks();
        if (failed()) return;
        parse_pipeline();
      } else {
        return;
      }
    }
  }

  void parse_pipeline() {
    skip_blanks();
    if (at_reserved("!")) {
      ++p_;
      skip_blanks();
    }
    parse_command();
    for (;;) {
      if (failed()) return;
      skip_blanks();
      if (peek() == '|' && peek(1) != '|') {
        p_ += peek(1) == '&' ? 2 : 1;
        skip_linebreaks();
        if (failed()) return;
        parse_command();
      } else {
        return;
      }
    }
  }

  void parse_command() {
    skip_blanks();
    if (at_end()) {
      fail("expected a command");
      return;
    }
    ++parsed_;
    std::size_t first = out_.commands.size();
    if (parse_compound_command()) {
      if (failed()) return;
      read_trailing_redirections(first);
      return;
    }
    if (failed()) return;
    if (is_list_terminator(plain_word())) {
      fail_unexpected();
      return;
    }
    parse_simple_command();
  }

  // Redirections after a compound command apply to every command inside it.
  void read_trailing_redirections(std::size_t first) {
    SimpleCommand holder;
    for (;;) {
      skip_blanks();
      if (!at_redirection()) break;
      read_redirection(holder);
      if (failed()) return;
    }
    if (!is_word_end(peek()) && !at_end()) {
      fail_unexpected();
      return;
    }
    std::size_t each = 0;
    for (const Redirection& r : holder.redirections) each += size_of(r);
    std::size_t cost = each * (out_.commands.size() - first);
    if (cost > limits_.copy_budget) {
      fail("the line is too complex to read");
      return;
    }
    limits_.copy_budget -= cost;
    for (std::size_t i = first; i < out_.commands.size(); ++i) {
      for (const Redirection& r : holder.redirections) out_.commands[i].redirections.push_back(r);
    }
  }

  // Reads a compound command when one starts here; false when it is a simple command.
  bool parse_compound_command() {
    int c = peek();
    if (c == '(') {
      Nesting n(*this);
      if (failed()) return true;
      if (peek(1) == '(' && try_arithmetic(nullptr)) return true;
      if (failed()) return true;
      ++p_;
      parse_list();
      if (failed()) return true;
      if (peek() != ')') {
        fail(at_end() ? "unterminated subshell: missing `)`" : "expected `)`");
        return true;
      }
      ++p_;
      return true;
    }
    std::string_view w = plain_word();
    if (w.empty()) return false;
    if (w == "{") {
      Nesting n(*this);
      if (failed()) return true;
      ++p_;
      parse_nonempty_list("{");
      expect_reserved("}");
      return true;
    }
    if (w == "if") {
      Nesting n(*this);
      if (failed()) return true;
      p_ += 2;
      parse_nonempty_list("if");
      expect_reserved("then");
      parse_nonempty_list("then");
      for (;;) {
        if (failed()) return true;
        if (at_reserved("elif")) {
          p_ += 4;
          parse_nonempty_list("elif");
          expect_reserved("then");
          parse_nonempty_list("then");
        } else if (at_reserved("else")) {
          p_ += 4;
          parse_nonempty_list("else");
        } else {
          break;
        }
      }
      expect_reserved("fi");
      return true;
    }
    if (w == "while" || w == "until") {
      Nesting n(*this);
      if (failed()) return true;
      p_ += w.size();
      parse_nonempty_list(w);
      parse_do_group();
      return true;
    }
    if (w == "for" || w == "select") {
      Nesting n(*this);
      if (failed()) return true;
      p_ += w.size();
      parse_for();
      return true;
    }
    if (w == "case") {
      Nesting n(*this);
      if (failed()) return true;
      p_ += 4;
      parse_case();
      return true;
    }
    if (w == "function") {
      Nesting n(*this);
      if (failed()) return true;
      p_ += 8;
      skip_blanks();
      WordBuilder name;
      if (is_word_end(peek())) {
        fail("expected a function name");
        return true;
      }
      read_word(name);
      if (failed()) return true;
      skip_blanks();
      if (peek() == '(') {
        ++p_;
        skip_blanks();
        if (peek() != ')') {
          fail("expected `)` after `(` in a function definition");
          return true;
        }
        ++p_;
      }
      parse_function_body(name.value);
      return true;
    }
    if (w == "[[") {
      p_ += 2;
      parse_conditional();
      return true;
    }
    return false;
  }

  void parse_nonempty_list(std::string_view after) {
    if (failed()) return;
    std::size_t before = parsed_;
    parse_list();
    if (failed()) return;
    skip_linebreaks();
    if (failed()) return;
    if (at_end()) {
      fail("unexpected end of text after `" + std::string(after) + "`");
    } else if (parsed_ == before) {
      fail("expected a command after `" + std::string(after) + "`");
    }
  }

  void parse_do_group() {
    if (failed()) return;
    expect_reserved("do");
    parse_nonempty_list("do");
    expect_reserved("done");
  }

  void parse_for() {
    skip_blanks();
    if (peek() == '(' && peek(1) == '(') {
      if (!try_arithmetic(nullptr)) {
        fail("unterminated `for ((`");
        return;
      }
      skip_blanks();
      if (peek() == ';') ++p_;
      parse_do_group();
      return;
    }
    if (is_word_end(peek())) {
      fail("expected a variable name after `for`");
      return;
    }
    WordBuilder name;
    read_word(name);
    if (failed()) return;
    skip_blanks();
    if (peek() == ';') {
      ++p_;
    } else {
      skip_linebreaks();
      if (failed()) return;
      if (at_reserved("in")) {
        p_ += 2;
        for (;;) {
          skip_blanks();
          if (at_end() || peek() == ';' || peek() == '\n') break;
          if (is_word_end(peek())) {
            fail_unexpected();
            return;
          }
          WordBuilder item;
          read_word(item);
          if (failed()) return;
        }
        if (peek() == ';') ++p_;
      }
    }
    parse_do_group();
  }

  void parse_case() {
    skip_blanks();
    if (is_word_end(peek())) {
      fail("expected a word after `case`");
      return;
    }
    WordBuilder subject;
    read_word(subject);
    if (failed()) return;
    expect_reserved("in");
    for (;;) {
      skip_linebreaks();
      if (failed()) return;
      if (at_reserved("esac")) {
        p_ += 4;
        return;
      }
      if (at_end()) {
        fail("unterminated `case`: missing `esac`");
        return;
      }
      if (peek() == '(') ++p_;
      for (;;) {
        skip_blanks();
        if (is_word_end(peek())) {
          fail(at_end() ? "unterminated `case` pattern" : "expected a pattern in `case`");
          return;
        }
        WordBuilder pattern;
        read_word(pattern);
        if (failed()) return;
        skip_blanks();
        if (peek() == '|') {
          ++p_;
          continue;
        }
        if (peek() == ')') {
          ++p_;
          break;
        }
        fail("expected `)` after a `case` pattern");
        return;
      }
      {
        Nesting n(*this);
        if (failed()) return;
        parse_list();
      }
      if (failed()) return;
      skip_linebreaks();
      if (failed()) return;
      if (peek() == ';' && peek(1) == ';') {
        p_ += peek(2) == '&' ? 3 : 2;
      } else if (peek() == ';' && peek(1) == '&') {
        p_ += 2;
      } else if (!at_reserved("esac")) {
        fail(at_end() ? "unterminated `case`: missing `esac`" : "expected `;;` or `esac`");
        return;
      }
    }
  }

  // [[ ... ]]: its operators are not redirections or control operators; its words may hold
  // substitutions that run.
  void parse_conditional() {
    for (;;) {
      skip_blanks();
      if (failed()) return;
      if (at_end()) {
        fail("unterminated `[[`: missing `]]`");
        return;
      }
      if (at_reserved("]]")) {
        p_ += 2;
        return;
      }
      int c = peek();
      if (c == '\n') {
        consume_newline();
      } else if (is_word_end(c)) {
        ++p_;
      } else {
        WordBuilder w;
        read_word(w);
      }
    }
  }

  void parse_function_body(const std::string& name) {
    skip_linebreaks();
    if (failed()) return;
    out_.functions.push_back(name);
    Origin saved = origin_;
    origin_ = Origin::function_body;
    std::size_t first = out_.commands.size();
    if (!parse_compound_command()) {
      if (!failed()) fail("expected a compound command as the body of function " + name);
    }
    origin_ = saved;
    if (failed()) return;
    read_trailing_redirections(first);
  }

  bool at_redirection() const {
    std::size_t i = p_;
    while (i < s_.size() && is_digit(static_cast<unsigned char>(s_[i]))) ++i;
    if (i >= s_.size()) return false;
    char c = s_[i];
    if (c == '<' || c == '>') {
      // <( and >( start a process substitution, not a redirection.
      return !(i == p_ && i + 1 < s_.size() && s_[i + 1] == '(');
    }
    return i == p_ && c == '&' && i + 1 < s_.size() && s_[i + 1] == '>';
  }

  void read_redirection(SimpleCommand& cmd) {
    Redirection r;
    std::size_t digits = p_;
    while (is_digit(peek())) ++p_;
    if (p_ > digits) {
      std::string_view n = s_.substr(digits, p_ - digits);
      r.fd = n.size() > 9 ? 999999999 : std::stoi(std::string(n));
    }
    static constexpr std::string_view kOperators[] = {"&>>", "<<<", "<<-", "&>", "<<", "<>",
                                                      "<&",  ">>",  ">|",  ">&", "<",  ">"};
    for (std::string_view op : kOperators) {
      if (s_.substr(p_, op.size()) == op) {
        r.op = std::string(op);
        p_ += op.size();
        break;
      }
    }
    skip_blanks();
    if (is_word_end(peek()) && !((peek() == '<' || peek() == '>') && peek(1) == '(')) {
      fail("redirection `" + r.op + "` without a target");
      return;
    }
    WordBuilder target;
    std::size_t start = p_;
    read_word(target);
    if (failed()) return;
    r.target = Word{.value = std::move(target.value),
                    .raw = std::string(s_.substr(start, p_ - start)),
                    .is_static = !target.expands && !target.globs};
    if (r.op == "<<" || r.op == "<<-") {
      // The delimiter is never expanded; quoting any part of it keeps the body as data.
      pending_.push_back(PendingHereDocument{
          .delimiter = r.target.value, .strip_tabs = r.op == "<<-", .expands = !target.quoted});
      r.target.is_static = true;
    }
    r.kind = classify_redirection(r.op, r.target);
    cmd.redirections.push_back(std::move(r));
    if (cmd.redirections.size() > kMaxRedirections) fail("too many redirections on one command");
  }

  void read_here_document(const PendingHereDocument& h) {
    std::string body;
    for (;;) {
      if (at_end()) break;  // delimited by the end of the text, as bash accepts
      std::size_t e = s_.find('\n', p_);
      if (e == std::string_view::npos) e = s_.size();
      std::string_view line = s_.substr(p_, e - p_);
      if (h.strip_tabs) {
        while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
      }
      p_ = e < s_.size() ? e + 1 : e;
      if (line == h.delimiter) break;
      if (h.expands) {
        body.append(line);
        body += '\n';
      }
    }
    if (!h.expands || body.empty()) return;
    Nesting n(*this);
    if (failed()) return;
    Parser sub(body, out_, depth_, Origin::here_document, limits_);
    sub.scan_here_document_body();
  }

  void parse_simple_command() {
    SimpleCommand cmd;
    cmd.origin = origin_;
    for (;;) {
      skip_blanks();
      if (failed()) return;
      if (at_end()) break;
      if (at_redirection()) {
        read_redirection(cmd);
        continue;
      }
      int c = peek();
      if (c == '(') {
        if (cmd.argv.size() == 1 && cmd.assignments.empty() && cmd.redirections.empty() &&
            cmd.argv[0].raw == cmd.argv[0].value) {
          ++p_;
          skip_blanks();
          if (peek() != ')') {
            fail("expected `)` after `(` in a function definition");
            return;
          }
          ++p_;
          Nesting n(*this);
          if (failed()) return;
          parse_function_body(cmd.argv[0].value);
          return;
        }
        if (cmd.argv.empty() && !cmd.assignments.empty() && s_[p_ - 1] == '=') {
          read_array_value(cmd.assignments.back());
          continue;
        }
        fail_unexpected();
        return;
      }
      if (is_word_end(c) && !((c == '<' || c == '>') && peek(1) == '(')) break;
      std::size_t start = p_;
      WordBuilder w;
      read_word(w);
      if (failed()) return;
      std::string_view raw = s_.substr(start, p_ - start);
      std::size_t prefix = cmd.argv.empty() ? assignment_prefix(raw) : 0;
      if (prefix > 0) {
        std::size_t name_end = raw[prefix - 2] == '+' ? prefix - 2 : prefix - 1;
        cmd.assignments.push_back(Assignment{.name = std::string(raw.substr(0, name_end)),
                                             .value = Word{.value = w.value.substr(prefix),
                                                           .raw = std::string(raw.substr(prefix)),
                                                           .is_static = !w.expands}});
        if (cmd.assignments.size() > kMaxAssignments) {
          fail("too many assignments before one command");
          return;
        }
      } else {
        cmd.argv.push_back(Word{.value = std::move(w.value),
                                .raw = std::string(raw),
                                .is_static = !w.expands && !w.globs});
      }
    }
    if (cmd.argv.empty() && cmd.assignments.empty() && cmd.redirections.empty()) {
      fail_unexpected();
      return;
    }
    out_.commands.push_back(std::move(cmd));
  }

  // NAME=(a b c): bash's array assignment.
  void read_array_value(Assignment& a) {
    std::size_t start = p_;
    ++p_;
    for (;;) {
      skip_linebreaks();
      if (failed()) return;
      if (at_end()) {
        fail("unterminated array assignment: missing `)`");
        return;
      }
      if (peek() == ')') {
        ++p_;
        break;
      }
      if (is_word_end(peek())) {
        fail_unexpected();
        return;
      }
      WordBuilder w;
      read_word(w);
      if (failed()) return;
    }
    a.value.raw += std::string(s_.substr(start, p_ - start));
    a.value.value = a.value.raw;
    a.value.is_static = false;
  }

  void read_word(WordBuilder& w) {
    if ((peek() == '<' || peek() == '>') && peek(1) == '(') {
      std::size_t start = p_;
      ++p_;
      read_substituted_list(Origin::process_substitution, "process substitution");
      w.value += std::string(s_.substr(start, p_ - start));
      w.expands = true;
      if (failed() || is_word_end(peek())) return;
    }
    while (!at_end() && !failed()) {
      int c = peek();
      if (is_word_end(c)) return;
      switch (c) {
        case '\\':
          if (peek(1) == '\n') {
            p_ += 2;
          } else if (peek(1) >= 0) {
            w.value += s_[p_ + 1];
            w.quoted = true;
            p_ += 2;
          } else {
            w.value += '\\';
            ++p_;
          }
          break;
        case '\'': {
          std::size_t e = s_.find('\'', p_ + 1);
          if (e == std::string_view::npos) {
            fail("unterminated single quote");
            return;
          }
          w.value.append(s_.substr(p_ + 1, e - p_ - 1));
          w.quoted = true;
          p_ = e + 1;
          break;
        }
        case '"':
          scan_double_quoted(w);
          break;
        case '$':
          scan_dollar(w, false);
          break;
        case '`':
          scan_backquote(w, false);
          break;
        case '*':
        case '?':
          w.globs = true;
          w.value += static_cast<char>(c);
          ++p_;
          break;
        case '[':
          w.bracket_open = true;
          w.value += '[';
          ++p_;
          break;
        case ']':
          if (w.bracket_open) w.globs = true;
          w.value += ']';
          ++p_;
          break;
        case '{':
          w.brace_open = true;
          w.value += '{';
          ++p_;
          break;
        case ',':
          if (w.brace_open) w.brace_list = true;
          w.value += ',';
          ++p_;
          break;
        case '.':
          if (w.brace_open && peek(1) == '.') w.brace_list = true;
          w.value += '.';
          ++p_;
          break;
        case '}':
          if (w.brace_open && w.brace_list) w.globs = true;
          w.value += '}';
          ++p_;
          break;
        default:
          w.value += static_cast<char>(c);
          ++p_;
      }
    }
  }

  void scan_double_quoted(WordBuilder& w) {
    Nesting n(*this);
    if (failed()) return;
    w.quoted = true;
    ++p_;
    for (;;) {
      if (failed()) return;
      if (at_end()) {
        fail("unterminated double quote");
        return;
      }
      int c = peek();
      if (c == '"') {
        ++p_;
        return;
      }
      if (c == '\\') {
        int e = peek(1);
        if (e == '$' || e == '`' || e == '"' || e == '\\') {
          w.value += static_cast<char>(e);
          p_ += 2;
        } else if (e == '\n') {
          p_ += 2;
        } else {
          w.value += '\\';
          ++p_;
        }
      } else if (c == '$') {
        scan_dollar(w, true);
      } else if (c == '`') {
        scan_backquote(w, true);
      } else {
        w.value += static_cast<char>(c);
        ++p_;
      }
    }
  }

  // A `$` at the cursor: an expansion, ANSI-C or locale quoting, or a plain dollar sign.
  void scan_dollar(WordBuilder& w, bool in_double_quotes) {
    Nesting n(*this);
    if (failed()) return;
    std::size_t start = p_;
    int c = peek(1);
    if (c == '\'' && !in_double_quotes) {
      std::size_t e = decode_ansi_c_quote(s_, p_ + 2, w.value);
      if (e == std::string_view::npos) {
        fail("unterminated $'...' quote");
        return;
      }
      w.quoted = true;
      p_ = e;
      return;
    }
    if (c == '"' && !in_double_quotes) {
      ++p_;
      scan_double_quoted(w);
      return;
    }
    if (c == '(') {
      bool arithmetic = peek(2) == '(';
      ++p_;
      if (!arithmetic || !try_arithmetic(&w)) {
        if (failed()) return;
        read_substituted_list(Origin::command_substitution, "command substitution");
      }
    } else if (c == '{') {
      scan_braced_parameter(in_double_quotes);
    } else if (c == '[') {
      std::size_t e = s_.find(']', p_ + 2);
      if (e == std::string_view::npos) {
        fail("unterminated $[ arithmetic");
        return;
      }
      p_ = e + 1;
    } else if (is_name_start(c)) {
      p_ += 2;
      while (is_name_char(peek())) ++p_;
    } else if (is_digit(c) || c == '@' || c == '*' || c == '#' || c == '?' || c == '$' ||
               c == '!' || c == '-') {
      p_ += 2;
    } else {
      w.value += '$';
      ++p_;
      return;
    }
    if (failed()) return;
    w.value.append(s_.substr(start, p_ - start));
    w.expands = true;
  }

  // The cursor is on the `(` that opens $( or <( or >(: the list inside, up to its `)`.
  void read_substituted_list(Origin origin, std::string_view what) {
    Nesting n(*this);
    if (failed()) return;
    ++p_;
    Origin saved = origin_;
    if (origin_ != Origin::here_document) origin_ = origin;
    parse_list();
    origin_ = saved;
    if (failed()) return;
    if (peek() != ')') {
      if (at_end()) {
        fail("unterminated " + std::string(what) + ": missing `)`");
      } else {
        fail_unexpected();
      }
      return;
    }
    ++p_;
  }

  // The cursor is on the first `(` of `((`: an arithmetic expression up to the matching `))`.
  // When the parentheses close in some other way the text was a subshell inside $( or (,
  // as bash decides: the cursor goes back and false is returned.
  bool try_arithmetic(WordBuilder* w) {
    std::size_t start = p_;
    std::size_t commands_before = out_.commands.size();
    std::size_t functions_before = out_.functions.size();
    std::size_t pending_before = pending_.size();
    p_ += 2;
    int depth = 0;
    WordBuilder inner;
    bool closed = false;
    while (!at_end() && !failed()) {
      int c = peek();
      if (c == '(') {
        ++depth;
        ++p_;
      } else if (c == ')') {
        if (depth == 0) {
          if (peek(1) == ')') {
            p_ += 2;
            closed = true;
          }
          break;
        }
        --depth;
        ++p_;
      } else if (c == '$') {
        scan_dollar(inner, true);
      } else if (c == '`') {
        scan_backquote(inner, true);
      } else if (c == '"') {
        scan_double_quoted(inner);
      } else if (c == '\\') {
        p_ += 2;
      } else {
        ++p_;
      }
    }
    if (!closed || failed()) {
      // Not arithmetic after all: forget what was read on the way.
      if (++limits_.retries > kMaxArithmeticRetries) {
        out_.error.clear();
        fail("too many ambiguous `((`");
        return false;
      }
      out_.error.clear();
      out_.commands.resize(commands_before);
      out_.functions.resize(functions_before);
      pending_.resize(pending_before);
      p_ = start;
      return false;
    }
    if (w != nullptr) w->expands = true;
    return true;
  }

  void scan_braced_parameter(bool in_double_quotes) {
    p_ += 2;
    int depth = 1;
    WordBuilder inner;
    while (!failed()) {
      if (at_end()) {
        fail("unterminated ${...}");
        return;
      }
      int c = peek();
      if (c == '\\') {
        p_ += 2;
      } else if (c == '\'' && !in_double_quotes) {
        std::size_t e = s_.find('\'', p_ + 1);
        if (e == std::string_view::npos) {
          fail("unterminated single quote");
          return;
        }
        p_ = e + 1;
      } else if (c == '"') {
        scan_double_quoted(inner);
      } else if (c == '$') {
        scan_dollar(inner, in_double_quotes);
      } else if (c == '`') {
        scan_backquote(inner, in_double_quotes);
      } else if (c == '{') {
        ++depth;
        ++p_;
      } else if (c == '}') {
        ++p_;
        if (--depth == 0) return;
      } else {
        ++p_;
      }
      inner.value.clear();
    }
  }

  // `...`: the body, with its own backslash rules undone, is parsed as a command line.
  void scan_backquote(WordBuilder& w, bool in_double_quotes) {
    Nesting n(*this);
    if (failed()) return;
    std::size_t start = p_;
    ++p_;
    std::string body;
    for (;;) {
      if (at_end()) {
        fail("unterminated backquote");
        return;
      }
      int c = peek();
      if (c == '`') {
        ++p_;
        break;
      }
      if (c == '\\') {
        int e = peek(1);
        if (e == '$' || e == '`' || e == '\\' || (in_double_quotes && e == '"')) {
          body += static_cast<char>(e);
          p_ += 2;
          continue;
        }
      }
      body += static_cast<char>(c);
      ++p_;
    }
    Parser sub(body, out_, depth_,
               origin_ == Origin::here_document ? origin_ : Origin::command_substitution, limits_);
    sub.parse_program();
    w.value.append(s_.substr(start, p_ - start));
    w.expands = true;
  }
};

}  // namespace

ParsedText parse(std::string_view text, Origin origin) {
  ParsedText out;
  Limits limits{.retries = 0, .copy_budget = kCopyBudgetPerByte * text.size() + kCopyBudgetBase};
  Parser parser(text, out, 0, origin, limits);
  parser.parse_program();
  if (!out.error.empty()) {
    out.commands.clear();
    out.functions.clear();
  }
  return out;
}

}  // namespace portcullis::shell
