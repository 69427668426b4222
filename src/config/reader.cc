// The reading kit of the configuration loader (reader.h): typed values, checked maps, paths and
// secrets, and the report of every problem found.
#include "config/reader.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "config/units.h"

namespace portcullis::config {
namespace fs = std::filesystem;

namespace {

// Beyond this many problems the rest are counted, not listed: a wrong file (a binary, a
// different YAML) would otherwise bury the first, most useful lines.
constexpr std::size_t kMaxProblems = 100;
// A password file holds one password.
constexpr std::uintmax_t kMaxPasswordFileSize = 64u << 10;

}  // namespace

bool is_identifier(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

std::string errno_message(int err) {
  return std::error_code(err, std::generic_category()).message();
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() || mark.line < 0 ? 0 : mark.line + 1;
}

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("expected [IPV6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error("expected HOST:PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error("an IPv6 address must be written in brackets, as [::1]:5432");
    }
  }
  if (host.empty()) {
    return make_error("the host is missing (expected HOST:PORT)");
  }
  if (std::any_of(host.begin(), host.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '/' || c == '[' || c == ']';
      })) {
    return make_error("the host is not a valid name or address");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
    return make_error("the port must be a number");
  }
  if (value > 65535 || (value == 0 && !allow_port_zero)) {
    return make_error(allow_port_zero ? "the port must be between 0 and 65535"
                                      : "the port must be between 1 and 65535");
  }
  return Endpoint{.host = std::string(host), .port = static_cast<uint16_t>(value)};
}

// ---- Problems

void Problems::add(int line, std::string message) {
  if (items_.size() >= kMaxProblems) {
    ++dropped_;
    return;
  }
  items_.push_back({line, std::move(message)});
}

std::string Problems::report() {
  std::stable_sort(items_.begin(), items_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [line, message] : items_) {
    if (!out.empty()) out += '\n';
    if (line > 0) {
      out += fmt::format("{}:{}: {}", file_, line, message);
    } else {
      out += fmt::format("{}: {}", file_, message);
    }
  }
  if (dropped_ > 0) out += fmt::format("\n{}: {} more problems not shown", file_, dropped_);
  return out;
}

// ---- Fields

Fields::Fields(Problems& problems, const Value& map,
               std::initializer_list<std::string_view> allowed)
    : path_(map.path), line_(map.line) {
  const YAML::Node& node = map.node;
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    problems.add(map.line,
                 fmt::format("{}: expected a map of settings, got {}", where(), kind_of(node)));
    return;
  }
  // yaml-cpp's iterators hand out temporaries: copy the (cheap, shared) node handles.
  for (const auto& entry : node) {
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    const int key_line = line_of(key) > 0 ? line_of(key) : line_;
    if (!key.IsScalar()) {
      problems.add(key_line, fmt::format("{}: keys must be plain names", where()));
      continue;
    }
    const std::string& name = key.Scalar();
    if (!contains(allowed, name)) {
      std::string hint;
      if (name == "password") hint = " (use password_env or password_file)";
      problems.add(key_line, fmt::format("unknown key \"{}\" in {}{}", name, where(), hint));
      continue;
    }
    if (find(name) != nullptr) {
      problems.add(key_line, fmt::format("duplicate key \"{}\" in {}", name, where()));
      continue;
    }
    const int value_line = line_of(value) > 0 ? line_of(value) : key_line;
    entries_.push_back(
        Value{value, value_line, path_.empty() ? name : fmt::format("{}.{}", path_, name)});
  }
}

const Value* Fields::find(std::string_view key) const {
  const std::string full = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  for (const auto& v : entries_)
    if (v.path == full) return &v;
  return nullptr;
}

// ---- Reader: scalars

std::optional<std::string> Reader::read_string(const Value& v) {
  if (v.node.IsScalar()) return v.node.Scalar();
  problem(v, fmt::format("{}: expected a string, got {}", v.path, kind_of(v.node)));
  return std::nullopt;
}

std::optional<std::string> Reader::read_name(const Value& v) {
  auto s = read_string(v);
  if (s && s->empty()) {
    problem(v, fmt::format("{} must not be empty", v.path));
    return std::nullopt;
  }
  return s;
}

std::optional<bool> Reader::read_bool(const Value& v) {
  bool out = false;
  if (v.node.IsScalar() && YAML::convert<bool>::decode(v.node, out)) return out;
  problem(v, fmt::format("{}: expected true or false", v.path));
  return std::nullopt;
}

std::optional<std::uint64_t> Reader::read_count(const Value& v, std::uint64_t min) {
  if (v.node.IsScalar()) {
    const std::string& s = v.node.Scalar();
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) {
      if (n >= min) return n;
      problem(v, fmt::format("{} must be at least {}", v.path, min));
      return std::nullopt;
    }
  }
  problem(v, fmt::format("{}: expected a whole number", v.path));
  return std::nullopt;
}

std::optional<Duration> Reader::read_duration(const Value& v, bool allow_zero) {
  if (!v.node.IsScalar()) {
    problem(v, fmt::format("{}: expected a duration such as 30s, got {}", v.path, kind_of(v.node)));
    return std::nullopt;
  }
  auto d = parse_duration(v.node.Scalar());
  if (!d) {
    problem(v, fmt::format("{}: {}, got \"{}\"", v.path, d.error().message, v.node.Scalar()));
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    problem(v, fmt::format("{} must be longer than zero", v.path));
    return std::nullopt;
  }
  return *d;
}

std::optional<std::size_t> Reader::read_size(const Value& v) {
  if (!v.node.IsScalar()) {
    problem(v, fmt::format("{}: expected a size such as 64KiB, got {}", v.path, kind_of(v.node)));
    return std::nullopt;
  }
  auto s = parse_size(v.node.Scalar());
  if (!s) {
    problem(v, fmt::format("{}: {}, got \"{}\"", v.path, s.error().message, v.node.Scalar()));
    return std::nullopt;
  }
  return *s;
}

std::optional<Endpoint> Reader::read_endpoint(const Value& v, bool allow_port_zero) {
  auto s = read_string(v);
  if (!s) return std::nullopt;
  auto endpoint = parse_endpoint(*s, allow_port_zero);
  if (!endpoint) {
    problem(v, fmt::format("{}: {}, got \"{}\"", v.path, endpoint.error().message, *s));
    return std::nullopt;
  }
  endpoint->line = v.line;
  return *endpoint;
}

bool Reader::require_name(const Fields& f, std::string_view key, std::string& out) {
  const Value* v = f.find(key);
  if (v == nullptr) {
    problems_.add(f.line(), fmt::format("{}: missing required key \"{}\"", f.path(), key));
    return false;
  }
  auto s = read_name(*v);
  if (!s) return false;
  out = std::move(*s);
  return true;
}

// ---- Reader: paths and secrets

fs::path Reader::resolve(const fs::path& p) const {
  return (p.is_absolute() ? p : base_dir_ / p).lexically_normal();
}

std::optional<fs::path> Reader::read_path(const Value& v) {
  auto s = read_name(v);
  if (!s) return std::nullopt;
  return resolve(*s);
}

std::optional<fs::path> Reader::read_existing_file(const Value& v) {
  auto p = read_path(v);
  if (!p) return std::nullopt;
  std::error_code ec;
  if (fs::is_directory(*p, ec)) {
    problem(v, fmt::format("{}: {} is a folder, not a file", v.path, p->string()));
    return std::nullopt;
  }
  std::ifstream in(*p, std::ios::binary);
  if (!in) {
    problem(v, fmt::format("{}: cannot read {}: {}", v.path, p->string(), errno_message(errno)));
    return std::nullopt;
  }
  return p;
}

std::optional<Reader::EnvSecret> Reader::read_env_secret(const Value& v) {
  auto name = read_name(v);
  if (!name) return std::nullopt;
  if (!is_env_name(*name)) {
    problem(v, fmt::format("{}: \"{}\" is not an environment variable name", v.path, *name));
    return std::nullopt;
  }
  EnvSecret out{.name = *name, .value = std::nullopt};
  const char* value = std::getenv(name->c_str());
  if (value == nullptr || *value == '\0') {
    problem(v, fmt::format("{}: environment variable {} is {}", v.path, *name,
                           value == nullptr ? "not set" : "empty"));
  } else {
    out.value = Secret(value);
  }
  return out;
}

std::optional<Secret> Reader::read_secret_file(const Value& v, const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    problem(v, fmt::format("{}: {} is a folder, not a file", v.path, path.string()));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem(v, fmt::format("{}: cannot read {}: {}", v.path, path.string(), errno_message(errno)));
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxPasswordFileSize) {
      OPENSSL_cleanse(text.data(), text.size());
      problem(v, fmt::format("{}: {} is larger than {} bytes; it should hold one password", v.path,
                             path.string(), kMaxPasswordFileSize));
      return std::nullopt;
    }
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  // Editors and `echo` end the file with a newline that is not part of the password.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    problem(v, fmt::format("{}: {} is empty", v.path, path.string()));
    return std::nullopt;
  }
  return Secret(std::move(text));
}

// ---- Reader: lists

std::vector<std::string> Reader::read_string_list(const Value& v) {
  std::vector<std::string> out;
  for_each_item(v, [&](const Value& item) {
    if (auto s = read_name(item)) out.push_back(std::move(*s));
  });
  return out;
}

std::vector<std::string> Reader::read_identifier_list(const Value& v, std::string_view what) {
  std::vector<std::string> out;
  for_each_item(v, [&](const Value& item) {
    auto s = read_name(item);
    if (!s) return;
    if (!is_identifier(*s)) {
      problem(item, fmt::format("{}: \"{}\" is not a {} name (lower-case letters, digits and _)",
                                item.path, *s, what));
      return;
    }
    out.push_back(std::move(*s));
  });
  return out;
}

}  // namespace portcullis::config
