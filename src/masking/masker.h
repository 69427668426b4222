// The masker of one profile: built once per configuration snapshot, shared read-only by every
// session, and used with a per-thread Scratch. It sees values as bytes with a column plan and
// knows no wire format.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "config/config.h"
#include "masking/detector.h"
#include "masking/strategy.h"

struct hs_database;
struct hs_scratch;

namespace portcullis::masking {

class Masker;

// One pattern of a profile's Hyperscan database.
struct CustomPattern {
  uint16_t detector = 0;  // kBuiltinDetectorCount + custom index
  uint32_t length = 0;    // a word's length; 0 for a regex (start of match from Hyperscan)
};

// What to do with the values of one result column.
struct ColumnPlan {
  enum class Action : uint8_t {
    skip,   // a type that cannot hold text, or a profile with no content detectors
    scan,   // run the detectors over the value
    whole,  // a column rule matched: the whole value is masked, whatever it holds
  };
  Action action = Action::skip;
  Strategy strategy = Strategy::redact;  // for `whole`
};

struct MaskResult {
  enum class Kind : uint8_t { unchanged, replaced, null };
  Kind kind = Kind::unchanged;
  std::string bytes;  // the new value when `replaced`
};

// Detections per detector, summed over a statement's values; the audit event's `masked`.
// Index: Masker::detector_name().
class MaskCounts {
 public:
  void add(std::size_t detector, uint64_t n = 1) {
    if (detector >= counts_.size()) counts_.resize(detector + 1, 0);
    counts_[detector] += n;
  }
  uint64_t total() const {
    uint64_t t = 0;
    for (auto c : counts_) t += c;
    return t;
  }
  const std::vector<uint64_t>& by_detector() const { return counts_; }
  void clear() { counts_.clear(); }

 private:
  std::vector<uint64_t> counts_;
};

// Per-thread working memory: Hyperscan scratch is not thread-safe, and reusing the span
// vectors and the hash context keeps the data path free of allocations.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class Masker;

  // One pattern of a profile's Hyperscan database.
  struct CustomPattern {
    uint16_t detector = 0;  // kBuiltinDetectorCount + custom index
    uint32_t length = 0;    // a word's length; 0 for a regex (start of match from Hyperscan)
  };
  hs_scratch* hs_ = nullptr;
  std::vector<Span> spans_;
  std::vector<Span> custom_;
  std::string rescan_;  // the previous round's masked text
  std::string padded_;  // a value near a page edge, copied with room for Hyperscan's over-read
  EVP_MD_CTX* md_ = nullptr;
};

class Masker {
 public:
  // Compiles the profile: detector names, strategies, column globs, custom regexes and word
  // lists (one Hyperscan database). `hash_key` is needed only when a strategy is `hash`.
  static Result<std::shared_ptr<const Masker>> build(const config::MaskingProfileConfig& profile,
                                                     const Secret& hash_key);
  ~Masker();
  Masker(const Masker&) = delete;
  Masker& operator=(const Masker&) = delete;

  // The plan for a result column. `table` may be empty when unknown; `text_like` says whether
  // the column's type can hold text (see docs/masking.md for the PostgreSQL types).
  ColumnPlan plan_column(std::string_view table, std::string_view column, bool text_like) const;

  // The plan for text that belongs to no column (error messages, COPY fields with no names).
  ColumnPlan plan_text() const;

  // Masks one value. Returns true when it changed (`out.kind` replaced or null); counts each
  // detection in `counts`. Never fails: a value is bytes, any bytes.
  bool mask_value(std::string_view in, const ColumnPlan& plan, MaskResult& out, Scratch& scratch,
                  MaskCounts& counts) const;

  // Whether anything can be masked at all (a profile with detectors or column rules).
  bool active() const { return builtin_ != 0 || custom_count_ > 0 || !columns_.empty(); }
  // Whether the profile has custom detectors, which may match values of any length.
  bool has_custom_detectors() const { return custom_count_ > 0; }
  // Whether some values are masked by their column's name, whatever they hold: results whose
  // column names are unknown cannot be masked as the profile says.
  bool has_column_rules() const { return !columns_.empty(); }
  // Whether some column rule names a table (`customers.ssn`, not `*.ssn` or `ssn`): only then
  // is it worth finding out which table a result column comes from.
  bool needs_table() const { return needs_table_; }

  // Names for MaskCounts indexes: built-in detectors, then custom ones, then "column".
  std::string_view detector_name(std::size_t index) const;
  std::size_t detector_count() const { return kBuiltinDetectorCount + custom_count_ + 1; }
  std::size_t column_rule_index() const { return kBuiltinDetectorCount + custom_count_; }

 private:
  Masker() = default;
  void find_spans(std::string_view in, Scratch& scratch) const;
  // One round of masking: finds the spans of `in` and writes the masked text (or null).
  // False when nothing was found.
  bool rewrite(std::string_view in, MaskResult& out, Scratch& scratch, MaskCounts& counts) const;
  void apply(std::string_view in, std::size_t detector, Strategy strategy, Scratch& scratch,
             std::string& out) const;
  void whole_value(std::string_view in, Strategy strategy, Scratch& scratch,
                   std::string& out) const;

  DetectorSet builtin_ = 0;
  std::size_t custom_count_ = 0;
  std::vector<std::string> names_;    // every index of detector_name()
  std::vector<Strategy> strategies_;  // per detector index
  bool any_null_ = false;             // some detector's strategy is null
  struct ColumnRule {
    std::string glob;
    Strategy strategy;
  };
  std::vector<ColumnRule> columns_;
  bool needs_table_ = false;
  std::vector<CustomPattern> patterns_;
  hs_database* db_ = nullptr;
  std::unique_ptr<class KeyedHash> hash_;
};

// Checks a custom detector's regex as the masker will compile it; the error says why not.
Result<void> check_custom_regex(std::string_view regex);

}  // namespace portcullis::masking
