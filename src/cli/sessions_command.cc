// `portcullis sessions list|kill|replay`: live sessions, and the recordings of SSH shells,
// through the REST API.
#include <fmt/format.h>

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
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

struct SessionsReplayArgs {
  ApiOptions api;
  std::string id;
  int part = 1;
  double speed = 1.0;
  double idle_limit = 2.0;
  bool no_wait = false;
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

// Plays an asciicast v2 recording on stdout: each output event at its time (pauses cut to the
// idle limit, all of it faster or slower by the speed), or at once with --no-wait.
void run_replay(const SessionsReplayArgs& args) {
  if (args.speed <= 0) fail(2, "--speed must be greater than 0");
  const ApiClient api = connect_api_or_exit(args.api);
  std::string path = "/api/v1/sessions/" + path_segment(args.id) + "/recording";
  if (args.part != 1) path += fmt::format("?part={}", args.part);
  const json::value answer = answer_or_exit(api.get_text(path));
  const std::string_view recording = answer.as_string();
  std::size_t line_start = 0;
  bool header = true;
  double shown_at = 0;
  while (line_start < recording.size()) {
    auto line_end = recording.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = recording.size();
    const auto line = recording.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.empty()) continue;
    boost::system::error_code ec;
    const json::value value = json::parse(line, ec);
    if (header) {
      header = false;
      const auto* object = value.if_object();
      const auto* version = object ? object->if_contains("version") : nullptr;
      if (ec || !version || !version->is_int64() || version->as_int64() != 2)
        fail(1, "the recording is not in asciicast v2 format");
      continue;
    }
    const auto* event = value.if_array();
    if (ec || !event || event->size() != 3 || !(*event)[0].is_number() ||
        !(*event)[1].is_string() || !(*event)[2].is_string())
      fail(1, "the recording has a line that is not an asciicast event");
    if ((*event)[1].as_string() != "o") continue;
    const double at = (*event)[0].to_number<double>();
    if (!args.no_wait && at > shown_at) {
      const double pause = std::min(at - shown_at, args.idle_limit) / args.speed;
      std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    }
    shown_at = std::max(shown_at, at);
    const auto& text = (*event)[2].as_string();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace

void add_sessions_command(CLI::App& app) {
  auto* sessions =
      app.add_subcommand("sessions", "Live sessions and shell recordings, through the REST API");
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

  auto replay_args = std::make_shared<SessionsReplayArgs>();
  auto* replay = sessions->add_subcommand(
      "replay", "Play the recording of an SSH session's interactive shell in this terminal");
  replay->add_option("id", replay_args->id, "Session id, as the journal shows it")->required();
  replay->add_option("--part", replay_args->part, "Which shell of the session, from 1")
      ->capture_default_str();
  replay->add_option("--speed", replay_args->speed, "Play this many times faster")
      ->capture_default_str();
  replay
      ->add_option("--idle-limit", replay_args->idle_limit,
                   "Longest pause shown, in seconds (before --speed)")
      ->capture_default_str();
  replay->add_flag("--no-wait", replay_args->no_wait, "Print the output at once, without pauses");
  add_api_options(*replay, replay_args->api);
  replay->callback([replay_args] { run_replay(*replay_args); });
}

}  // namespace portcullis::cli
