// `portcullis sessions list|kill`: live sessions through the REST API.
#include <fmt/format.h>

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"

namespace portcullis::cli {
namespace {

namespace json = boost::json;

struct SessionsListArgs {
  ApiOptions api;
  bool json = false;
};

struct SessionsKillArgs {
  ApiOptions api;
  std::string id;
};

// "512B", "1.5KiB", "3.2MiB": byte counts a person compares at a glance.
std::string format_bytes(std::int64_t bytes) {
  constexpr std::array<const char*, 4> kUnits{"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{}B", bytes);
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  for (value /= 1024; value >= 1024 && unit + 1 < kUnits.size(); value /= 1024) ++unit;
  return fmt::format("{:.1f}{}", value, kUnits[unit]);
}

void run_list(const SessionsListArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  const json::value answer = answer_or_exit(api.get("/api/v1/sessions"));
  if (args.json) {
    fmt::print("{}\n", json::serialize(answer));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  const json::value* sessions =
      answer.is_object() ? answer.as_object().if_contains("sessions") : nullptr;
  if (sessions != nullptr && sessions->is_array()) {
    for (const auto& item : sessions->as_array()) {
      if (!item.is_object()) continue;
      const json::object& s = item.as_object();
      rows.push_back(
          {printable(string_field(s, "id")), printable(string_field(s, "subject")),
           printable(string_field(s, "protocol")), printable(string_field(s, "connection")),
           printable(string_field(s, "client_addr")), short_time(string_field(s, "started")),
           std::to_string(number_field(s, "commands")), format_bytes(number_field(s, "bytes_in")),
           format_bytes(number_field(s, "bytes_out")), printable(string_field(s, "held_review"))});
    }
  }
  print_table({"ID", "SUBJECT", "PROTOCOL", "CONNECTION", "CLIENT", "STARTED", "COMMANDS", "IN",
               "OUT", "HELD REVIEW"},
              rows);
}

void run_kill(const SessionsKillArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  const json::value answer =
      answer_or_exit(api.post("/api/v1/sessions/" + path_segment(args.id) + "/kill", {}));
  std::string id = args.id;
  if (answer.is_object()) {
    if (std::string answered = string_field(answer.as_object(), "id"); !answered.empty())
      id = std::move(answered);
  }
  fmt::print("session {} ended\n", printable(id));
}

}  // namespace

void add_sessions_command(CLI::App& app) {
  auto* sessions = app.add_subcommand("sessions", "Live sessions, through the REST API");
  sessions->require_subcommand(1);

  auto list_args = std::make_shared<SessionsListArgs>();
  auto* list = sessions->add_subcommand("list", "Sessions open now");
  list->add_flag("--json", list_args->json, "Print the API's JSON");
  add_api_options(*list, list_args->api);
  list->callback([list_args] { run_list(*list_args); });

  auto kill_args = std::make_shared<SessionsKillArgs>();
  auto* kill = sessions->add_subcommand("kill", "End a session now");
  kill->add_option("id", kill_args->id, "Session id, as `sessions list` shows it")->required();
  add_api_options(*kill, kill_args->api);
  kill->callback([kill_args] { run_kill(*kill_args); });
}

}  // namespace portcullis::cli
