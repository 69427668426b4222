// The reading kit shared by every section of portcullis.yaml: typed values with their line,
// unknown and duplicate keys, durations, sizes, paths and secrets, problems collected in order.
// Hand-written rather than a generic mapper so that every problem names its line and the path
// of the setting, all problems are reported at once, and no secret value reaches a message.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "config/config.h"

namespace portcullis::config {

// The name of one value of an enum as written in the file.
template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

// "a, b or c", for messages that list the allowed values.
template <class Range, class Name>
std::string one_of(const Range& values, Name name_of) {
  std::string out;
  std::size_t i = 0;
  const std::size_t n = std::size(values);
  for (const auto& v : values) {
    if (i > 0) out += (i + 1 == n) ? " or " : ", ";
    out += name_of(v);
    ++i;
  }
  return out;
}

bool contains(const auto& range, std::string_view value) {
  return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

// Lower-case letters, digits and _, starting with a letter: detector and statement kind names.
bool is_identifier(std::string_view s);
bool is_env_name(std::string_view s);
bool is_loopback(const std::string& host);
std::string errno_message(int err);

// 1-based line of a node, or 0 when yaml-cpp has no position for it.
int line_of(const YAML::Node& node);
// "a string", "a list", ...: what was found where something else was expected.
std::string_view kind_of(const YAML::Node& node);

// HOST:PORT or [IPV6]:PORT. The error says what is wrong, without repeating the text.
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero);

// Every problem found, kept with its line so that the report reads top to bottom.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void add(int line, std::string message);
  bool empty() const { return items_.empty(); }
  // One problem per line, `FILE:LINE: message`, sorted by line.
  std::string report();

 private:
  std::string file_;
  std::vector<std::pair<int, std::string>> items_;
  std::size_t dropped_ = 0;
};

// One setting: its YAML node, the line to report it at and its dotted path for messages.
struct Value {
  YAML::Node node;
  int line = 0;
  std::string path;
};

// The entries of one YAML map, checked against the keys the schema allows there. A missing
// map (the key written with no value) reads as an empty one.
class Fields {
 public:
  Fields(Problems& problems, const Value& map, std::initializer_list<std::string_view> allowed);

  const Value* find(std::string_view key) const;
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  std::string where() const { return path_.empty() ? "the top level" : path_; }

 private:
  std::string path_;
  int line_;
  std::vector<Value> entries_;
};

// Reads typed values, reporting each problem at the value's line. A read that fails returns
// nothing (or an empty list) after reporting; the caller keeps its default and goes on, so
// that one pass finds every problem.
class Reader {
 public:
  Reader(Problems& problems, std::filesystem::path base_dir)
      : problems_(problems), base_dir_(std::move(base_dir)) {}

  Problems& problems() { return problems_; }
  void problem(const Value& v, std::string message) { problems_.add(v.line, std::move(message)); }
  void problem(int line, std::string message) { problems_.add(line, std::move(message)); }
  Fields fields(const Value& map, std::initializer_list<std::string_view> allowed) {
    return Fields(problems_, map, allowed);
  }

  // ---- scalars
  std::optional<std::string> read_string(const Value& v);
  std::optional<std::string> read_name(const Value& v);  // a non-empty string
  std::optional<bool> read_bool(const Value& v);
  std::optional<std::uint64_t> read_count(const Value& v, std::uint64_t min);
  std::optional<Duration> read_duration(const Value& v, bool allow_zero);
  std::optional<std::size_t> read_size(const Value& v);
  std::optional<Endpoint> read_endpoint(const Value& v, bool allow_port_zero);

  template <class E, std::size_t N>
  std::optional<E> read_enum(const Value& v, const std::array<EnumName<E>, N>& names) {
    const auto expected = one_of(names, [](const auto& n) { return n.name; });
    if (v.node.IsScalar()) {
      for (const auto& n : names)
        if (n.name == v.node.Scalar()) return n.value;
      problem(v, fmt::format("{}: unknown value \"{}\" (expected {})", v.path, v.node.Scalar(),
                             expected));
    } else {
      problem(v, fmt::format("{}: expected {}, got {}", v.path, expected, kind_of(v.node)));
    }
    return std::nullopt;
  }

  // Reads a required, non-empty string; reports it missing at the map's line.
  bool require_name(const Fields& f, std::string_view key, std::string& out);

  // ---- paths and secrets
  // Relative paths resolve against the folder of the configuration file.
  std::filesystem::path resolve(const std::filesystem::path& p) const;
  std::optional<std::filesystem::path> read_path(const Value& v);
  // A path to a file that must exist now (certificates, JWKS): better found by check-config
  // than by the first client to connect.
  std::optional<std::filesystem::path> read_existing_file(const Value& v);
  // The name of an environment variable holding a secret, and the secret it holds now.
  struct EnvSecret {
    std::string name;
    std::optional<Secret> value;
  };
  std::optional<EnvSecret> read_env_secret(const Value& v);
  // A file holding one secret (a password, a key); `v` is the setting that named it.
  std::optional<Secret> read_secret_file(const Value& v, const std::filesystem::path& path);

  // ---- lists
  // Calls `each` with every item of a list; reports anything that is not a list.
  template <class F>
  void for_each_item(const Value& v, F each) {
    if (v.node.IsNull()) return;
    if (!v.node.IsSequence()) {
      problem(v, fmt::format("{}: expected a list, got {}", v.path, kind_of(v.node)));
      return;
    }
    std::size_t i = 0;
    for (const auto& element : v.node) {
      const YAML::Node item = element;
      each(Value{item, line_of(item) > 0 ? line_of(item) : v.line,
                 fmt::format("{}[{}]", v.path, i++)});
    }
  }

  std::vector<std::string> read_string_list(const Value& v);

  // A list whose items must be among `allowed`.
  template <class Range>
  std::vector<std::string> read_word_list(const Value& v, const Range& allowed) {
    std::vector<std::string> out;
    const auto expected = one_of(allowed, [](std::string_view s) { return s; });
    for_each_item(v, [&](const Value& item) {
      auto s = read_name(item);
      if (!s) return;
      if (!contains(allowed, *s)) {
        problem(item,
                fmt::format("{}: unknown value \"{}\" (expected {})", item.path, *s, expected));
        return;
      }
      out.push_back(std::move(*s));
    });
    return out;
  }

  // Lists of names defined elsewhere (statement kinds, detectors): checked for form only.
  std::vector<std::string> read_identifier_list(const Value& v, std::string_view what);

 private:
  Problems& problems_;
  std::filesystem::path base_dir_;
};

}  // namespace portcullis::config
