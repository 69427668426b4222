// `portcullis ssh keys add|list|remove`: public keys registered to subjects, so that a service
// account logs in to the SSH listener with a key of its own (#17). Through the REST API.
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "config/units.h"

namespace portcullis::cli {
namespace {

namespace json = boost::json;

// A .pub file is one line of a few hundred bytes (an RSA key of 16384 bits is about 2.8 KiB);
// anything much larger is not one.
constexpr std::size_t kMaxPublicKeyFileBytes = 64 * 1024;

struct SshKeysAddArgs {
  ApiOptions api;
  std::string subject;
  std::vector<std::string> groups;
  std::string expires_in;
  std::string file;
  bool json = false;
};

struct SshKeysListArgs {
  ApiOptions api;
  std::string subject;
  bool json = false;
};

struct SshKeysRemoveArgs {
  ApiOptions api;
  std::string id;
};

// The first line of the file ("-": standard input) that is not empty or a comment.
std::string read_public_key_line(const std::string& file) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(2, fmt::format("cannot read {}", file));
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.size() > kMaxPublicKeyFileBytes)
    fail(2, fmt::format("{} is not a public key file (larger than {} bytes)", file,
                        kMaxPublicKeyFileBytes));
  if (text.find("PRIVATE KEY") != std::string::npos)
    fail(2, fmt::format("{} holds a private key: give the .pub file", file));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    return line.substr(start);
  }
  fail(2, fmt::format("{} holds no public key", file));
}

std::string groups_text(const json::object& key) {
  std::string out;
  if (const auto* groups = key.if_contains("groups"); groups != nullptr && groups->is_array())
    for (const auto& group : groups->as_array()) {
      if (!group.is_string()) continue;
      if (!out.empty()) out += ',';
      out += printable(group.as_string());
    }
  return out;
}

std::string expiry_text(const json::object& key) {
  const std::string expires = string_field(key, "expires_at");
  return expires.empty() ? "never" : short_time(expires);
}

void run_add(const SshKeysAddArgs& args) {
  json::object body{{"subject", args.subject}, {"public_key", read_public_key_line(args.file)}};
  if (!args.groups.empty()) {
    json::array groups;
    for (const auto& group : args.groups) groups.emplace_back(group);
    body["groups"] = std::move(groups);
  }
  if (!args.expires_in.empty()) {
    auto parsed = config::parse_duration(args.expires_in);
    if (!parsed) fail(2, "--expires-in: " + parsed.error().message);
    if (*parsed <= config::Duration::zero()) fail(2, "--expires-in must be longer than zero");
    body["expires_in"] = args.expires_in;
  }
  const ApiClient api = connect_api_or_exit(args.api);
  const json::value answer = answer_or_exit(api.post("/api/v1/ssh/keys", body));
  if (args.json) {
    fmt::print("{}\n", json::serialize(answer));
    return;
  }
  const json::object* key = answer.if_object();
  if (key == nullptr) fail(1, "the gateway's answer holds no key");
  fmt::print("registered {} {} to {}; expires {}\n", printable(string_field(*key, "id")),
             printable(string_field(*key, "fingerprint")), printable(string_field(*key, "subject")),
             expiry_text(*key));
}

void run_list(const SshKeysListArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  std::string path = "/api/v1/ssh/keys";
  if (!args.subject.empty()) path += "?subject=" + path_segment(args.subject);
  const json::value answer = answer_or_exit(api.get(path));
  if (args.json) {
    fmt::print("{}\n", json::serialize(answer));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  const json::value* keys = answer.is_object() ? answer.as_object().if_contains("keys") : nullptr;
  if (keys != nullptr && keys->is_array()) {
    for (const auto& item : keys->as_array()) {
      if (!item.is_object()) continue;
      const json::object& k = item.as_object();
      rows.push_back({printable(string_field(k, "id")), printable(string_field(k, "subject")),
                      groups_text(k), printable(string_field(k, "fingerprint")),
                      short_time(string_field(k, "created_at")), expiry_text(k),
                      short_time(string_field(k, "removed_at"))});
    }
  }
  print_table({"ID", "SUBJECT", "GROUPS", "FINGERPRINT", "CREATED", "EXPIRES", "REMOVED"}, rows);
}

void run_remove(const SshKeysRemoveArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  (void)answer_or_exit(api.remove("/api/v1/ssh/keys/" + path_segment(args.id)));
  fmt::print("SSH key {} removed\n", printable(args.id));
}

}  // namespace

void add_ssh_keys_command(CLI::App& ssh) {
  auto* keys = ssh.add_subcommand(
      "keys", "Public keys registered to subjects, for SSH logins (REST API, admin groups)");
  keys->require_subcommand(1);

  auto add_args = std::make_shared<SshKeysAddArgs>();
  auto* add = keys->add_subcommand("add", "Register a public key to a subject");
  add->add_option("--subject", add_args->subject, "Who a login with the key is")->required();
  // One value per --group: the key file follows, and must not be taken for a group.
  add->add_option("--group", add_args->groups, "A group of that identity; repeat for several")
      ->allow_extra_args(false);
  add->add_option("--expires-in", add_args->expires_in, "How long the key logs in (30d, 12h)");
  add->add_flag("--json", add_args->json, "Print the API's JSON");
  add->add_option("PUBKEY_FILE", add_args->file, "The .pub file (\"-\": standard input)")
      ->required();
  add_api_options(*add, add_args->api);
  add->callback([add_args] { run_add(*add_args); });

  auto list_args = std::make_shared<SshKeysListArgs>();
  auto* list = keys->add_subcommand("list", "Registered keys, removed ones included");
  list->add_option("--subject", list_args->subject, "Only this subject's keys");
  list->add_flag("--json", list_args->json, "Print the API's JSON");
  add_api_options(*list, list_args->api);
  list->callback([list_args] { run_list(*list_args); });

  auto remove_args = std::make_shared<SshKeysRemoveArgs>();
  auto* remove = keys->add_subcommand("remove", "Remove a key: it logs in no more");
  remove->add_option("id", remove_args->id, "Key id, as `ssh keys list` shows it")->required();
  add_api_options(*remove, remove_args->api);
  remove->callback([remove_args] { run_remove(*remove_args); });
}

}  // namespace portcullis::cli
