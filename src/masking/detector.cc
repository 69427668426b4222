// The built-in scanner. Almost every byte of clean data costs one table lookup: only a digit,
// '@', ':', '+', '(', '-', '_', 'A' or 'J' stops the loop, and each stop runs the grammar of
// the detectors that can start there, bounded, then resumes after what it looked at. Matching
// from the anchor and walking back by hand replaces start-of-match tracking (MEASURED.md,
// pitfalls 1, 3 and 6).
#include "masking/detector.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "masking/validators.h"

namespace portcullis::masking {
namespace {

// Byte classes of the first pass.
enum Trigger : uint8_t {
  kNone = 0,
  kDigit,
  kAt,
  kColon,
  kOpen,  // '+' or '(' that may start a phone number
  kDash,
  kUnderscore,
  kUpperA,
  kUpperJ,
  kPercent,
};

constexpr std::array<uint8_t, 256> make_triggers() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit;
  t['@'] = kAt;
  t[':'] = kColon;
  t['+'] = kOpen;
  t['('] = kOpen;
  t['-'] = kDash;
  t['_'] = kUnderscore;
  t['A'] = kUpperA;
  t['J'] = kUpperJ;
  t['%'] = kPercent;
  return t;
}
constexpr std::array<uint8_t, 256> kTriggers = make_triggers();

enum CharClass : uint8_t {
  kIsDigit = 1,
  kIsAlpha = 2,
  kIsHex = 4,
  kIsUpper = 8,
  kIsEmailLocal = 16,  // RFC 5322 atext that people actually use, and '.'
  kIsBase64Url = 32,
  kIsBase64 = 64,  // the base64 and base64url alphabets together: [A-Za-z0-9+/_-]
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kIsDigit | kIsHex | kIsEmailLocal | kIsBase64Url;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kIsAlpha | kIsEmailLocal | kIsBase64Url;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kIsAlpha | kIsUpper | kIsEmailLocal | kIsBase64Url;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kIsHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kIsHex;
  for (char c : std::string_view("._%+-")) t[static_cast<uint8_t>(c)] |= kIsEmailLocal;
  t['-'] |= kIsBase64Url;
  t['_'] |= kIsBase64Url;
  for (int c = 0; c < 256; ++c)
    if (t[c] & kIsBase64Url) t[c] |= kIsBase64;
  t['+'] |= kIsBase64;
  t['/'] |= kIsBase64;
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = make_classes();

// Bounds on how far one candidate is followed, from the formats themselves.
constexpr std::size_t kMaxEmailLocal = 64;    // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxEmailDomain = 255;  // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxIpv6Text = 45;      // INET6_ADDRSTRLEN - 1
constexpr std::size_t kMaxPemHeader = 64;     // "-----BEGIN ENCRYPTED PRIVATE KEY-----" and kin
constexpr std::size_t kMaxDigitGroups = 8;
constexpr std::size_t kMaxTokenBody = 512;
// Encoded runs worth decoding: 16 base64 characters carry 12 bytes and 16 hex digits 8, about
// the shortest text a detector finds ("a@b.co" is 6, a card 13). Shorter runs are words.
constexpr std::size_t kMinEncodedRun = 16;
// How far one encoded run is decoded: long enough for any value a detector finds inside a
// sentence, short enough that a run costs a bounded amount of work.
constexpr std::size_t kMaxEncodedRun = 4096;

class Scanner {
 public:
  Scanner(std::string_view v, DetectorSet enabled, std::vector<Span>& out, bool decoded = false)
      : s_(reinterpret_cast<const uint8_t*>(v.data())),
        n_(v.size()),
        on_(enabled),
        out_(out),
        decoded_(decoded) {}

  // Bytes the candidate grammars looked at, and the stops of the first pass.
  uint64_t work() const { return work_; }

  // The first pass and its candidates, then encoded runs (base64, hex) that it left alone.
  void scan() {
    const std::size_t first = out_.size();
    run();
    if (!decoded_) encoded_runs(first);
  }

 private:
  void run() {
    std::size_t i = 0;
    while (i < n_) {
      while (i < n_ && kTriggers[s_[i]] == kNone) ++i;
      if (i >= n_) break;
      ++work_;
      switch (kTriggers[s_[i]]) {
        case kDigit:
          i = on_digit(i);
          break;
        case kAt:
          i = on_at(i);
          break;
        case kColon:
          i = on_colon(i);
          break;
        case kOpen:
          i = on_open(i);
          break;
        case kDash:
          i = on_dash(i);
          break;
        case kUnderscore:
          i = on_underscore(i);
          break;
        case kUpperA:
          i = on_upper_a(i);
          break;
        case kUpperJ:
          i = on_upper_j(i);
          break;
        case kPercent:
          i = on_percent(i);
          break;
        default:
          ++i;
      }
    }
  }

  // Every byte a grammar reads goes through here, so counting here bounds the scan's work.
  bool has(std::size_t p, uint8_t cls) const {
    ++work_;
    return p < n_ && (kClasses[s_[p]] & cls) != 0;
  }
  bool is_digit(std::size_t p) const { return has(p, kIsDigit); }
  bool is_word(std::size_t p) const {
    return has(p, kIsDigit | kIsAlpha) || (p < n_ && s_[p] == '_');
  }
  bool boundary_before(std::size_t p) const { return p == 0 || p <= floor_ || !is_word(p - 1); }
  bool boundary_after(std::size_t p) const { return p >= n_ || !is_word(p); }
  bool starts_with(std::size_t p, std::string_view lit) const {
    return p + lit.size() <= n_ && std::memcmp(s_ + p, lit.data(), lit.size()) == 0;
  }
  bool on(Detector d) const { return (on_ & bit(d)) != 0; }
  std::string_view text(std::size_t b, std::size_t e) const {
    return {reinterpret_cast<const char*>(s_ + b), e - b};
  }

  void emit(std::size_t b, std::size_t e, Detector d) {
    out_.push_back(
        Span{static_cast<uint32_t>(b), static_cast<uint32_t>(e), static_cast<uint16_t>(d)});
    floor_ = e;
  }

  std::size_t skip_word(std::size_t p) const {
    while (p < n_ && has(p, kIsDigit | kIsAlpha)) ++p;
    return p;
  }

  // ---- digits: cards, SSNs, phones, IPv4, IBANs ---------------------------------------

  // '+' or '(' before a digit: a phone number when the run reads as one from there. When it
  // does not, the digits are read again on their own, so that "(4111 1111 1111 1111)" or
  // "(10.1.2.3)" are not lost to the parenthesis.
  std::size_t on_open(std::size_t i) {
    if (i + 1 >= n_ || !is_digit(i + 1) || !boundary_before(i)) return i + 1;
    const std::size_t found = out_.size();
    const std::size_t e = number_run(i);
    return out_.size() != found ? e : i + 1;
  }

  std::size_t on_digit(std::size_t i) {
    if (boundary_before(i)) return number_run(i);
    // "DE89 3704 ...": two capitals then the check digits.
    if (on(Detector::iban) && i >= 2 && i - 2 >= floor_ && has(i - 2, kIsUpper) &&
        has(i - 1, kIsUpper) && boundary_before(i - 2)) {
      if (std::size_t e = iban_at(i - 2)) {
        emit(i - 2, e, Detector::iban);
        return e;
      }
    }
    return skip_word(i);
  }

  // An IBAN from `b`, written compact or in groups separated by single spaces. Returns its
  // end, or 0.
  std::size_t iban_at(std::size_t b) const {
    const int length = iban_length(text(b, b + 2));
    if (length == 0) return 0;
    char compact[40];
    int k = 0;
    std::size_t p = b;
    while (k < length && p < n_) {
      const uint8_t c = s_[p];
      if (has(p, kIsDigit | kIsUpper)) {
        compact[k++] = static_cast<char>(c);
        ++p;
      } else if (c == ' ' && k >= 4 && has(p + 1, kIsDigit | kIsUpper)) {
        ++p;
      } else {
        break;
      }
    }
    if (k != length || !boundary_after(p)) return 0;
    return iban_valid(std::string_view(compact, static_cast<std::size_t>(k))) ? p : 0;
  }

  struct Run {
    std::size_t begin = 0;
    std::size_t end = 0;
    int digits = 0;
    std::size_t groups = 0;
    std::array<uint8_t, kMaxDigitGroups> group_begin{};  // offsets from `begin`, capped
    std::array<uint8_t, kMaxDigitGroups> group_len{};
    bool plus = false;
    bool paren = false;
    bool overflow = false;  // more groups or digits than any detector takes
    uint32_t seps = 0;      // bits: 1 ' ', 2 '-', 4 '.', 8 '(' or ')'
    bool multi_sep = false;
  };

  static uint32_t sep_bit(uint8_t c) {
    switch (c) {
      case ' ':
        return 1;
      case '-':
        return 2;
      case '.':
        return 4;
      case '(':
      case ')':
        return 8;
      default:
        return 0;
    }
  }

  // A maximal run of digit groups joined by short separators, from a boundary at `i` (a digit,
  // '+' or '('). It is classified as a whole: a run longer than any format is nothing, so that
  // a UUID or a long reference never yields a card in its middle.
  std::size_t number_run(std::size_t i) {
    Run r;
    r.begin = i;
    std::size_t p = i;
    if (s_[p] == '+') {
      r.plus = true;
      ++p;
    } else if (s_[p] == '(') {
      r.paren = true;
      r.seps |= 8;
      ++p;
    }
    while (true) {
      const std::size_t g = p;
      while (p < n_ && is_digit(p)) ++p;
      const std::size_t len = p - g;
      r.digits += static_cast<int>(len);
      if (r.groups < kMaxDigitGroups && g - r.begin < 256 && len < 256) {
        r.group_begin[r.groups] = static_cast<uint8_t>(g - r.begin);
        r.group_len[r.groups] = static_cast<uint8_t>(len);
      } else {
        r.overflow = true;
      }
      ++r.groups;
      r.end = p;
      std::size_t q = p;
      uint32_t seps = 0;
      int k = 0;
      while (q < n_ && k < 3 && sep_bit(s_[q]) != 0) {
        seps |= sep_bit(s_[q]);
        ++q;
        ++k;
      }
      if (k == 0 || !is_digit(q)) break;
      // Two separators only as in "(555) 123" or "(555)-123".
      if (k > 1 && !(s_[p] == ')' && k == 2)) break;
      if (k > 1) r.multi_sep = true;
      r.seps |= seps;
      p = q;
    }
    if (r.digits > 40) r.overflow = true;
    const std::size_t e = r.end;
    if (!boundary_after(e)) {
      // An '@' follows: the digits are an email's local part, which on_at will take.
      return (e < n_ && s_[e] == '@') ? e : skip_word(e);
    }
    if (r.overflow) return e;
    // A ':' between digits makes a time ("12:34", "2023-10-05 12:34"); a ':' after a key
    // ("ssn:123-45-6789", "tel:+1 415 555 2671") does not.
    const bool time_near = (e + 1 < n_ && s_[e] == ':' && is_digit(e + 1)) ||
                           (r.begin >= 2 && s_[r.begin - 1] == ':' && is_digit(r.begin - 2));
    if (on(Detector::ipv4) && is_ipv4(r)) {
      emit(r.begin, e, Detector::ipv4);
    } else if (time_near) {
      // "2023-10-05 12:34": a timestamp, not a phone.
    } else if (on(Detector::us_ssn) && is_ssn(r)) {
      emit(r.begin, e, Detector::us_ssn);
    } else if (on(Detector::credit_card) && is_card(r)) {
      emit(r.begin, e, Detector::credit_card);
    } else if (on(Detector::phone) && is_phone(r)) {
      emit(r.begin, e, Detector::phone);
    }
    return e;
  }

  std::string_view group(const Run& r, std::size_t k) const {
    return text(r.begin + r.group_begin[k], r.begin + r.group_begin[k] + r.group_len[k]);
  }

  bool is_ipv4(const Run& r) const {
    if (r.plus || r.paren || r.seps != 4 || r.groups != 4) return false;
    for (std::size_t k = 0; k < 4; ++k) {
      const std::string_view g = group(r, k);
      if (g.size() > 3 || (g.size() > 1 && g[0] == '0')) return false;
      int v = 0;
      for (char c : g) v = v * 10 + (c - '0');
      if (v > 255) return false;
    }
    return true;
  }

  bool is_ssn(const Run& r) const {
    if (r.plus || r.paren || r.multi_sep || r.groups != 3 || (r.seps != 1 && r.seps != 2))
      return false;
    return us_ssn_valid(group(r, 0), group(r, 1), group(r, 2));
  }

  bool is_card(const Run& r) const {
    if (r.plus || r.paren || r.multi_sep || r.digits < 13 || r.digits > 19) return false;
    if (r.groups > 1) {
      if (r.seps != 1 && r.seps != 2) return false;
      for (std::size_t k = 0; k < r.groups; ++k)
        if (r.group_len[k] < 3) return false;
    }
    char digits[20];
    std::size_t k = 0;
    for (std::size_t p = r.begin; p < r.end; ++p)
      if (is_digit(p)) digits[k++] = static_cast<char>(s_[p]);
    const std::string_view d(digits, k);
    return known_card_prefix(d) && luhn_valid(d);
  }

  bool is_phone(const Run& r) const {
    if (r.plus) {
      // E.164: a country code that does not start with 0, at most 15 digits.
      return r.digits >= 8 && r.digits <= 15 && s_[r.begin + 1] != '0';
    }
    if (r.seps == 0 || r.groups < 2) return false;  // bare digit strings are order numbers
    auto len = [&](std::size_t k) { return r.group_len[k]; };
    auto first = [&](std::size_t k) { return s_[r.begin + r.group_begin[k]]; };
    // North American Numbering Plan: (NPA) NXX-XXXX, optionally with the country code 1.
    std::size_t g = 0;
    if (r.groups == 4 && len(0) == 1 && first(0) == '1') g = 1;
    if (r.groups - g == 3 && len(g) == 3 && len(g + 1) == 3 && len(g + 2) == 4 && first(g) >= '2' &&
        first(g + 1) >= '2') {
      return true;
    }
    if (r.paren) return false;
    // National numbers with a trunk prefix 0 (UK, France, Germany, ...): 10-11 digits.
    if (r.digits < 10 || r.digits > 11 || first(0) != '0' || s_[r.begin + 1] == '0') return false;
    if (r.seps == 4 && r.groups == 4) return false;                                // dotted quad
    if (r.groups >= 3 && len(0) == 2 && len(1) == 2 && len(2) == 4) return false;  // dd.mm.yyyy
    for (std::size_t k = 1; k < std::min(r.groups, kMaxDigitGroups); ++k)
      if (len(k) < 2) return false;
    return true;
  }

  // ---- '@': email -----------------------------------------------------------------------

  std::size_t on_at(std::size_t i) {
    if (!on(Detector::email)) return i + 1;
    std::size_t b = i;
    while (b > floor_ && i - b < kMaxEmailLocal && has(b - 1, kIsEmailLocal)) --b;
    while (b < i && s_[b] == '.') ++b;
    if (b == i || s_[i - 1] == '.') return i + 1;
    // Domain: labels of letters, digits and '-', at least two, the last all letters.
    std::size_t p = i + 1;
    std::size_t last_dot = 0;
    std::size_t label_begin = p;
    while (p < n_ && p - i <= kMaxEmailDomain) {
      const uint8_t c = s_[p];
      if (has(p, kIsDigit | kIsAlpha) || (c == '-' && p > label_begin)) {
        ++p;
      } else if (c == '.' && p > label_begin && s_[p - 1] != '-' &&
                 has(p + 1, kIsDigit | kIsAlpha)) {
        last_dot = p;
        label_begin = ++p;
      } else {
        break;
      }
    }
    std::size_t e = p;
    while (e > label_begin && s_[e - 1] == '-') --e;
    if (last_dot == 0 || e - last_dot - 1 < 2) return i + 1;
    for (std::size_t t = last_dot + 1; t < e; ++t)
      if (!has(t, kIsAlpha)) return i + 1;
    emit(b, e, Detector::email);
    return e;
  }

  // ---- ':': IPv6 ------------------------------------------------------------------------

  std::size_t on_colon(std::size_t i) {
    if (!on(Detector::ipv6)) return i + 1;
    auto ipv6_char = [&](std::size_t p) { return has(p, kIsHex) || s_[p] == ':' || s_[p] == '.'; };
    std::size_t b = i;
    while (b > floor_ && i - b < kMaxIpv6Text && ipv6_char(b - 1)) --b;
    std::size_t e = i + 1;
    while (e < n_ && e - b < kMaxIpv6Text && ipv6_char(e)) ++e;
    // On a miss the scan resumes right after this colon: the bytes around it were read only
    // as IPv6 and may start another detection ("key:4111...", "id:AKIA..."). The walk is
    // bounded by kMaxIpv6Text each way, so this stays linear.
    const std::size_t resume = i + 1;
    while (e > i + 1 && s_[e - 1] == '.') --e;
    while (b < i && s_[b] == '.') ++b;
    // A key's colon is not part of the address: "key:2001:db8::1", "id:::ffff:192.0.2.1".
    auto trim_key_colon = [&] {
      while (b + 2 < e && s_[b] == ':' && s_[b + 1] == ':' && s_[b + 2] == ':') ++b;
      if (b + 1 < e && s_[b] == ':' && s_[b + 1] != ':') ++b;
    };
    trim_key_colon();
    if (!boundary_before(b)) {
      // Hex letters glued to the key ("id:2001:..."): the address starts after the key.
      std::size_t c = b;
      while (c < i && s_[c] != ':') ++c;
      b = c;
      trim_key_colon();
    }
    if (!boundary_before(b) || !boundary_after(e) || (e < n_ && s_[e] == ':')) return resume;
    int colons = 0;
    bool hex = false;
    for (std::size_t p = b; p < e; ++p) {
      colons += s_[p] == ':';
      hex = hex || has(p, kIsHex);
    }
    if (colons < 2 || !hex || e - b > kMaxIpv6Text) return resume;
    char buf[kMaxIpv6Text + 1];
    std::memcpy(buf, s_ + b, e - b);
    buf[e - b] = 0;
    in6_addr addr{};
    if (inet_pton(AF_INET6, buf, &addr) != 1) return resume;
    emit(b, e, Detector::ipv6);
    return e;
  }

  // ---- token prefixes ------------------------------------------------------------------

  // The end of a token body of [A-Za-z0-9_-] from `p`, when at least `min` long and ending at
  // a boundary; 0 otherwise.
  std::size_t token_end(std::size_t p, std::size_t min) const {
    const std::size_t b = p;
    while (p < n_ && p - b < kMaxTokenBody && has(p, kIsBase64Url)) ++p;
    return p - b >= min && boundary_after(p) ? p : 0;
  }

  std::size_t emit_token(std::size_t b, std::size_t e, Detector d, std::size_t resume) {
    if (e == 0) return resume;
    emit(b, e, d);
    return e;
  }

  std::size_t on_dash(std::size_t i) {
    if (on(Detector::private_key) && starts_with(i, "-----BEGIN ")) return private_key(i);
    if (!on(Detector::api_token)) return i + 1;
    // Slack: xoxb- (bot), xoxp- (user), xoxa-, xoxr-, xoxs-.
    if (i >= 4 && i - 4 >= floor_ && starts_with(i - 4, "xox") &&
        std::strchr("abprs", s_[i - 1]) != nullptr && boundary_before(i - 4)) {
      return emit_token(i - 4, token_end(i + 1, 10), Detector::api_token, i + 1);
    }
    // GitLab personal access token.
    if (i >= 5 && i - 5 >= floor_ && starts_with(i - 5, "glpat") && boundary_before(i - 5)) {
      return emit_token(i - 5, token_end(i + 1, 20), Detector::api_token, i + 1);
    }
    return i + 1;
  }

  std::size_t on_underscore(std::size_t i) {
    if (!on(Detector::api_token)) return i + 1;
    // GitHub: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server),
    // ghr_ (refresh); npm: npm_.
    if (i >= 3 && i - 3 >= floor_ && boundary_before(i - 3) &&
        ((starts_with(i - 3, "gh") && std::strchr("pousr", s_[i - 1]) != nullptr) ||
         starts_with(i - 3, "npm"))) {
      return emit_token(i - 3, token_end(i + 1, 30), Detector::api_token, i + 1);
    }
    // GitHub fine-grained: github_pat_.
    if (i >= 6 && i - 6 >= floor_ && starts_with(i - 6, "github_pat_") && boundary_before(i - 6)) {
      return emit_token(i - 6, token_end(i + 5, 22), Detector::api_token, i + 1);
    }
    // Stripe secret and restricted keys: sk_live_, rk_live_, sk_test_, rk_test_.
    if (i >= 2 && i - 2 >= floor_ && (starts_with(i - 2, "sk_") || starts_with(i - 2, "rk_")) &&
        (starts_with(i + 1, "live_") || starts_with(i + 1, "test_")) && boundary_before(i - 2)) {
      return emit_token(i - 2, token_end(i + 6, 16), Detector::api_token, i + 1);
    }
    return i + 1;
  }

  std::size_t on_upper_a(std::size_t i) {
    if (!boundary_before(i)) return i + 1;
    // AWS access key IDs: AKIA (long-term), ASIA (temporary), then 16 of [A-Z2-7].
    if (on(Detector::aws_access_key) && (starts_with(i, "AKIA") || starts_with(i, "ASIA"))) {
      std::size_t p = i + 4;
      while (p < n_ && p - i < 20 && (has(p, kIsUpper) || is_digit(p))) ++p;
      if (p - i == 20 && boundary_after(p)) {
        emit(i, p, Detector::aws_access_key);
        return p;
      }
    }
    // Google API keys: AIza then 35 of [A-Za-z0-9_-].
    if (on(Detector::api_token) && starts_with(i, "AIza")) {
      const std::size_t e = token_end(i + 4, 35);
      if (e != 0 && e - i == 39) {
        emit(i, e, Detector::api_token);
        return e;
      }
    }
    return i + 1;
  }

  // JWS compact serialisation: eyJ<header>.eyJ<payload>.<signature> (RFC 7515 7.1); the
  // base64url of '{"' is what makes the prefix.
  std::size_t on_upper_j(std::size_t i) {
    if (!on(Detector::jwt) || i < 2 || i - 2 < floor_ || !starts_with(i - 2, "eyJ") ||
        !boundary_before(i - 2)) {
      return i + 1;
    }
    const std::size_t b = i - 2;
    auto segment = [&](std::size_t p) {
      while (p < n_ && has(p, kIsBase64Url)) ++p;
      return p;
    };
    std::size_t p = segment(i + 1);
    if (p - b < 10 || p >= n_ || s_[p] != '.' || !starts_with(p + 1, "eyJ")) return i + 1;
    const std::size_t q = segment(p + 4);
    if (q - p < 10 || q >= n_ || s_[q] != '.') return i + 1;
    const std::size_t e = segment(q + 1);
    if (!boundary_after(e)) return i + 1;
    emit(b, e, Detector::jwt);
    return e;
  }

  // A PEM private key block, BEGIN line to END line. Without an END (a value cut short) the
  // rest of the value is taken: better too much than a key's first half.
  std::size_t private_key(std::size_t i) {
    const std::size_t header = i + 11;
    std::size_t p = header;
    while (p < n_ && p - header < kMaxPemHeader && (has(p, kIsUpper | kIsDigit) || s_[p] == ' '))
      ++p;
    const std::string_view label = text(header, p);
    if (!starts_with(p, "-----") || label.find("PRIVATE KEY") == std::string_view::npos)
      return i + 1;
    p += 5;
    const std::string_view rest = text(p, n_);
    const std::size_t end_marker = rest.find("-----END ");
    work_ += end_marker == std::string_view::npos ? rest.size() : end_marker;
    std::size_t e = n_;
    if (end_marker != std::string_view::npos) {
      const std::size_t close = rest.find("-----", end_marker + 9);
      if (close != std::string_view::npos) e = p + close + 5;
    }
    emit(i, e, Detector::private_key);
    return e;
  }

  // ---- encodings: percent-encoding, base64, hex -----------------------------------------

  // The detector that finds something in `decoded`, scanned as a value of its own (without
  // decoding again), or -1.
  int detect_decoded(std::string_view decoded) {
    std::vector<Span> found;
    Scanner inner(decoded, on_, found, true);
    inner.run();
    work_ += inner.work_;
    return found.empty() ? -1 : found.front().detector;
  }

  static bool is_url_byte(uint8_t c) {
    return (kClasses[c] & (kIsDigit | kIsAlpha)) != 0 || c == '.' || c == '_' || c == '~' ||
           c == '+' || c == '-';
  }

  static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
  }

  // "alice%40example.com": the run of URL bytes and %XX escapes around the first escape is
  // decoded ('+' as a space) and scanned; a detection masks the whole run.
  std::size_t on_percent(std::size_t i) {
    if (decoded_ || i < pct_done_ || !has(i + 1, kIsHex) || !has(i + 2, kIsHex)) return i + 1;
    std::size_t b = i;
    while (b > floor_ && i - b < kMaxEncodedRun && is_url_byte(s_[b - 1])) --b;
    std::string decoded;
    std::size_t p = b;
    while (p < n_ && p - b < kMaxEncodedRun) {
      ++work_;
      if (s_[p] == '%' && p + 2 < n_ && has(p + 1, kIsHex) && has(p + 2, kIsHex)) {
        decoded.push_back(static_cast<char>(hex_digit(s_[p + 1]) * 16 + hex_digit(s_[p + 2])));
        p += 3;
      } else if (is_url_byte(s_[p])) {
        decoded.push_back(s_[p] == '+' ? ' ' : static_cast<char>(s_[p]));
        ++p;
      } else {
        break;
      }
    }
    // Later escapes of this run were decoded with it.
    pct_done_ = p;
    const int d = detect_decoded(decoded);
    if (d < 0) return i + 1;
    emit(b, p, static_cast<Detector>(d));
    out_.back().encoded = true;
    return p;
  }

  // Whether all eight bytes of `x` lie in '+'..'z', the span of the base64 alphabets (the
  // bit tricks of "Bit Twiddling Hacks", hasless and hasmore). A space, a control byte or
  // UTF-8 anywhere rejects the block.
  static bool maybe_base64_block(uint64_t x) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    const uint64_t below = (x - kOnes * '+') & ~x & kHigh;
    const uint64_t above = ((x + kOnes * (127 - 'z')) | x) & kHigh;
    return (below | above) == 0;
  }

  // Runs of base64 characters of at least kMinEncodedRun. Such a run always covers a whole
  // eight-byte block of the value, so only blocks that could be all base64 are looked at:
  // clean text, with a space every few bytes, costs one load and a few operations per block.
  // Runs that overlap a detection of the first pass are left alone; the others are decoded
  // as hex or base64 and scanned.
  void encoded_runs(std::size_t first) {
    static_assert(kMinEncodedRun >= 16, "a run must cover a whole 8-byte block");
    if (n_ < kMinEncodedRun) return;
    const std::size_t found_before = out_.size();
    std::vector<Span> found;
    std::size_t k = first;  // the next first-pass span that may overlap
    std::size_t done = 0;   // end of the last run: never walked again
    for (std::size_t q = 0; q + 8 <= n_; q += 8) {
      if (q + 8 <= done) continue;
      uint64_t block;
      std::memcpy(&block, s_ + q, 8);
      ++work_;
      if (!maybe_base64_block(block)) continue;
      std::size_t b = std::max(q, done);
      if ((kClasses[s_[b]] & kIsBase64) == 0) continue;
      const std::size_t p = b;
      while (b > done && p - b < kMaxEncodedRun && (kClasses[s_[b - 1]] & kIsBase64) != 0) --b;
      std::size_t e = p + 1;
      while (e < n_ && e - b < kMaxEncodedRun && (kClasses[s_[e]] & kIsBase64) != 0) ++e;
      work_ += e - b;
      done = e;
      if (e - b >= kMinEncodedRun) {
        while (k < found_before && out_[k].end <= b) ++k;
        if (k >= found_before || out_[k].begin >= e) encoded_run(b, e, found);
      }
    }
    if (found.empty()) return;
    out_.insert(out_.end(), found.begin(), found.end());
    std::inplace_merge(out_.begin() + static_cast<std::ptrdiff_t>(first),
                       out_.begin() + static_cast<std::ptrdiff_t>(found_before), out_.end(),
                       [](const Span& a, const Span& c) { return a.begin < c.begin; });
  }

  // One run: the whole of it, then (when it holds '/' or '+', which a URL path or a form
  // value also has) each long enough piece between them.
  void encoded_run(std::size_t b, std::size_t e, std::vector<Span>& found) {
    if (encoded_piece(b, e, found)) return;
    std::size_t piece = b;
    bool split = false;
    for (std::size_t q = b; q <= e; ++q) {
      if (q < e && s_[q] != '/' && s_[q] != '+') continue;
      if (q < e) split = true;
      if (split && q - piece >= kMinEncodedRun) encoded_piece(piece, q, found);
      piece = q + 1;
    }
  }

  // Hex (optionally after "\x", bytea's text form, or "0x"), then base64 or base64url.
  bool encoded_piece(std::size_t b, std::size_t e, std::vector<Span>& found) {
    std::size_t span_begin = b;
    std::size_t h = b;
    if (s_[h] == 'x' && h > 0 && s_[h - 1] == '\\') {
      ++h;
      span_begin = b - 1;
    } else if (s_[h] == '0' && h + 1 < e && s_[h + 1] == 'x') {
      h += 2;
    }
    std::size_t hex_end = h;
    while (hex_end < e && has(hex_end, kIsHex)) ++hex_end;
    std::string decoded;
    if (hex_end == e && e - h >= kMinEncodedRun && (e - h) % 2 == 0) {
      for (std::size_t q = h; q < e; q += 2)
        decoded.push_back(static_cast<char>(hex_digit(s_[q]) * 16 + hex_digit(s_[q + 1])));
      if (const int d = detect_decoded(decoded); d >= 0) {
        found.push_back(Span{static_cast<uint32_t>(span_begin), static_cast<uint32_t>(e),
                             static_cast<uint16_t>(d), true});
        return true;
      }
    }
    decoded.clear();
    uint32_t bits = 0;
    int nbits = 0;
    for (std::size_t q = b; q < e; ++q) {
      ++work_;
      const uint8_t c = s_[q];
      int v;
      if (c >= 'A' && c <= 'Z') {
        v = c - 'A';
      } else if (c >= 'a' && c <= 'z') {
        v = c - 'a' + 26;
      } else if (c >= '0' && c <= '9') {
        v = c - '0' + 52;
      } else if (c == '+' || c == '-') {
        v = 62;
      } else {
        v = 63;  // '/' or '_'
      }
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      if (nbits >= 8) {
        nbits -= 8;
        decoded.push_back(static_cast<char>((bits >> nbits) & 0xff));
      }
    }
    const int d = detect_decoded(decoded);
    if (d < 0) return false;
    std::size_t end = e;  // and its padding
    while (end < n_ && end - e < 2 && s_[end] == '=') ++end;
    found.push_back(Span{static_cast<uint32_t>(span_begin), static_cast<uint32_t>(end),
                         static_cast<uint16_t>(d), true});
    return true;
  }

  const uint8_t* s_;
  std::size_t n_;
  DetectorSet on_;
  std::vector<Span>& out_;
  bool decoded_;              // scanning decoded bytes: no second decoding
  std::size_t floor_ = 0;     // end of the last span: nothing before it is looked at again
  std::size_t pct_done_ = 0;  // end of the last percent-encoded run decoded
  mutable uint64_t work_ = 0;
};

}  // namespace

std::optional<Detector> detector_from_name(std::string_view name) {
  for (std::size_t k = 0; k < kBuiltinDetectorNames.size(); ++k)
    if (kBuiltinDetectorNames[k] == name) return static_cast<Detector>(k);
  return std::nullopt;
}

uint64_t find_builtin(std::string_view value, DetectorSet enabled, std::vector<Span>& out) {
  if (enabled == 0) return 0;
  Scanner scanner(value, enabled, out);
  scanner.scan();
  return scanner.work();
}

}  // namespace portcullis::masking
