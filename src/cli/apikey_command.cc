// `portcullis apikey create|list|revoke`: service-account API keys (AC-2 account review).
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "config/units.h"
#include "identity/api_key.h"
#include "store/state_store.h"

namespace portcullis::cli {
namespace {

struct ApiKeyCreateArgs {
  std::string name;
  std::vector<std::string> groups;
  std::string ttl;
};

struct ApiKeyListArgs {
  bool json = false;
};

struct ApiKeyRevokeArgs {
  std::string name;
};

std::unique_ptr<store::StateStore> open_store(const config::Config& config) {
  auto store = store::open_state_store(config.state_url);
  if (!store) fail(1, store.error().message);
  return std::move(*store);
}

// RFC 3339, UTC, whole seconds.
std::string format_time(store::TimePoint t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_optional_time(const std::optional<store::TimePoint>& t, std::string_view none) {
  return t ? format_time(*t) : std::string(none);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out.empty() ? "-" : out;
}

void run_create(const GlobalOptions& options, const ApiKeyCreateArgs& args) {
  if (auto valid = identity::validate_api_key_name(args.name); !valid)
    fail(2, "--name: " + valid.error().message);
  identity::ApiKeyRequest request;
  request.name = args.name;
  request.groups = args.groups;
  if (!args.ttl.empty()) {
    auto ttl = config::parse_duration(args.ttl);
    if (!ttl) fail(2, "--ttl: " + ttl.error().message);
    if (*ttl <= std::chrono::milliseconds::zero()) fail(2, "--ttl must be longer than zero");
    request.ttl = *ttl;
  }
  const config::ConfigPtr config = load_config_or_exit(options);
  auto store = open_store(*config);
  auto key = identity::create_api_key(*store, request, std::chrono::system_clock::now());
  if (!key) fail(1, key.error().message);
  // Shown once: only its hash is stored.
  fmt::print("{}\n", key->reveal());
  std::fflush(stdout);
}

void print_table(const std::vector<store::ApiKeyRecord>& records) {
  const std::vector<std::string> headers{"NAME",    "GROUPS",    "CREATED",
                                         "EXPIRES", "LAST USED", "REVOKED"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records)
    rows.push_back({r.name, join(r.groups), format_time(r.created_at),
                    format_optional_time(r.expires_at, "never"),
                    format_optional_time(r.last_used_at, "never"), r.revoked ? "yes" : "no"});
  std::vector<std::size_t> widths;
  for (const auto& h : headers) widths.push_back(h.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    fmt::print("{}\n", line);
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

void print_json(const std::vector<store::ApiKeyRecord>& records) {
  boost::json::array out;
  for (const auto& r : records) {
    boost::json::array groups;
    for (const auto& g : r.groups) groups.emplace_back(g);
    boost::json::object item{
        {"name", r.name},     {"groups", std::move(groups)}, {"created", format_time(r.created_at)},
        {"expires", nullptr}, {"last_used", nullptr},        {"revoked", r.revoked}};
    if (r.expires_at) item["expires"] = format_time(*r.expires_at);
    if (r.last_used_at) item["last_used"] = format_time(*r.last_used_at);
    out.emplace_back(std::move(item));
  }
  fmt::print("{}\n", boost::json::serialize(out));
}

void run_list(const GlobalOptions& options, const ApiKeyListArgs& args) {
  const config::ConfigPtr config = load_config_or_exit(options);
  auto store = open_store(*config);
  auto records = store->list_api_keys();
  if (!records) fail(1, records.error().message);
  if (args.json)
    print_json(*records);
  else
    print_table(*records);
}

void run_revoke(const GlobalOptions& options, const ApiKeyRevokeArgs& args) {
  const config::ConfigPtr config = load_config_or_exit(options);
  auto store = open_store(*config);
  auto revoked = store->revoke_api_key(args.name);
  if (!revoked) fail(1, revoked.error().message);
  if (!*revoked) fail(1, fmt::format("no API key named \"{}\"", args.name));
  fmt::print("API key \"{}\" revoked\n", args.name);
}

}  // namespace

void add_apikey_command(CLI::App& app, GlobalOptions& options) {
  auto* apikey = app.add_subcommand("apikey", "Service-account API keys");
  apikey->require_subcommand(1);

  auto create_args = std::make_shared<ApiKeyCreateArgs>();
  auto* create = apikey->add_subcommand("create", "Create an API key and print it once");
  create->add_option("--name", create_args->name, "Service account name (the database user)")
      ->required();
  create->add_option("--group", create_args->groups, "A group of the account; repeat for several");
  create->add_option("--ttl", create_args->ttl, "Lifetime, e.g. 30d (default: no expiry)");
  create->callback([&options, create_args] { run_create(options, *create_args); });

  auto list_args = std::make_shared<ApiKeyListArgs>();
  auto* list = apikey->add_subcommand("list", "List API keys (never the keys themselves)");
  list->add_flag("--json", list_args->json, "Print a JSON array");
  list->callback([&options, list_args] { run_list(options, *list_args); });

  auto revoke_args = std::make_shared<ApiKeyRevokeArgs>();
  auto* revoke = apikey->add_subcommand("revoke", "Revoke an API key now");
  revoke->add_option("name", revoke_args->name, "Name of the key")->required();
  revoke->callback([&options, revoke_args] { run_revoke(options, *revoke_args); });
}

}  // namespace portcullis::cli
