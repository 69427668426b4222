// `masking`: the profiles access rules name (content detectors, strategies, column rules,
// custom detectors) and the key of the hash strategy. Names and regexes are checked against
// the vocabulary the caller passes (loader.h), so that this module need not know the masker.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

// An empty vocabulary checks nothing: any name is known.
bool is_known(const std::vector<std::string>& vocabulary, std::string_view name) {
  return vocabulary.empty() || contains(vocabulary, name);
}

std::string names(const std::vector<std::string>& vocabulary) {
  return one_of(vocabulary, [](const std::string& n) { return n; });
}

Result<void> check_regex(const MaskingVocabulary& vocabulary, std::string_view regex) {
  if (!vocabulary.check_regex) return {};
  return vocabulary.check_regex(regex);
}

// The key of the `hash` strategy, from the environment or a file, never from the YAML.
void read_hash_key(Reader& r, const Fields& f, MaskingConfig& masking) {
  const Value* env = f.find("hash_key_env");
  const Value* file = f.find("hash_key_file");
  if (env != nullptr && file != nullptr) {
    r.problem(*file, fmt::format("{}: give hash_key_env or hash_key_file, not both", f.where()));
    return;
  }
  if (env != nullptr) {
    auto secret = r.read_env_secret(*env);
    if (!secret) return;
    masking.hash_key_env = secret->name;
    if (secret->value) masking.hash_key = std::move(*secret->value);
  } else if (file != nullptr) {
    auto path = r.read_path(*file);
    if (!path) return;
    masking.hash_key_file = *path;
    if (auto key = r.read_secret_file(*file, *path)) masking.hash_key = std::move(*key);
  }
}

bool uses_hash_strategy(const MaskingProfileConfig& profile) {
  if (profile.strategy == "hash") return true;
  for (const auto& [detector, strategy] : profile.strategies)
    if (strategy == "hash") return true;
  for (const auto& c : profile.columns)
    if (c.action == "hash") return true;
  return false;
}

bool check_strategy(Reader& r, const Value& v, const std::string& name,
                    const MaskingVocabulary& vocabulary) {
  if (is_known(vocabulary.strategies, name)) return true;
  r.problem(v, fmt::format("{}: unknown strategy \"{}\" (expected {})", v.path, name,
                           names(vocabulary.strategies)));
  return false;
}

// A strategy name. YAML reads a bare `null` as no value at all: say how to write it.
std::optional<std::string> read_strategy(Reader& r, const Value& v,
                                         const MaskingVocabulary& vocabulary) {
  if (v.node.IsNull()) {
    r.problem(v, fmt::format("{}: expected a strategy; write the null strategy as \"null\", in "
                             "quotes",
                             v.path));
    return std::nullopt;
  }
  auto s = r.read_name(v);
  if (s && !check_strategy(r, v, *s, vocabulary)) return std::nullopt;
  return s;
}

MaskingProfileConfig read_masking_profile(Reader& r, const Value& v,
                                          const MaskingVocabulary& vocabulary) {
  Fields f = r.fields(v, {"detectors", "strategy", "strategies", "columns", "custom"});
  MaskingProfileConfig profile;
  // Detectors a `strategies` key may name: the built-in ones, then the custom ones read.
  std::vector<std::string> known = vocabulary.detectors;
  if (const Value* x = f.find("detectors")) {
    r.for_each_item(*x, [&](const Value& item) {
      auto s = r.read_name(item);
      if (!s) return;
      if (!is_known(vocabulary.detectors, *s)) {
        r.problem(item, fmt::format("{}: unknown detector \"{}\" (expected {}, or a custom "
                                    "detector under custom)",
                                    item.path, *s, names(vocabulary.detectors)));
        return;
      }
      profile.detectors.push_back(std::move(*s));
    });
  }
  if (const Value* x = f.find("strategy")) {
    if (auto s = read_strategy(r, *x, vocabulary)) profile.strategy = *s;
  }
  if (const Value* x = f.find("custom")) {
    r.for_each_item(*x, [&](const Value& item) {
      Fields c = r.fields(item, {"name", "regex", "words"});
      CustomDetectorConfig custom;
      custom.line = c.line();
      if (!r.require_name(c, "name", custom.name)) return;
      const Value* name = c.find("name");
      if (!is_identifier(custom.name)) {
        r.problem(*name, fmt::format("{}: \"{}\" is not a detector name (lower-case letters, "
                                     "digits and _)",
                                     name->path, custom.name));
        return;
      }
      if (contains(known, custom.name)) {
        r.problem(*name,
                  fmt::format("{}: detector \"{}\" is already defined", name->path, custom.name));
        return;
      }
      const Value* regex = c.find("regex");
      const Value* words = c.find("words");
      if ((regex == nullptr) == (words == nullptr)) {
        r.problem(c.line(), fmt::format("{}: give regex or words (one of them)", item.path));
        return;
      }
      if (regex != nullptr) {
        auto pattern = r.read_name(*regex);
        if (!pattern) return;
        if (auto checked = check_regex(vocabulary, *pattern); !checked) {
          r.problem(*regex,
                    fmt::format("{}: invalid regex: {}", regex->path, checked.error().message));
          return;
        }
        custom.regex = std::move(*pattern);
      } else {
        custom.words = r.read_string_list(*words);
        if (custom.words.empty()) {
          r.problem(*words, fmt::format("{} must not be empty", words->path));
          return;
        }
      }
      known.push_back(custom.name);
      profile.custom.push_back(std::move(custom));
    });
  }
  if (const Value* x = f.find("strategies")) {
    if (!x->node.IsNull() && !x->node.IsMap()) {
      r.problem(*x, fmt::format("{}: expected a map of detector: strategy, got {}", x->path,
                                kind_of(x->node)));
    } else if (x->node.IsMap()) {
      for (const auto& entry : x->node) {
        const YAML::Node key = entry.first;
        const YAML::Node value = entry.second;
        const Value item{value, line_of(key) > 0 ? line_of(key) : x->line,
                         fmt::format("{}.{}", x->path, key.IsScalar() ? key.Scalar() : "?")};
        if (!key.IsScalar() || (!vocabulary.detectors.empty() && !contains(known, key.Scalar()))) {
          r.problem(item, fmt::format("{}: unknown detector \"{}\"", x->path,
                                      key.IsScalar() ? key.Scalar() : "?"));
          continue;
        }
        if (auto s = read_strategy(r, item, vocabulary))
          profile.strategies.emplace(key.Scalar(), *s);
      }
    }
  }
  if (const Value* x = f.find("columns")) {
    r.for_each_item(*x, [&](const Value& item) {
      Fields c = r.fields(item, {"match", "action"});
      ColumnMaskConfig column;
      column.line = c.line();
      bool ok = r.require_name(c, "match", column.match);
      ok = r.require_name(c, "action", column.action) && ok;
      if (ok && !is_known(vocabulary.strategies, column.action)) {
        r.problem(*c.find("action"),
                  fmt::format("{}: \"{}\" is not a masking action name (expected {})", item.path,
                              column.action, names(vocabulary.strategies)));
        ok = false;
      }
      if (ok) profile.columns.push_back(std::move(column));
    });
  }
  return profile;
}

}  // namespace

void read_masking(Reader& r, const Value& v, const MaskingVocabulary& vocabulary,
                  MaskingConfig& masking) {
  Fields f = r.fields(v, {"profiles", "hash_key_env", "hash_key_file"});
  read_hash_key(r, f, masking);
  const Value* profiles = f.find("profiles");
  if (profiles == nullptr || profiles->node.IsNull()) return;
  if (!profiles->node.IsMap()) {
    r.problem(*profiles, fmt::format("{}: expected a map of masking profiles, got {}",
                                     profiles->path, kind_of(profiles->node)));
    return;
  }
  for (const auto& entry : profiles->node) {
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    const int key_line = line_of(key) > 0 ? line_of(key) : profiles->line;
    if (!key.IsScalar() || key.Scalar().empty()) {
      r.problem(key_line, fmt::format("{}: profile names must be plain names", profiles->path));
      continue;
    }
    const std::string name = key.Scalar();
    if (masking.profiles.contains(name)) {
      r.problem(key_line, fmt::format("duplicate masking profile \"{}\"", name));
      continue;
    }
    const int value_line = line_of(value) > 0 ? line_of(value) : key_line;
    const Value profile_value{value, value_line, fmt::format("{}.{}", profiles->path, name)};
    MaskingProfileConfig profile = read_masking_profile(r, profile_value, vocabulary);
    profile.name = name;
    profile.line = key_line;
    if (name == "none" &&
        (!profile.detectors.empty() || !profile.columns.empty() || !profile.custom.empty())) {
      r.problem(key_line, "masking profile \"none\" means no masking; it must be empty");
    }
    if (masking.hash_key.empty() && uses_hash_strategy(profile)) {
      r.problem(key_line, fmt::format("{}: the hash strategy needs a key: set masking.hash_key_env "
                                      "or masking.hash_key_file",
                                      profile_value.path));
    }
    masking.profiles.emplace(name, std::move(profile));
  }
}

}  // namespace portcullis::config
