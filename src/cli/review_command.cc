// `portcullis review list|show|approve|reject`: the approval workflow through the REST API,
// for reviewers at a terminal or in a script (--json).
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "config/units.h"

namespace portcullis::cli {
namespace {

namespace json = boost::json;

// Characters of a statement in `review list`: a table row stays on one line of a terminal.
constexpr std::size_t kListCommandChars = 60;

const std::vector<std::string> kStatuses{"pending", "approved", "rejected", "expired", "executed"};

struct ReviewListArgs {
  ApiOptions api;
  std::string status;
  bool json = false;
};

struct ReviewShowArgs {
  ApiOptions api;
  std::string id;
  bool json = false;
};

struct ReviewDecideArgs {
  ApiOptions api;
  std::string id;
  std::string comment;
};

std::string review_path(const std::string& id) {
  return "/api/v1/reviews/" + path_segment(id);
}

std::string join(const json::value* array, std::string_view separator = ", ") {
  std::string out;
  if (array == nullptr || !array->is_array()) return out;
  for (const auto& item : array->as_array()) {
    if (!item.is_string()) continue;
    if (!out.empty()) out += separator;
    out += printable(item.as_string());
  }
  return out;
}

std::string short_time_or_empty(const std::string& time) {
  return time.empty() ? std::string() : printable(short_time(time));
}

// "access for 30m", or "access" when the duration is not given.
std::string access_summary(const json::object& review) {
  const std::int64_t seconds = number_field(review, "duration_s");
  if (seconds <= 0) return "access";
  return "access for " + config::format_duration(std::chrono::seconds(seconds));
}

std::size_t approval_count(const json::object& review) {
  const auto* approvals = review.if_contains("approvals");
  return approvals != nullptr && approvals->is_array() ? approvals->as_array().size() : 0;
}

std::string approvals_of(const json::object& review) {
  const std::int64_t needed = std::max<std::int64_t>(1, number_field(review, "min_approvals"));
  return fmt::format("{} of {} approvals", approval_count(review), needed);
}

const json::array& reviews_of(const json::value& answer) {
  static const json::array kNone;
  if (!answer.is_object()) return kNone;
  const auto* reviews = answer.as_object().if_contains("reviews");
  return reviews != nullptr && reviews->is_array() ? reviews->as_array() : kNone;
}

void run_list(const ReviewListArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  std::string path = "/api/v1/reviews";
  if (!args.status.empty()) path += "?status=" + path_segment(args.status);
  const json::value answer = answer_or_exit(api.get(path));
  if (args.json) {
    fmt::print("{}\n", json::serialize(answer));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : reviews_of(answer)) {
    if (!item.is_object()) continue;
    const json::object& r = item.as_object();
    const std::string kind = string_field(r, "kind");
    const std::string what =
        kind == "access" ? access_summary(r)
                         : shorten(printable(string_field(r, "command")), kListCommandChars);
    rows.push_back({printable(string_field(r, "id")), printable(kind),
                    printable(string_field(r, "status")), printable(string_field(r, "requester")),
                    printable(string_field(r, "connection")), printable(string_field(r, "rule")),
                    short_time(string_field(r, "created")), what});
  }
  print_table({"ID", "KIND", "STATUS", "REQUESTER", "CONNECTION", "RULE", "CREATED", "COMMAND"},
              rows);
}

void run_show(const ReviewShowArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  const json::value answer = answer_or_exit(api.get(review_path(args.id)));
  if (args.json || !answer.is_object()) {
    fmt::print("{}\n", json::serialize(answer));
    return;
  }
  const json::object& r = answer.as_object();
  const auto line = [](std::string_view label, const std::string& value) {
    if (!value.empty()) fmt::print("{:<14}{}\n", label, value);
  };
  line("id:", printable(string_field(r, "id")));
  line("kind:", printable(string_field(r, "kind")));
  line("status:", printable(string_field(r, "status")));
  line("requester:", printable(string_field(r, "requester")));
  line("connection:", printable(string_field(r, "connection")));
  line("session:", printable(string_field(r, "session")));
  line("rule:", printable(string_field(r, "rule")));
  if (const auto* reviewers = r.if_contains("reviewers"); reviewers && reviewers->is_object()) {
    std::string who;
    if (auto groups = join(reviewers->as_object().if_contains("groups")); !groups.empty())
      who = "groups " + groups;
    if (auto subjects = join(reviewers->as_object().if_contains("subjects")); !subjects.empty())
      who += (who.empty() ? "" : "; ") + subjects;
    line("reviewers:", who);
  }
  line("approvals:", approvals_of(r));
  if (const auto* approvals = r.if_contains("approvals"); approvals && approvals->is_array()) {
    for (const auto& a : approvals->as_array()) {
      if (!a.is_object()) continue;
      const std::string comment = printable(string_field(a.as_object(), "comment"));
      line("", fmt::format("{} at {}{}", printable(string_field(a.as_object(), "reviewer")),
                           short_time(string_field(a.as_object(), "time")),
                           comment.empty() ? "" : ": " + comment));
    }
  }
  line("decided by:", printable(string_field(r, "decided_by")));
  line("comment:", printable(string_field(r, "comment")));
  line("reason:", printable(string_field(r, "reason")));
  if (number_field(r, "duration_s") > 0)
    line("duration:", config::format_duration(std::chrono::seconds(number_field(r, "duration_s"))));
  line("created:", short_time_or_empty(string_field(r, "created")));
  line("expires:", short_time_or_empty(string_field(r, "expires")));
  line("grant expires:", short_time_or_empty(string_field(r, "grant_expires")));
  if (const std::string command = string_field(r, "command"); !command.empty())
    fmt::print("command:\n{}\n", printable(command, /*keep_newlines=*/true));
}

// What the vote did, in one line.
std::string outcome(const json::object& r, bool approve) {
  const std::string id = printable(string_field(r, "id"));
  const std::string status = string_field(r, "status");
  const bool access = string_field(r, "kind") == "access";
  if (status == "pending")
    return fmt::format("{} {} recorded: {}, still pending", id, approve ? "approval" : "rejection",
                       approvals_of(r));
  if (status == "approved") {
    std::string what;
    const std::string until = short_time(string_field(r, "grant_expires"));
    if (access)
      what = fmt::format("{} may use {}{}", printable(string_field(r, "requester")),
                         printable(string_field(r, "connection")),
                         until == "-" ? "" : " until " + until);
    else
      what = "the statement is released" +
             (until == "-" ? "" : " (or may be run again once until " + until + ")");
    return fmt::format("{} approved ({}); {}", id, approvals_of(r), what);
  }
  if (status == "rejected")
    return fmt::format("{} rejected; {}", id,
                       access ? "no access is granted" : "the statement is refused");
  return fmt::format("{} is {}", id, printable(status));
}

void run_decide(const ReviewDecideArgs& args, bool approve) {
  const ApiClient api = connect_api_or_exit(args.api);
  json::object body;
  if (!args.comment.empty()) body["comment"] = args.comment;
  const json::value answer =
      answer_or_exit(api.post(review_path(args.id) + (approve ? "/approve" : "/reject"), body));
  if (!answer.is_object()) {
    fmt::print("{} {}\n", printable(args.id), approve ? "approved" : "rejected");
    return;
  }
  fmt::print("{}\n", outcome(answer.as_object(), approve));
}

void add_decide(CLI::App& review, const char* name, const char* description, bool approve) {
  auto args = std::make_shared<ReviewDecideArgs>();
  auto* command = review.add_subcommand(name, description);
  command->add_option("id", args->id, "Review id, e.g. r-7k3qx9p2m4")->required();
  command->add_option("--comment", args->comment, "Why: kept with the review and the journal");
  add_api_options(*command, args->api);
  command->callback([args, approve] { run_decide(*args, approve); });
}

}  // namespace

void add_review_command(CLI::App& app) {
  auto* review = app.add_subcommand("review", "The approval workflow, through the REST API");
  review->require_subcommand(1);

  auto list_args = std::make_shared<ReviewListArgs>();
  auto* list = review->add_subcommand("list", "Reviews you may decide");
  list->add_option("--status", list_args->status, "Only reviews with this status")
      ->check(CLI::IsMember(kStatuses));
  list->add_flag("--json", list_args->json, "Print the API's JSON");
  add_api_options(*list, list_args->api);
  list->callback([list_args] { run_list(*list_args); });

  auto show_args = std::make_shared<ReviewShowArgs>();
  auto* show = review->add_subcommand("show", "One review, with the whole statement");
  show->add_option("id", show_args->id, "Review id")->required();
  show->add_flag("--json", show_args->json, "Print the API's JSON");
  add_api_options(*show, show_args->api);
  show->callback([show_args] { run_show(*show_args); });

  add_decide(*review, "approve", "Approve a review", true);
  add_decide(*review, "reject", "Reject a review", false);
}

}  // namespace portcullis::cli
