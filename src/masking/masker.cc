// Building a profile's masker and masking values with it.
#include "masking/masker.h"

#include <fmt/format.h>
#include <hs/hs.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "masking/column_glob.h"
#include "masking/keyed_hash.h"

namespace portcullis::masking {
namespace {

// 64 bits of HMAC: collisions among the values of one deployment stay negligible, and the
// marker stays short.
constexpr std::size_t kHashHexDigits = 16;
// A whole value keeps its last four characters under `partial` only when it is at least this
// long; shorter values are redacted (four of seven characters would say too much).
constexpr std::size_t kPartialWholeMin = 8;
// Rounds of masking the masked text again before a value is given up whole. Each round can
// only shrink what is left to find; two are enough for every case the fuzzer has found.
constexpr int kMaxRescans = 4;

constexpr std::string_view kColumnRuleName = "column";

// Hyperscan 5.4's AVX-512 VBMI engines load whole vectors and may read up to a vector past the
// end of the data (vectorscan issue 322, fat Teddy): harmless inside a page, a crash when the
// value ends just before an unmapped page. Such a value is scanned from a padded copy.
constexpr std::uintptr_t kPageSize = 4096;  // the smallest page; larger ones are multiples
constexpr std::uintptr_t kScanOverread = 64;

bool near_page_edge(std::string_view in) {
  const auto begin = reinterpret_cast<std::uintptr_t>(in.data());
  const auto end = begin + in.size();
  const std::uintptr_t to_next_page = (kPageSize - end % kPageSize) % kPageSize;
  return begin % kPageSize < kScanOverread || to_next_page < kScanOverread;
}

struct MatchContext {
  const std::vector<CustomPattern>* patterns;
  std::vector<Span>* out;
};

// Hyperscan reports every end offset of every match (MEASURED.md, pitfall 4): overlapping
// reports of one detector are merged as they come, so that the list stays short.
int on_custom_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int /*flags*/, void* context) {
  auto& ctx = *static_cast<MatchContext*>(context);
  const CustomPattern& pattern = (*ctx.patterns)[id];
  const auto end = static_cast<uint32_t>(to);
  const auto begin = pattern.length != 0 ? static_cast<uint32_t>(to - pattern.length)
                                         : static_cast<uint32_t>(from);
  if (begin == end) return 0;
  auto& out = *ctx.out;
  if (!out.empty() && out.back().detector == pattern.detector && begin <= out.back().end) {
    out.back().begin = std::min(out.back().begin, begin);
    out.back().end = std::max(out.back().end, end);
  } else {
    out.push_back(Span{begin, end, pattern.detector});
  }
  return 0;
}

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// A word of a word list as a Hyperscan literal, with word boundaries where the word has
// word characters at its ends.
std::string word_pattern(std::string_view word) {
  std::string out;
  if (is_word_byte(static_cast<unsigned char>(word.front()))) out += "\\b";
  for (unsigned char c : word) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (is_word_byte(static_cast<unsigned char>(word.back()))) out += "\\b";
  return out;
}

std::string compile_error(hs_compile_error_t* error) {
  std::string message = error != nullptr && error->message != nullptr ? error->message : "unknown";
  if (error != nullptr) hs_free_compile_error(error);
  if (message.find("HS_FLAG_ALLOWEMPTY") != std::string::npos) return "it matches the empty string";
  return message;
}

bool is_ascii_tail(std::string_view s, std::size_t n) {
  for (std::size_t k = s.size() - n; k < s.size(); ++k)
    if (static_cast<unsigned char>(s[k]) >= 0x80) return false;
  return true;
}

}  // namespace

std::optional<Strategy> strategy_from_name(std::string_view name) {
  for (std::size_t k = 0; k < kStrategyNames.size(); ++k)
    if (kStrategyNames[k] == name) return static_cast<Strategy>(k);
  return std::nullopt;
}

Result<void> check_custom_regex(std::string_view regex) {
  const std::string pattern(regex);
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile(pattern.c_str(), HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, nullptr, &db, &error) !=
      HS_SUCCESS) {
    return make_error(compile_error(error));
  }
  hs_free_database(db);
  return {};
}

Scratch::Scratch() : md_(EVP_MD_CTX_new()) {
  if (md_ == nullptr) throw std::bad_alloc();
}

Scratch::~Scratch() {
  if (hs_ != nullptr) hs_free_scratch(hs_);
  EVP_MD_CTX_free(md_);
}

Masker::~Masker() {
  if (db_ != nullptr) hs_free_database(db_);
}

Result<std::shared_ptr<const Masker>> Masker::build(const config::MaskingProfileConfig& profile,
                                                    const Secret& hash_key) {
  std::shared_ptr<Masker> m(new Masker());
  const std::string& pname = profile.name;
  for (const auto& name : profile.detectors) {
    auto d = detector_from_name(name);
    if (!d)
      return make_error(
          fmt::format("masking profile \"{}\": unknown detector \"{}\"", pname, name));
    m->builtin_ |= bit(*d);
  }
  m->custom_count_ = profile.custom.size();
  for (auto name : kBuiltinDetectorNames) m->names_.emplace_back(name);
  for (const auto& c : profile.custom) m->names_.push_back(c.name);
  m->names_.emplace_back(kColumnRuleName);

  auto default_strategy = strategy_from_name(profile.strategy);
  if (!default_strategy) {
    return make_error(
        fmt::format("masking profile \"{}\": unknown strategy \"{}\"", pname, profile.strategy));
  }
  m->strategies_.assign(m->names_.size(), *default_strategy);
  for (const auto& [name, strategy] : profile.strategies) {
    auto it = std::find(m->names_.begin(), m->names_.end() - 1, name);
    if (it == m->names_.end() - 1) {
      return make_error(fmt::format(
          "masking profile \"{}\": strategies names unknown detector \"{}\"", pname, name));
    }
    auto s = strategy_from_name(strategy);
    if (!s) {
      return make_error(
          fmt::format("masking profile \"{}\": unknown strategy \"{}\"", pname, strategy));
    }
    m->strategies_[static_cast<std::size_t>(it - m->names_.begin())] = *s;
  }
  bool uses_hash = false;
  for (std::size_t k = 0; k + 1 < m->strategies_.size(); ++k) {
    const bool enabled = k >= kBuiltinDetectorCount || (m->builtin_ & (DetectorSet{1} << k)) != 0;
    if (!enabled) continue;
    m->any_null_ = m->any_null_ || m->strategies_[k] == Strategy::null;
    uses_hash = uses_hash || m->strategies_[k] == Strategy::hash;
  }
  for (const auto& c : profile.columns) {
    auto s = strategy_from_name(c.action);
    if (!s) {
      return make_error(
          fmt::format("masking profile \"{}\": column rule \"{}\": unknown action \"{}\"", pname,
                      c.match, c.action));
    }
    uses_hash = uses_hash || *s == Strategy::hash;
    m->columns_.push_back(ColumnRule{c.match, *s});
    const auto dot = c.match.rfind('.');
    if (dot != std::string::npos && c.match.substr(0, dot) != "*") m->needs_table_ = true;
  }
  if (uses_hash) {
    if (hash_key.empty()) {
      return make_error(
          fmt::format("masking profile \"{}\" uses the hash strategy but no hash key is configured "
                      "(masking.hash_key_env or masking.hash_key_file)",
                      pname));
    }
    m->hash_ = std::make_unique<KeyedHash>(hash_key.reveal());
  }

  // Custom detectors: one Hyperscan database for the profile.
  std::vector<std::string> expressions;
  std::vector<unsigned int> flags;
  for (std::size_t k = 0; k < profile.custom.size(); ++k) {
    const auto& c = profile.custom[k];
    const auto detector = static_cast<uint16_t>(kBuiltinDetectorCount + k);
    if (!c.regex.empty()) {
      expressions.push_back(c.regex);
      flags.push_back(HS_FLAG_SOM_LEFTMOST);
      m->patterns_.push_back(CustomPattern{detector, 0});
    }
    for (const auto& w : c.words) {
      if (w.empty()) continue;
      expressions.push_back(word_pattern(w));
      flags.push_back(HS_FLAG_CASELESS);
      m->patterns_.push_back(CustomPattern{detector, static_cast<uint32_t>(w.size())});
    }
  }
  if (!expressions.empty()) {
    std::vector<const char*> cstrs;
    std::vector<unsigned int> ids;
    for (std::size_t k = 0; k < expressions.size(); ++k) {
      cstrs.push_back(expressions[k].c_str());
      ids.push_back(static_cast<unsigned int>(k));
    }
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(cstrs.data(), flags.data(), ids.data(),
                         static_cast<unsigned int>(cstrs.size()), HS_MODE_BLOCK, nullptr, &m->db_,
                         &error) != HS_SUCCESS) {
      std::string where;
      if (error != nullptr && error->expression >= 0) {
        const auto& p = m->patterns_[static_cast<std::size_t>(error->expression)];
        where = fmt::format(" \"{}\"", m->names_[p.detector]);
      }
      return make_error(fmt::format("masking profile \"{}\": custom detector{}: {}", pname, where,
                                    compile_error(error)));
    }
  }
  return std::shared_ptr<const Masker>(std::move(m));
}

std::string_view Masker::detector_name(std::size_t index) const {
  return index < names_.size() ? std::string_view(names_[index]) : std::string_view("unknown");
}

ColumnPlan Masker::plan_column(std::string_view table, std::string_view column,
                               bool text_like) const {
  for (const auto& rule : columns_) {
    if (column_rule_matches(rule.glob, table, column)) {
      return ColumnPlan{ColumnPlan::Action::whole, rule.strategy};
    }
  }
  return text_like ? plan_text() : ColumnPlan{};
}

ColumnPlan Masker::plan_text() const {
  if (builtin_ == 0 && custom_count_ == 0) return ColumnPlan{};
  return ColumnPlan{ColumnPlan::Action::scan, Strategy::redact};
}

void Masker::find_spans(std::string_view in, Scratch& scratch) const {
  scratch.spans_.clear();
  find_builtin(in, builtin_, scratch.spans_);
  if (db_ == nullptr) return;
  if (hs_alloc_scratch(db_, &scratch.hs_) != HS_SUCCESS) throw std::bad_alloc();
  scratch.custom_.clear();
  MatchContext ctx{&patterns_, &scratch.custom_};
  std::string_view scanned = in;
  if (near_page_edge(in)) {
    scratch.padded_.assign(kScanOverread, '\0');
    scratch.padded_.append(in);
    scratch.padded_.append(kScanOverread, '\0');
    scanned = std::string_view(scratch.padded_).substr(kScanOverread, in.size());
  }
  if (hs_scan(db_, scanned.data(), static_cast<unsigned int>(in.size()), 0, scratch.hs_,
              on_custom_match, &ctx) != HS_SUCCESS) {
    // Fail closed: a value the custom detectors could not read is masked whole.
    scratch.spans_.assign(
        1, Span{0, static_cast<uint32_t>(in.size()), static_cast<uint16_t>(column_rule_index())});
    return;
  }
  if (scratch.custom_.empty()) return;
  auto& all = scratch.custom_;
  all.insert(all.end(), scratch.spans_.begin(), scratch.spans_.end());
  std::sort(all.begin(), all.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  scratch.spans_.clear();
  for (const Span& s : all) {
    if (!scratch.spans_.empty() && s.begin < scratch.spans_.back().end) {
      scratch.spans_.back().end = std::max(scratch.spans_.back().end, s.end);
    } else {
      scratch.spans_.push_back(s);
    }
  }
}

bool Masker::mask_value(std::string_view in, const ColumnPlan& plan, MaskResult& out,
                        Scratch& scratch, MaskCounts& counts) const {
  out.kind = MaskResult::Kind::unchanged;
  switch (plan.action) {
    case ColumnPlan::Action::skip:
      return false;
    case ColumnPlan::Action::whole:
      counts.add(column_rule_index());
      if (plan.strategy == Strategy::null) {
        out.kind = MaskResult::Kind::null;
        return true;
      }
      out.bytes.clear();
      whole_value(in, plan.strategy, scratch, out.bytes);
      out.kind = MaskResult::Kind::replaced;
      return true;
    case ColumnPlan::Action::scan:
      break;
  }
  if (in.size() > UINT32_MAX) {
    // Spans are 32-bit; PostgreSQL values stop at 1 GB, so this is never reached in practice.
    counts.add(column_rule_index());
    out.bytes.assign("[redacted]");
    out.kind = MaskResult::Kind::replaced;
    return true;
  }
  if (!rewrite(in, out, scratch, counts)) return false;
  // A marker changes what its neighbours touch: "+44 0(415 555 2671e%40example.com" hides a
  // phone until the email glued to it is masked. Masking again until nothing is found keeps
  // the promise that masked text holds no detection; it costs a second scan only of values
  // that had one.
  for (int round = 0; round < kMaxRescans && out.kind == MaskResult::Kind::replaced; ++round) {
    scratch.rescan_.swap(out.bytes);
    if (!rewrite(scratch.rescan_, out, scratch, counts)) {
      out.bytes.swap(scratch.rescan_);
      out.kind = MaskResult::Kind::replaced;
      return true;
    }
  }
  if (out.kind == MaskResult::Kind::replaced) {
    // Still finding something after several rounds: give the value up whole.
    counts.add(column_rule_index());
    out.bytes.assign("[redacted]");
  }
  return true;
}

bool Masker::rewrite(std::string_view in, MaskResult& out, Scratch& scratch,
                     MaskCounts& counts) const {
  find_spans(in, scratch);
  const auto& spans = scratch.spans_;
  if (spans.empty()) return false;
  for (const Span& s : spans) counts.add(s.detector);
  if (any_null_) {
    for (const Span& s : spans) {
      if (strategies_[s.detector] == Strategy::null) {
        out.kind = MaskResult::Kind::null;
        return true;
      }
    }
  }
  out.bytes.clear();
  out.bytes.reserve(in.size() + 16);
  std::size_t pos = 0;
  for (const Span& s : spans) {
    out.bytes.append(in.substr(pos, s.begin - pos));
    // A partial view of an encoded run would show its encoding, not the value: redact it.
    const Strategy strategy = s.encoded && strategies_[s.detector] == Strategy::partial
                                  ? Strategy::redact
                                  : strategies_[s.detector];
    apply(in.substr(s.begin, s.end - s.begin), s.detector, strategy, scratch, out.bytes);
    pos = s.end;
  }
  out.bytes.append(in.substr(pos));
  out.kind = MaskResult::Kind::replaced;
  return true;
}

void Masker::whole_value(std::string_view in, Strategy strategy, Scratch& scratch,
                         std::string& out) const {
  switch (strategy) {
    case Strategy::hash:
      out += "[hash:";
      hash_->append_hex(in, scratch.md_, kHashHexDigits, out);
      out += ']';
      return;
    case Strategy::partial:
      if (in.size() >= kPartialWholeMin && is_ascii_tail(in, 4)) {
        out += "****";
        out.append(in.substr(in.size() - 4));
        return;
      }
      break;
    case Strategy::redact:
    case Strategy::null:
      break;
  }
  out += "[redacted]";
}

namespace {

// Every digit but the last `keep` becomes '*'; separators stay.
void keep_last_digits(std::string_view s, std::size_t keep, std::string& out) {
  std::size_t digits = 0;
  for (char c : s) digits += (c >= '0' && c <= '9');
  std::size_t seen = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      out.push_back(++seen + keep > digits ? c : '*');
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

void Masker::apply(std::string_view in, std::size_t detector, Strategy strategy, Scratch& scratch,
                   std::string& out) const {
  if (strategy == Strategy::hash) {
    out += "[hash:";
    hash_->append_hex(in, scratch.md_, kHashHexDigits, out);
    out += ']';
    return;
  }
  if (strategy == Strategy::partial && detector < kBuiltinDetectorCount) {
    switch (static_cast<Detector>(detector)) {
      case Detector::credit_card:
      case Detector::us_ssn:
        keep_last_digits(in, 4, out);
        return;
      case Detector::phone:
        keep_last_digits(in, 2, out);
        return;
      case Detector::email:
        out += "****";
        out.append(in.substr(in.find('@')));
        return;
      case Detector::iban: {
        std::size_t alnum = 0;
        for (char c : in) alnum += (c != ' ');
        std::size_t seen = 0;
        for (char c : in) {
          if (c == ' ') {
            out.push_back(c);
          } else {
            ++seen;
            out.push_back(seen <= 2 || seen + 4 > alnum ? c : '*');
          }
        }
        return;
      }
      case Detector::ipv4:
        out.append(in.substr(0, in.find('.')));
        out += ".*.*.*";
        return;
      case Detector::ipv6:
        out.append(in.substr(0, in.find(':')));
        out += ":*";
        return;
      case Detector::aws_access_key:
        out.append(in.substr(0, 4));
        out += "****";
        return;
      case Detector::api_token: {
        std::size_t keep = 4;
        for (std::string_view p : {"github_pat_", "sk_live_", "rk_live_", "sk_test_", "rk_test_"}) {
          if (in.starts_with(p)) keep = p.size();
        }
        if (keep == 4) {
          const std::size_t sep = in.find_first_of("_-");
          if (sep != std::string_view::npos && sep < 6) keep = sep + 1;
        }
        out.append(in.substr(0, keep));
        out += "****";
        return;
      }
      case Detector::jwt:
      case Detector::private_key:
        break;
    }
  }
  out += '[';
  out += names_[detector];
  out += ']';
}

}  // namespace portcullis::masking
