// Loading and validating portcullis.yaml. The schema is checked by hand rather than by a
// generic mapper so that every problem names its line and the path of the setting, all
// problems are reported at once, and no secret value ever reaches a message.
#include "policy/config_loader.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <span>
#include <sstream>
#include <system_error>
#include <utility>

#include "masking/detector.h"
#include "masking/masker.h"
#include "masking/strategy.h"
#include "policy/units.h"

namespace portcullis::policy {
namespace fs = std::filesystem;

namespace {

// Beyond this many problems the rest are counted, not listed: a wrong file (a binary, a
// different YAML) would otherwise bury the first, most useful lines.
constexpr std::size_t kMaxProblems = 100;
// A configuration file is small; anything larger is almost certainly the wrong file.
constexpr std::uintmax_t kMaxConfigFileSize = 16u << 20;
// A password file holds one password.
constexpr std::uintmax_t kMaxPasswordFileSize = 64u << 10;

constexpr std::string_view kDefaultStateUrl = "sqlite://var/portcullis.db";
constexpr std::string_view kDefaultSigningKeyFile = "var/signing.key";
constexpr std::string_view kDefaultPostgresListenHost = "127.0.0.1";
constexpr uint16_t kDefaultPostgresListenPort = 15432;

constexpr std::array<std::string_view, 8> kStatementClasses{
    "read", "write", "ddl", "dcl", "admin", "transaction", "session", "unknown"};
constexpr std::array<std::string_view, 2> kSubjectKinds{"user", "service"};

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr std::array<EnumName<PlaintextPolicy>, 3> kPlaintextPolicies{{
    {"loopback", PlaintextPolicy::loopback},
    {"allow", PlaintextPolicy::allow},
    {"never", PlaintextPolicy::never},
}};
constexpr std::array<EnumName<BackendTlsMode>, 4> kBackendTlsModes{{
    {"disable", BackendTlsMode::disable},
    {"prefer", BackendTlsMode::prefer},
    {"require", BackendTlsMode::require},
    {"verify-full", BackendTlsMode::verify_full},
}};
constexpr std::array<EnumName<GuardrailAction>, 3> kGuardrailActions{{
    {"deny", GuardrailAction::deny},
    {"review", GuardrailAction::review},
    {"allow", GuardrailAction::allow},
}};
constexpr std::array<EnumName<WhereCondition>, 2> kWhereConditions{{
    {"absent", WhereCondition::absent},
    {"present", WhereCondition::present},
}};
constexpr std::array<EnumName<AuditDurability>, 2> kAuditDurabilities{{
    {"strict", AuditDurability::strict},
    {"batched", AuditDurability::batched},
}};
constexpr std::array<EnumName<WebhookFormat>, 2> kWebhookFormats{{
    {"json", WebhookFormat::json},
    {"slack", WebhookFormat::slack},
}};

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

bool contains(const auto& range, std::string_view value) {
  return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

// 1-based line of a node, or 0 when yaml-cpp has no position for it.
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

// Every problem found, kept with its line so that the report reads top to bottom.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void add(int line, std::string message) {
    if (items_.size() >= kMaxProblems) {
      ++dropped_;
      return;
    }
    items_.push_back({line, std::move(message)});
  }
  bool empty() const { return items_.empty(); }

  std::string report() {
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
  Fields(Problems& problems, const Value& map, std::initializer_list<std::string_view> allowed)
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

  const Value* find(std::string_view key) const {
    const std::string full = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
    for (const auto& v : entries_)
      if (v.path == full) return &v;
    return nullptr;
  }
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  std::string where() const { return path_.empty() ? "the top level" : path_; }

 private:
  std::string path_;
  int line_;
  std::vector<Value> entries_;
};

// HOST:PORT or [IPV6]:PORT. The error says what is wrong, without repeating the text.
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
  return Endpoint{std::string(host), static_cast<uint16_t>(value)};
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

// Builds a Config from a parsed document. Sections are read in dependency order (connections
// and masking profiles before the rules that name them), whatever their order in the file.
class ConfigParser {
 public:
  ConfigParser(Problems& problems, fs::path base_dir)
      : problems_(problems), base_dir_(std::move(base_dir)) {}

  void parse(const YAML::Node& root, Config& config) {
    if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
      problems_.add(
          std::max(line_of(root), 1),
          fmt::format("expected a map of settings at the top level, got {}", kind_of(root)));
      return;
    }
    Fields top(problems_, Value{root, 1, ""},
               {"listen", "tls", "limits", "state", "identity", "api", "connections", "access",
                "guardrails", "masking", "audit", "reviews", "notifications"});
    parse_listen(top.find("listen"), config.listen);
    if (const Value* v = top.find("tls")) config.tls = parse_tls(*v);
    if (const Value* v = top.find("limits")) parse_limits(*v, config.limits);
    parse_state(top.find("state"), config.state_url);
    parse_identity(top.find("identity"), config.identity);
    if (const Value* v = top.find("api")) parse_api(*v, config.api);
    if (const Value* v = top.find("connections")) parse_connections(*v, config.connections);
    if (const Value* v = top.find("masking")) parse_masking(*v, config.masking);
    if (const Value* v = top.find("access")) parse_access(*v, config);
    if (const Value* v = top.find("guardrails")) parse_guardrails(*v, config);
    if (const Value* v = top.find("audit")) parse_audit(*v, config.audit);
    if (const Value* v = top.find("reviews")) parse_reviews(*v, config.reviews);
    if (const Value* v = top.find("notifications")) parse_notifications(*v, config.notifications);
    check_listeners(config, top.find("listen"), top.find("tls"));
  }

 private:
  void problem(const Value& v, std::string message) { problems_.add(v.line, std::move(message)); }

  // ---- scalars -------------------------------------------------------------------------

  std::optional<std::string> read_string(const Value& v) {
    if (v.node.IsScalar()) return v.node.Scalar();
    problem(v, fmt::format("{}: expected a string, got {}", v.path, kind_of(v.node)));
    return std::nullopt;
  }

  std::optional<std::string> read_name(const Value& v) {
    auto s = read_string(v);
    if (s && s->empty()) {
      problem(v, fmt::format("{} must not be empty", v.path));
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> read_bool(const Value& v) {
    bool out = false;
    if (v.node.IsScalar() && YAML::convert<bool>::decode(v.node, out)) return out;
    problem(v, fmt::format("{}: expected true or false", v.path));
    return std::nullopt;
  }

  std::optional<std::uint64_t> read_count(const Value& v, std::uint64_t min) {
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

  std::optional<Duration> read_duration(const Value& v, bool allow_zero) {
    if (!v.node.IsScalar()) {
      problem(v,
              fmt::format("{}: expected a duration such as 30s, got {}", v.path, kind_of(v.node)));
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

  std::optional<std::size_t> read_size(const Value& v) {
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

  std::optional<Endpoint> read_endpoint(const Value& v, bool allow_port_zero) {
    auto s = read_string(v);
    if (!s) return std::nullopt;
    auto endpoint = parse_endpoint(*s, allow_port_zero);
    if (!endpoint) {
      problem(v, fmt::format("{}: {}, got \"{}\"", v.path, endpoint.error().message, *s));
      return std::nullopt;
    }
    return *endpoint;
  }

  fs::path resolve(const fs::path& p) const {
    return (p.is_absolute() ? p : base_dir_ / p).lexically_normal();
  }

  std::optional<fs::path> read_path(const Value& v) {
    auto s = read_name(v);
    if (!s) return std::nullopt;
    return resolve(*s);
  }

  // A path to a file that must exist now (certificates, JWKS): better found by check-config
  // than by the first client to connect.
  std::optional<fs::path> read_existing_file(const Value& v) {
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

  // ---- lists ---------------------------------------------------------------------------

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

  std::vector<std::string> read_string_list(const Value& v) {
    std::vector<std::string> out;
    for_each_item(v, [&](const Value& item) {
      if (auto s = read_name(item)) out.push_back(std::move(*s));
    });
    return out;
  }

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
  std::vector<std::string> read_identifier_list(const Value& v, std::string_view what) {
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

  // ---- sections ------------------------------------------------------------------------

  void parse_listen(const Value* v, ListenConfig& listen) {
    if (v != nullptr) {
      Fields f(problems_, *v, {"postgres", "http"});
      // Port 0 lets the system choose, which tests use to avoid collisions.
      if (const Value* p = f.find("postgres")) listen.postgres = read_endpoint(*p, true);
      if (const Value* h = f.find("http")) listen.http = read_endpoint(*h, true);
      if (f.find("postgres") != nullptr) return;
    }
    listen.postgres = Endpoint{std::string(kDefaultPostgresListenHost), kDefaultPostgresListenPort};
  }

  std::optional<TlsConfig> parse_tls(const Value& v) {
    Fields f(problems_, v, {"cert_file", "key_file", "plaintext"});
    TlsConfig tls;
    bool complete = true;
    for (auto [key, target] :
         {std::pair{"cert_file", &tls.cert_file}, std::pair{"key_file", &tls.key_file}}) {
      if (const Value* file = f.find(key)) {
        if (auto p = read_existing_file(*file))
          *target = *p;
        else
          complete = false;
      } else {
        problems_.add(f.line(), fmt::format("tls: missing required key \"{}\"", key));
        complete = false;
      }
    }
    if (const Value* p = f.find("plaintext")) {
      if (auto policy = read_enum(*p, kPlaintextPolicies)) tls.plaintext = *policy;
    }
    if (!complete) return std::nullopt;
    return tls;
  }

  void parse_limits(const Value& v, LimitsConfig& limits) {
    Fields f(problems_, v,
             {"max_startup_packet", "max_message_size", "max_statement_size", "handshake_timeout",
              "idle_timeout", "max_connections", "max_unauthenticated",
              "max_unauthenticated_per_address", "max_buffered_total"});
    if (const Value* x = f.find("max_startup_packet")) {
      if (auto s = read_size(*x)) limits.max_startup_packet = *s;
    }
    if (const Value* x = f.find("max_message_size")) {
      if (auto s = read_size(*x)) limits.max_message_size = *s;
    }
    if (const Value* x = f.find("max_statement_size")) {
      if (auto s = read_size(*x)) limits.max_statement_size = *s;
    }
    if (const Value* x = f.find("handshake_timeout")) {
      if (auto d = read_duration(*x, false)) limits.handshake_timeout = *d;
    }
    if (const Value* x = f.find("idle_timeout")) {
      if (auto d = read_duration(*x, true)) limits.idle_timeout = *d;
    }
    if (const Value* x = f.find("max_connections")) {
      if (auto n = read_count(*x, 1)) limits.max_connections = *n;
    }
    if (const Value* x = f.find("max_unauthenticated")) {
      if (auto n = read_count(*x, 1)) limits.max_unauthenticated = *n;
    }
    if (const Value* x = f.find("max_unauthenticated_per_address")) {
      if (auto n = read_count(*x, 1)) limits.max_unauthenticated_per_address = *n;
    }
    if (const Value* x = f.find("max_buffered_total")) {
      if (auto s = read_size(*x)) limits.max_buffered_total = *s;
    }
    // A startup packet is at least its length and protocol version (8 bytes); the smallest
    // useful one, with user and database, is larger still.
    constexpr std::size_t kMinStartupPacket = 64;
    constexpr std::size_t kMinMessageSize = 1024;
    if (limits.max_startup_packet < kMinStartupPacket) {
      problems_.add(f.line(), fmt::format("limits.max_startup_packet must be at least {} bytes",
                                          kMinStartupPacket));
    }
    if (limits.max_message_size < kMinMessageSize) {
      problems_.add(f.line(), fmt::format("limits.max_message_size must be at least {} bytes",
                                          kMinMessageSize));
    }
    if (limits.max_statement_size < kMinMessageSize) {
      problems_.add(f.line(), fmt::format("limits.max_statement_size must be at least {} bytes",
                                          kMinMessageSize));
    }
    // Otherwise a single message within max_message_size could never be held.
    if (limits.max_buffered_total < limits.max_message_size) {
      problems_.add(f.line(), "limits.max_buffered_total must be at least limits.max_message_size");
    }
  }

  void parse_state(const Value* v, std::string& state_url) {
    std::string url(kDefaultStateUrl);
    int line = 0;
    if (v != nullptr) {
      Fields f(problems_, *v, {"url"});
      if (const Value* x = f.find("url")) {
        auto s = read_name(*x);
        if (!s) return;
        url = *s;
        line = x->line;
      }
    }
    constexpr std::string_view kSqlite = "sqlite://";
    if (url.starts_with(kSqlite)) {
      const std::string rest = url.substr(kSqlite.size());
      if (rest.empty() || rest == "/") {
        problems_.add(line, "state.url: the SQLite file is missing (sqlite://PATH)");
        return;
      }
      state_url = std::string(kSqlite) + resolve(rest).string();
      return;
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
      state_url = url;
      return;
    }
    // The value is not repeated: a mistyped PostgreSQL URL may carry a password.
    problems_.add(line, "state.url: expected sqlite://PATH or postgresql://...");
  }

  void parse_identity(const Value* v, IdentityConfig& identity) {
    identity.signing_key_file = resolve(std::string(kDefaultSigningKeyFile));
    if (v == nullptr) return;
    Fields f(
        problems_, *v,
        {"signing_key_file", "issuer", "oidc", "leeway", "default_token_ttl", "max_token_ttl"});
    // The key is created on first start, so it need not exist yet.
    if (const Value* x = f.find("signing_key_file")) {
      if (auto p = read_path(*x)) identity.signing_key_file = *p;
    }
    if (const Value* x = f.find("issuer")) {
      if (auto s = read_name(*x)) identity.issuer = *s;
    }
    if (const Value* x = f.find("leeway")) {
      if (auto d = read_duration(*x, true)) identity.leeway = *d;
    }
    const Value* default_ttl = f.find("default_token_ttl");
    if (default_ttl != nullptr) {
      if (auto d = read_duration(*default_ttl, false)) identity.default_token_ttl = *d;
    }
    if (const Value* x = f.find("max_token_ttl")) {
      if (auto d = read_duration(*x, false)) identity.max_token_ttl = *d;
    }
    if (identity.default_token_ttl > identity.max_token_ttl) {
      problems_.add(default_ttl ? default_ttl->line : f.line(),
                    fmt::format("identity.default_token_ttl ({}) is longer than "
                                "identity.max_token_ttl ({})",
                                format_duration(identity.default_token_ttl),
                                format_duration(identity.max_token_ttl)));
    }
    if (const Value* x = f.find("oidc")) {
      for_each_item(*x, [&](const Value& item) {
        if (auto issuer = parse_oidc(item)) identity.oidc.push_back(std::move(*issuer));
      });
    }
  }

  std::optional<OidcIssuerConfig> parse_oidc(const Value& v) {
    Fields f(problems_, v,
             {"issuer", "audience", "jwks_file", "jwks_url", "groups_claim", "subject_claim"});
    OidcIssuerConfig oidc;
    oidc.line = f.line();
    bool ok = require_name(f, "issuer", oidc.issuer);
    ok = require_name(f, "audience", oidc.audience) && ok;
    const Value* file = f.find("jwks_file");
    const Value* url = f.find("jwks_url");
    if (file != nullptr && url != nullptr) {
      problem(*url, fmt::format("{}: give jwks_file or jwks_url, not both", f.path()));
      ok = false;
    } else if (file == nullptr && url == nullptr) {
      problems_.add(f.line(), fmt::format("{}: missing required key \"jwks_file\" or \"jwks_url\"",
                                          f.path()));
      ok = false;
    } else if (file != nullptr) {
      if (auto p = read_existing_file(*file))
        oidc.jwks_file = *p;
      else
        ok = false;
    } else if (auto s = read_name(*url)) {
      if (!s->starts_with("https://") && !s->starts_with("http://")) {
        problem(*url, fmt::format("{}: expected an https:// URL", url->path));
        ok = false;
      }
      oidc.jwks_url = *s;
    } else {
      ok = false;
    }
    if (const Value* x = f.find("groups_claim")) {
      if (auto s = read_name(*x)) oidc.groups_claim = *s;
    }
    if (const Value* x = f.find("subject_claim")) {
      if (auto s = read_name(*x)) oidc.subject_claim = *s;
    }
    if (!ok) return std::nullopt;
    return oidc;
  }

  void parse_api(const Value& v, ApiConfig& api) {
    Fields f(problems_, v, {"admin_groups", "auditor_groups"});
    if (const Value* x = f.find("admin_groups")) api.admin_groups = read_string_list(*x);
    if (const Value* x = f.find("auditor_groups")) api.auditor_groups = read_string_list(*x);
  }

  // Reads a required, non-empty string; reports it missing at the map's line.
  bool require_name(const Fields& f, std::string_view key, std::string& out) {
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

  void parse_connections(const Value& v, std::vector<ConnectionConfig>& connections) {
    for_each_item(v, [&](const Value& item) {
      ConnectionConfig c = parse_connection(item);
      if (c.name.empty()) return;
      for (const auto& other : connections) {
        if (other.name == c.name) {
          problem(item, fmt::format("{}: connection name \"{}\" is already used at line {}",
                                    item.path, c.name, other.line));
          return;
        }
      }
      connections.push_back(std::move(c));
    });
  }

  ConnectionConfig parse_connection(const Value& v) {
    Fields f(
        problems_, v,
        {"name", "kind", "address", "database", "tls", "tls_ca_file", "credentials", "lockdown"});
    ConnectionConfig c;
    c.line = f.line();
    c.kind = "postgres";
    require_name(f, "name", c.name);
    if (const Value* x = f.find("kind")) {
      if (auto s = read_name(*x)) {
        if (*s != "postgres") {
          problem(*x, fmt::format("{}: kind \"{}\" is not supported yet (supported: postgres)",
                                  x->path, *s));
        }
        c.kind = *s;
      }
    }
    if (const Value* x = f.find("address")) {
      if (auto e = read_endpoint(*x, false)) c.address = *e;
    } else {
      problems_.add(f.line(), fmt::format("{}: missing required key \"address\"", f.path()));
    }
    require_name(f, "database", c.database);
    if (const Value* x = f.find("tls")) {
      if (auto mode = read_enum(*x, kBackendTlsModes)) c.tls = *mode;
    }
    if (const Value* x = f.find("tls_ca_file")) {
      if (auto p = read_existing_file(*x)) c.tls_ca_file = *p;
    }
    if (const Value* x = f.find("lockdown")) {
      if (auto b = read_bool(*x)) c.lockdown = *b;
    }
    if (const Value* x = f.find("credentials")) parse_credentials(*x, c.credentials);
    return c;
  }

  void parse_credentials(const Value& v, std::map<std::string, CredentialProfile>& profiles) {
    if (v.node.IsNull()) return;
    if (!v.node.IsMap()) {
      problem(v, fmt::format("{}: expected a map of credential profiles, got {}", v.path,
                             kind_of(v.node)));
      return;
    }
    for (const auto& entry : v.node) {
      const YAML::Node key = entry.first;
      const YAML::Node value = entry.second;
      const int key_line = line_of(key) > 0 ? line_of(key) : v.line;
      if (!key.IsScalar() || key.Scalar().empty()) {
        problems_.add(key_line, fmt::format("{}: profile names must be plain names", v.path));
        continue;
      }
      const std::string name = key.Scalar();
      if (profiles.contains(name)) {
        problems_.add(key_line,
                      fmt::format("duplicate credential profile \"{}\" in {}", name, v.path));
        continue;
      }
      const int value_line = line_of(value) > 0 ? line_of(value) : key_line;
      CredentialProfile profile =
          parse_credential(Value{value, value_line, fmt::format("{}.{}", v.path, name)});
      profile.name = name;
      profile.line = key_line;
      profiles.emplace(name, std::move(profile));
    }
  }

  CredentialProfile parse_credential(const Value& v) {
    Fields f(problems_, v, {"user", "password_env", "password_file"});
    CredentialProfile profile;
    require_name(f, "user", profile.user);
    const Value* env = f.find("password_env");
    const Value* file = f.find("password_file");
    if (env != nullptr && file != nullptr) {
      problem(*file, fmt::format("{}: give password_env or password_file, not both", f.path()));
      return profile;
    }
    if (env != nullptr) {
      auto name = read_name(*env);
      if (!name) return profile;
      if (!is_env_name(*name)) {
        problem(*env,
                fmt::format("{}: \"{}\" is not an environment variable name", env->path, *name));
        return profile;
      }
      profile.password_env = *name;
      const char* value = std::getenv(name->c_str());
      if (value == nullptr) {
        problem(*env, fmt::format("{}: environment variable {} is not set", env->path, *name));
      } else if (*value == '\0') {
        problem(*env, fmt::format("{}: environment variable {} is empty", env->path, *name));
      } else {
        profile.password = Secret(value);
      }
    } else if (file != nullptr) {
      auto path = read_path(*file);
      if (!path) return profile;
      profile.password_file = *path;
      if (auto password = read_password_file(*file, *path)) profile.password = std::move(*password);
    }
    return profile;
  }

  std::optional<Secret> read_password_file(const Value& v, const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      problem(v, fmt::format("{}: {} is a folder, not a file", v.path, path.string()));
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problem(v,
              fmt::format("{}: cannot read {}: {}", v.path, path.string(), errno_message(errno)));
      return std::nullopt;
    }
    std::string text;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxPasswordFileSize) {
        OPENSSL_cleanse(text.data(), text.size());
        problem(v, fmt::format("{}: {} is larger than {} bytes; it should hold one password",
                               v.path, path.string(), kMaxPasswordFileSize));
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

  void parse_masking(const Value& v, MaskingConfig& masking) {
    Fields f(problems_, v, {"profiles", "hash_key_env", "hash_key_file"});
    parse_hash_key(f, masking);
    const Value* profiles = f.find("profiles");
    if (profiles == nullptr || profiles->node.IsNull()) return;
    if (!profiles->node.IsMap()) {
      problem(*profiles, fmt::format("{}: expected a map of masking profiles, got {}",
                                     profiles->path, kind_of(profiles->node)));
      return;
    }
    for (const auto& entry : profiles->node) {
      const YAML::Node key = entry.first;
      const YAML::Node value = entry.second;
      const int key_line = line_of(key) > 0 ? line_of(key) : profiles->line;
      if (!key.IsScalar() || key.Scalar().empty()) {
        problems_.add(key_line,
                      fmt::format("{}: profile names must be plain names", profiles->path));
        continue;
      }
      const std::string name = key.Scalar();
      if (masking.profiles.contains(name)) {
        problems_.add(key_line, fmt::format("duplicate masking profile \"{}\"", name));
        continue;
      }
      const int value_line = line_of(value) > 0 ? line_of(value) : key_line;
      const Value profile_value{value, value_line, fmt::format("{}.{}", profiles->path, name)};
      MaskingProfileConfig profile = parse_masking_profile(profile_value);
      profile.name = name;
      profile.line = key_line;
      if (name == "none" &&
          (!profile.detectors.empty() || !profile.columns.empty() || !profile.custom.empty())) {
        problems_.add(key_line, "masking profile \"none\" means no masking; it must be empty");
      }
      if (masking.hash_key.empty() && uses_hash_strategy(profile)) {
        problems_.add(key_line,
                      fmt::format("{}: the hash strategy needs a key: set masking.hash_key_env "
                                  "or masking.hash_key_file",
                                  profile_value.path));
      }
      masking.profiles.emplace(name, std::move(profile));
    }
  }

  // The key of the `hash` strategy, from the environment or a file, never from the YAML.
  void parse_hash_key(const Fields& f, MaskingConfig& masking) {
    const Value* env = f.find("hash_key_env");
    const Value* file = f.find("hash_key_file");
    if (env != nullptr && file != nullptr) {
      problem(*file, fmt::format("{}: give hash_key_env or hash_key_file, not both", f.where()));
      return;
    }
    if (env != nullptr) {
      auto name = read_name(*env);
      if (!name) return;
      if (!is_env_name(*name)) {
        problem(*env,
                fmt::format("{}: \"{}\" is not an environment variable name", env->path, *name));
        return;
      }
      masking.hash_key_env = *name;
      const char* value = std::getenv(name->c_str());
      if (value == nullptr || *value == '\0') {
        problem(*env, fmt::format("{}: environment variable {} is {}", env->path, *name,
                                  value == nullptr ? "not set" : "empty"));
      } else {
        masking.hash_key = Secret(value);
      }
    } else if (file != nullptr) {
      auto path = read_path(*file);
      if (!path) return;
      masking.hash_key_file = *path;
      if (auto key = read_password_file(*file, *path)) masking.hash_key = std::move(*key);
    }
  }

  static bool uses_hash_strategy(const MaskingProfileConfig& profile) {
    if (profile.strategy == "hash") return true;
    for (const auto& [detector, strategy] : profile.strategies)
      if (strategy == "hash") return true;
    for (const auto& c : profile.columns)
      if (c.action == "hash") return true;
    return false;
  }

  // A strategy name. YAML reads a bare `null` as no value at all: say how to write it.
  std::optional<std::string> read_strategy(const Value& v) {
    if (v.node.IsNull()) {
      problem(v, fmt::format("{}: expected a strategy; write the null strategy as \"null\", in "
                             "quotes",
                             v.path));
      return std::nullopt;
    }
    auto s = read_name(v);
    if (s && !check_strategy(v, *s)) return std::nullopt;
    return s;
  }

  bool check_strategy(const Value& v, const std::string& name) {
    if (masking::strategy_from_name(name)) return true;
    problem(v, fmt::format("{}: unknown strategy \"{}\" (expected {})", v.path, name,
                           one_of(masking::kStrategyNames, [](std::string_view s) { return s; })));
    return false;
  }

  MaskingProfileConfig parse_masking_profile(const Value& v) {
    Fields f(problems_, v, {"detectors", "strategy", "strategies", "columns", "custom"});
    MaskingProfileConfig profile;
    std::vector<std::string> known(masking::kBuiltinDetectorNames.begin(),
                                   masking::kBuiltinDetectorNames.end());
    if (const Value* x = f.find("detectors")) {
      for_each_item(*x, [&](const Value& item) {
        auto s = read_name(item);
        if (!s) return;
        if (!masking::detector_from_name(*s)) {
          problem(item, fmt::format("{}: unknown detector \"{}\" (expected {}, or a custom "
                                    "detector under custom)",
                                    item.path, *s,
                                    one_of(masking::kBuiltinDetectorNames,
                                           [](std::string_view n) { return n; })));
          return;
        }
        profile.detectors.push_back(std::move(*s));
      });
    }
    if (const Value* x = f.find("strategy")) {
      if (auto s = read_strategy(*x)) profile.strategy = *s;
    }
    if (const Value* x = f.find("custom")) {
      for_each_item(*x, [&](const Value& item) {
        Fields c(problems_, item, {"name", "regex", "words"});
        CustomDetectorConfig custom;
        custom.line = c.line();
        if (!require_name(c, "name", custom.name)) return;
        const Value* name = c.find("name");
        if (!is_identifier(custom.name)) {
          problem(*name, fmt::format("{}: \"{}\" is not a detector name (lower-case letters, "
                                     "digits and _)",
                                     name->path, custom.name));
          return;
        }
        if (contains(known, custom.name)) {
          problem(*name,
                  fmt::format("{}: detector \"{}\" is already defined", name->path, custom.name));
          return;
        }
        const Value* regex = c.find("regex");
        const Value* words = c.find("words");
        if ((regex == nullptr) == (words == nullptr)) {
          problems_.add(c.line(), fmt::format("{}: give regex or words (one of them)", item.path));
          return;
        }
        if (regex != nullptr) {
          auto r = read_name(*regex);
          if (!r) return;
          if (auto checked = masking::check_custom_regex(*r); !checked) {
            problem(*regex,
                    fmt::format("{}: invalid regex: {}", regex->path, checked.error().message));
            return;
          }
          custom.regex = std::move(*r);
        } else {
          custom.words = read_string_list(*words);
          if (custom.words.empty()) {
            problem(*words, fmt::format("{} must not be empty", words->path));
            return;
          }
        }
        known.push_back(custom.name);
        profile.custom.push_back(std::move(custom));
      });
    }
    if (const Value* x = f.find("strategies")) {
      if (!x->node.IsNull() && !x->node.IsMap()) {
        problem(*x, fmt::format("{}: expected a map of detector: strategy, got {}", x->path,
                                kind_of(x->node)));
      } else if (x->node.IsMap()) {
        for (const auto& entry : x->node) {
          const YAML::Node key = entry.first;
          const YAML::Node value = entry.second;
          const Value item{value, line_of(key) > 0 ? line_of(key) : x->line,
                           fmt::format("{}.{}", x->path, key.IsScalar() ? key.Scalar() : "?")};
          if (!key.IsScalar() || !contains(known, key.Scalar())) {
            problem(item, fmt::format("{}: unknown detector \"{}\"", x->path,
                                      key.IsScalar() ? key.Scalar() : "?"));
            continue;
          }
          if (auto s = read_strategy(item)) profile.strategies.emplace(key.Scalar(), *s);
        }
      }
    }
    if (const Value* x = f.find("columns")) {
      for_each_item(*x, [&](const Value& item) {
        Fields c(problems_, item, {"match", "action"});
        ColumnMaskConfig column;
        column.line = c.line();
        bool ok = require_name(c, "match", column.match);
        ok = require_name(c, "action", column.action) && ok;
        if (ok && !masking::strategy_from_name(column.action)) {
          problem(
              *c.find("action"),
              fmt::format("{}: \"{}\" is not a masking action name (expected {})", item.path,
                          column.action,
                          one_of(masking::kStrategyNames, [](std::string_view n) { return n; })));
          ok = false;
        }
        if (ok) profile.columns.push_back(std::move(column));
      });
    }
    return profile;
  }

  WhoConfig parse_who(const Value& v) {
    Fields f(problems_, v, {"groups", "subjects", "kinds"});
    WhoConfig who;
    if (const Value* x = f.find("groups")) who.groups = read_string_list(*x);
    if (const Value* x = f.find("subjects")) who.subjects = read_string_list(*x);
    if (const Value* x = f.find("kinds")) who.kinds = read_word_list(*x, kSubjectKinds);
    return who;
  }

  // Rule names share one namespace (access and guardrails): the journal's `rule` field must
  // name one rule.
  bool claim_rule_name(const std::string& name, int line, std::string_view path) {
    auto [it, inserted] = rule_lines_.emplace(name, line);
    if (!inserted) {
      problems_.add(line, fmt::format("{}: rule name \"{}\" is already used at line {}", path, name,
                                      it->second));
    }
    return inserted;
  }

  const ConnectionConfig* check_connection_name(const Config& config, const Value& item,
                                                const std::string& name) {
    const ConnectionConfig* c = config.find_connection(name);
    if (c == nullptr) {
      problem(item, fmt::format("{}: unknown connection \"{}\"", item.path, name));
    }
    return c;
  }

  void parse_access(const Value& v, Config& config) {
    for_each_item(v, [&](const Value& item) {
      Fields f(problems_, item,
               {"name", "who", "connections", "credentials", "allow", "masking", "requires_request",
                "reviewers", "min_approvals", "max_duration"});
      AccessRuleConfig rule;
      rule.line = f.line();
      bool ok = require_name(f, "name", rule.name);
      if (ok) ok = claim_rule_name(rule.name, rule.line, item.path);

      if (const Value* x = f.find("who")) {
        rule.who = parse_who(*x);
        if (rule.who.groups.empty() && rule.who.subjects.empty() && rule.who.kinds.empty()) {
          problem(*x, fmt::format("{}: name at least one of groups, subjects or kinds", x->path));
          ok = false;
        }
      } else {
        problems_.add(f.line(), fmt::format("{}: missing required key \"who\"", f.path()));
        ok = false;
      }

      if (const Value* x = f.find("credentials")) {
        if (auto s = read_name(*x))
          rule.credentials = *s;
        else
          ok = false;
      }

      std::vector<const ConnectionConfig*> targets;
      if (const Value* x = f.find("connections")) {
        for_each_item(*x, [&](const Value& name_item) {
          auto name = read_name(name_item);
          if (!name) return;
          if (const ConnectionConfig* c = check_connection_name(config, name_item, *name)) {
            if (!c->credentials.contains(rule.credentials)) {
              problem(name_item,
                      fmt::format("{}: connection \"{}\" has no credential profile \"{}\"",
                                  name_item.path, *name, rule.credentials));
              ok = false;
            }
          } else {
            ok = false;
          }
          rule.connections.push_back(std::move(*name));
        });
        if (x->node.IsNull() || (x->node.IsSequence() && x->node.size() == 0)) {
          problem(*x, fmt::format("{} must name at least one connection", x->path));
          ok = false;
        }
      } else {
        problems_.add(f.line(), fmt::format("{}: missing required key \"connections\"", f.path()));
        ok = false;
      }

      if (const Value* x = f.find("allow")) rule.allow = read_word_list(*x, kStatementClasses);

      if (const Value* x = f.find("masking")) {
        if (auto s = read_name(*x)) {
          if (*s != "none" && !config.masking.profiles.empty() &&
              !config.masking.profiles.contains(*s)) {
            problem(*x, fmt::format("{}: unknown masking profile \"{}\"", x->path, *s));
          }
          rule.masking = *s;
        }
      }

      const Value* requires_request = f.find("requires_request");
      const Value* reviewers = f.find("reviewers");
      const Value* min_approvals = f.find("min_approvals");
      const Value* max_duration = f.find("max_duration");
      if (requires_request != nullptr) {
        if (auto b = read_bool(*requires_request)) rule.requires_request = *b;
      }
      if (reviewers != nullptr) rule.reviewers = parse_reviewers(*reviewers);
      if (min_approvals != nullptr) {
        if (auto n = read_count(*min_approvals, 1)) rule.min_approvals = *n;
      }
      if (max_duration != nullptr) {
        if (auto d = read_duration(*max_duration, false)) rule.max_duration = *d;
      }
      if (rule.requires_request) {
        if (rule.reviewers.groups.empty() && rule.reviewers.subjects.empty()) {
          problems_.add(
              reviewers ? reviewers->line : f.line(),
              fmt::format("{}: requires_request needs reviewers (groups or subjects)", f.path()));
        }
      } else {
        for (const Value* x : {reviewers, min_approvals, max_duration}) {
          if (x != nullptr)
            problem(*x, fmt::format("{} is only used with requires_request: true", x->path));
        }
      }
      if (ok) config.access.push_back(std::move(rule));
    });
  }

  void parse_guardrails(const Value& v, Config& config) {
    for_each_item(v, [&](const Value& item) {
      Fields f(problems_, item,
               {"name", "when", "action", "message", "reviewers", "wait", "min_approvals"});
      GuardrailConfig rule;
      rule.line = f.line();
      bool ok = require_name(f, "name", rule.name);
      if (ok) ok = claim_rule_name(rule.name, rule.line, item.path);

      // Required, even if empty ({} matches every command): a forgotten `when` on an `allow`
      // guardrail would silently end the guardrail check for everything.
      if (const Value* x = f.find("when")) {
        rule.when = parse_when(*x, config);
      } else {
        problems_.add(f.line(), fmt::format("{}: missing required key \"when\"", f.path()));
        ok = false;
      }

      std::optional<GuardrailAction> action;
      if (const Value* x = f.find("action")) {
        action = read_enum(*x, kGuardrailActions);
      } else {
        problems_.add(f.line(), fmt::format("{}: missing required key \"action\"", f.path()));
      }
      if (action)
        rule.action = *action;
      else
        ok = false;
      if (const Value* x = f.find("message")) {
        if (auto s = read_string(*x)) rule.message = *s;
      }

      const Value* reviewers = f.find("reviewers");
      const Value* wait = f.find("wait");
      const Value* min_approvals = f.find("min_approvals");

      if (reviewers != nullptr) rule.reviewers = parse_reviewers(*reviewers);
      if (wait != nullptr) {
        if (auto d = read_duration(*wait, false)) rule.wait = *d;
      }
      if (min_approvals != nullptr) {
        if (auto n = read_count(*min_approvals, 1)) rule.min_approvals = *n;
      }
      if (action == GuardrailAction::review) {
        if (rule.reviewers.groups.empty() && rule.reviewers.subjects.empty()) {
          problems_.add(
              reviewers ? reviewers->line : f.line(),
              fmt::format("{}: action review needs reviewers (groups or subjects)", f.path()));
        }
      } else if (action) {
        if (reviewers != nullptr) {
          problem(*reviewers,
                  fmt::format("{}: reviewers is only used with action: review", f.path()));
        }
        if (wait != nullptr) {
          problem(*wait, fmt::format("{}: wait is only used with action: review", f.path()));
        }
        if (min_approvals != nullptr) {
          problem(*min_approvals,
                  fmt::format("{}: min_approvals is only used with action: review", f.path()));
        }
      }
      if (ok) config.guardrails.push_back(std::move(rule));
    });
  }

  GuardrailWhen parse_when(const Value& v, const Config& config) {
    Fields f(problems_, v,
             {"statements", "classes", "functions", "tables", "where", "rows_over", "connections",
              "who"});
    GuardrailWhen when;
    if (const Value* x = f.find("statements")) {
      when.statements = read_identifier_list(*x, "statement kind");
    }
    if (const Value* x = f.find("classes")) when.classes = read_word_list(*x, kStatementClasses);
    if (const Value* x = f.find("functions")) when.functions = read_string_list(*x);
    if (const Value* x = f.find("tables")) when.tables = read_string_list(*x);
    if (const Value* x = f.find("where")) {
      if (auto w = read_enum(*x, kWhereConditions)) when.where = *w;
    }
    if (const Value* x = f.find("rows_over")) {
      if (auto n = read_count(*x, 0)) when.rows_over = *n;
    }
    if (const Value* x = f.find("connections")) {
      for_each_item(*x, [&](const Value& item) {
        if (auto name = read_name(item)) {
          check_connection_name(config, item, *name);
          when.connections.push_back(std::move(*name));
        }
      });
    }
    if (const Value* x = f.find("who")) when.who = parse_who(*x);
    return when;
  }

  ReviewersConfig parse_reviewers(const Value& v) {
    ReviewersConfig reviewers;
    Fields r(problems_, v, {"groups", "subjects"});
    if (const Value* x = r.find("groups")) reviewers.groups = read_string_list(*x);
    if (const Value* x = r.find("subjects")) reviewers.subjects = read_string_list(*x);
    return reviewers;
  }

  void parse_reviews(const Value& v, ReviewsConfig& reviews) {
    Fields f(problems_, v, {"grant_lifetime", "pending_lifetime"});
    if (const Value* x = f.find("grant_lifetime")) {
      if (auto d = read_duration(*x, false)) reviews.grant_lifetime = *d;
    }
    if (const Value* x = f.find("pending_lifetime")) {
      if (auto d = read_duration(*x, false)) reviews.pending_lifetime = *d;
    }
  }

  void parse_notifications(const Value& v, NotificationsConfig& notifications) {
    Fields f(problems_, v, {"webhooks", "api_url"});
    if (const Value* x = f.find("api_url")) {
      if (auto s = read_string(*x)) notifications.api_url = *s;
    }
    const Value* webhooks = f.find("webhooks");
    if (webhooks == nullptr) return;
    for_each_item(*webhooks, [&](const Value& item) {
      Fields w(problems_, item, {"name", "url", "format", "timeout", "max_attempts"});
      WebhookConfig webhook;
      webhook.line = w.line();
      if (!require_name(w, "url", webhook.url)) return;
      if (!webhook.url.starts_with("http://") && !webhook.url.starts_with("https://")) {
        problem(*w.find("url"),
                fmt::format("{}.url: expected an http:// or https:// URL", item.path));
        return;
      }
      if (const Value* x = w.find("name")) {
        if (auto s = read_name(*x)) webhook.name = *s;
      }
      if (const Value* x = w.find("format")) {
        if (auto format = read_enum(*x, kWebhookFormats)) webhook.format = *format;
      }
      if (const Value* x = w.find("timeout")) {
        if (auto d = read_duration(*x, false)) webhook.timeout = *d;
      }
      if (const Value* x = w.find("max_attempts")) {
        if (auto n = read_count(*x, 1)) webhook.max_attempts = *n;
      }
      // Named after its host when unnamed: the URL itself may hold a secret (Slack's do).
      if (webhook.name.empty()) {
        std::string_view host = webhook.url;
        host.remove_prefix(host.find("://") + 3);
        host = host.substr(0, host.find_first_of("/?#"));
        if (const auto at = host.rfind('@'); at != std::string_view::npos)
          host.remove_prefix(at + 1);
        webhook.name = std::string(host);
      }
      notifications.webhooks.push_back(std::move(webhook));
    });
  }

  void parse_audit(const Value& v, AuditConfig& audit) {
    Fields f(problems_, v, {"durability", "record_results", "checkpoint_every", "exporters"});
    if (const Value* x = f.find("durability")) {
      if (auto d = read_enum(*x, kAuditDurabilities)) audit.durability = *d;
    }
    if (const Value* x = f.find("record_results")) {
      Fields r(problems_, *x, {"max_rows", "max_bytes"});
      if (const Value* y = r.find("max_rows")) {
        if (auto n = read_count(*y, 0)) audit.record_results.max_rows = *n;
      }
      if (const Value* y = r.find("max_bytes")) {
        if (auto n = read_size(*y)) audit.record_results.max_bytes = *n;
      }
    }
    if (const Value* x = f.find("checkpoint_every")) {
      if (auto n = read_count(*x, 1)) audit.checkpoint_every = *n;
    }
    if (const Value* x = f.find("exporters")) {
      for_each_item(*x, [&](const Value& item) {
        Fields e(problems_, item, {"kind", "path"});
        AuditExporterConfig exporter;
        exporter.line = e.line();
        if (!require_name(e, "kind", exporter.kind)) return;
        if (exporter.kind != "jsonl") {
          problem(*e.find("kind"), fmt::format("{}.kind: exporter kind \"{}\" is not supported yet "
                                               "(supported: jsonl)",
                                               item.path, exporter.kind));
          return;
        }
        const Value* path = e.find("path");
        if (path == nullptr) {
          problems_.add(e.line(), fmt::format("{}: missing required key \"path\"", item.path));
          return;
        }
        if (auto p = read_path(*path)) {
          exporter.path = *p;
          audit.exporters.push_back(std::move(exporter));
        }
      });
    }
  }

  // Plain TCP is accepted only on loopback listeners unless the tls section says otherwise,
  // so a listener on any other address needs a certificate.
  void check_listeners(const Config& config, const Value* listen, const Value* tls) {
    if (tls != nullptr) return;
    const int line = listen ? listen->line : 0;
    for (const auto& [name, endpoint] :
         {std::pair{"postgres", &config.listen.postgres}, std::pair{"http", &config.listen.http}}) {
      if (endpoint->has_value() && !is_loopback((*endpoint)->host)) {
        problems_.add(line, fmt::format("listen.{}: {} is not a loopback address, so a tls "
                                        "section (cert_file, key_file) is required",
                                        name, (*endpoint)->host));
      }
    }
  }

  Problems& problems_;
  fs::path base_dir_;
  std::map<std::string, int> rule_lines_;
};

// Records where a document starts and ignores its content.
class DocumentStart : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { mark_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& mark() const { return mark_; }

 private:
  YAML::Mark mark_ = YAML::Mark::null_mark();
};

// YAML::Load reads the first document only; whatever follows it is either a second document
// or text the parser could not place (a stray `,`). YAML::LoadAll is not used to find out: it
// never ends on such text, producing empty documents forever (yaml-cpp 0.7).
void check_single_document(const std::string& text, Problems& problems) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStart first;
  if (!parser.HandleNextDocument(first)) return;
  DocumentStart second;
  if (!parser.HandleNextDocument(second)) return;
  const YAML::Mark& mark = second.mark();
  const int line = mark.is_null() ? 0 : mark.line + 1;
  const bool marker =
      !mark.is_null() && mark.pos >= 0 &&
      std::string_view(text).substr(static_cast<std::size_t>(mark.pos)).starts_with("---");
  if (marker) {
    problems.add(line, "only one YAML document is allowed in the file");
  } else {
    const char c = mark.is_null() || static_cast<std::size_t>(mark.pos) >= text.size()
                       ? ' '
                       : text[static_cast<std::size_t>(mark.pos)];
    problems.add(line, fmt::format("YAML syntax error: unexpected \"{}\"", c));
  }
}

}  // namespace

Result<ConfigPtr> parse_config(std::string_view yaml_text, const fs::path& file) {
  Problems problems(file.string());
  try {
    std::error_code ec;
    fs::path absolute = fs::absolute(file, ec);
    if (ec) absolute = file;
    absolute = absolute.lexically_normal();

    const std::string text(yaml_text);
    const YAML::Node root = YAML::Load(text);
    check_single_document(text, problems);
    auto config = std::make_shared<Config>();
    config->source_file = absolute;
    ConfigParser parser(problems, absolute.parent_path());
    parser.parse(root, *config);
    if (!problems.empty()) return make_error(problems.report());
    return ConfigPtr(std::move(config));
  } catch (const YAML::Exception& e) {
    const std::string message = fmt::format("YAML syntax error: {}", e.msg);
    problems.add(e.mark.is_null() ? 0 : e.mark.line + 1, message);
    return make_error(problems.report());
  } catch (const std::exception& e) {
    problems.add(0, e.what());
    return make_error(problems.report());
  }
}

Result<ConfigPtr> load_config(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec))
    return make_error(fmt::format("{}: is a folder, not a file", name));
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read: {}", name, errno_message(errno)));
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileSize) {
      return make_error(fmt::format("{}: larger than {} MiB; is this the right file?", name,
                                    kMaxConfigFileSize >> 20));
    }
  }
  if (in.bad()) return make_error(fmt::format("{}: cannot read: {}", name, errno_message(errno)));
  return parse_config(text, file);
}

}  // namespace portcullis::policy
