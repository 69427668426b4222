// The generic and the Slack webhook bodies, built with Boost.JSON.
#include "review/webhook_payload.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <chrono>
#include <ctime>
#include <string_view>
#include <vector>

#include "config/units.h"

namespace portcullis::review {
namespace {

namespace json = boost::json;
using store::ReviewRecord;
using store::TimePoint;

// Slack's own limits (api.slack.com/reference/block-kit/blocks): a header's text is at most
// 150 characters, a section field's 2000. Names and reasons are cut well below the latter so
// that one field cannot make Slack refuse the whole message.
constexpr std::size_t kSlackMaxHeaderBytes = 150;
constexpr std::size_t kSlackMaxFieldBytes = 1000;
// Zero-width space: breaks a "```" in a statement so that it cannot close the code block the
// statement is shown in and format the rest of the message.
constexpr std::string_view kZeroWidthSpace = "\u200b";
constexpr std::string_view kReplacementCharacter = "\ufffd";

// Local spellings rather than store::to_string, so that the notifier does not depend on the
// workflow's library; they are the REST API's words.
std::string_view kind_name(store::ReviewKind kind) {
  switch (kind) {
    case store::ReviewKind::statement:
      return "statement";
    case store::ReviewKind::access:
      return "access";
  }
  return "unknown";
}

std::string_view status_name(store::ReviewStatus status) {
  switch (status) {
    case store::ReviewStatus::pending:
      return "pending";
    case store::ReviewStatus::approved:
      return "approved";
    case store::ReviewStatus::rejected:
      return "rejected";
    case store::ReviewStatus::expired:
      return "expired";
    case store::ReviewStatus::executed:
      return "executed";
  }
  return "unknown";
}

// RFC 3339, UTC, whole seconds: what a person reads in a chat message and any JSON parser
// takes.
std::string format_time(TimePoint t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool is_set(TimePoint t) {
  return t.time_since_epoch().count() != 0;
}

// Length of the UTF-8 sequence that starts `text` at `i`, or 0 when it is not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char min_second = 0x80, max_second = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) min_second = 0xa0;
    if (lead == 0xed) max_second = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) min_second = 0x90;
    if (lead == 0xf4) max_second = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return length;
}

// JSON text must be UTF-8 (RFC 8259) and receivers such as Slack refuse a body that is not;
// a statement in another client encoding must not make every delivery of its review fail.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += kReplacementCharacter;
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

// At most `max_bytes` of valid UTF-8 `text`, cut between characters.
std::string_view clip(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

// Slack's mrkdwn treats &, < and > as control characters (links, mentions such as
// <!channel>); everything else a person wrote is shown as written. Stops before the output
// would pass `max_bytes`, between characters; `consumed` says how much of `text` was used.
std::string slack_escape_prefix(std::string_view text, std::size_t max_bytes,
                                std::size_t* consumed) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::string_view piece;
    std::size_t length = 1;
    switch (text[i]) {
      case '&':
        piece = "&amp;";
        break;
      case '<':
        piece = "&lt;";
        break;
      case '>':
        piece = "&gt;";
        break;
      default:
        length = std::max<std::size_t>(1, utf8_sequence_length(text, i));
        piece = text.substr(i, length);
    }
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += length;
  }
  *consumed = i;
  return out;
}

// Escaped and cut to `max_bytes`, with an ellipsis when something was left out.
std::string slack_escape(std::string_view text, std::size_t max_bytes = kSlackMaxFieldBytes) {
  std::size_t consumed = 0;
  std::string out = slack_escape_prefix(text, max_bytes, &consumed);
  if (consumed < text.size()) out += "…";
  return out;
}

// A review id as one shell word: ids are made of letters, digits and '-', but the line is
// meant to be pasted into a shell, so anything else is quoted rather than trusted.
std::string shell_word(std::string_view word) {
  const bool plain = !word.empty() && word.find_first_not_of(
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-_.") == std::string_view::npos;
  if (plain) return std::string(word);
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string cli_line(std::string_view verb, const ReviewRecord& review) {
  return fmt::format("portcullis review {} {} --comment '...'", verb, shell_word(review.id));
}

// "POST https://gateway:18080/api/v1/reviews/r-abc/approve", or empty without an API URL.
std::string api_line(std::string_view verb, const Notification& notification) {
  std::string_view base = notification.api_url;
  while (base.ends_with('/')) base.remove_suffix(1);
  if (base.empty()) return {};
  return fmt::format("POST {}/api/v1/reviews/{}/{}", base,
                     boost::urls::encode(notification.review.id, boost::urls::pchars), verb);
}

bool is_pending(const ReviewRecord& review) {
  return review.status == store::ReviewStatus::pending;
}

std::size_t approval_count(const ReviewRecord& review) {
  std::size_t count = 0;
  for (const auto& vote : review.votes) count += vote.approve ? 1 : 0;
  return count;
}

void put(json::object& object, std::string_view key, std::string_view value) {
  if (!value.empty()) object[key] = valid_utf8(value);
}

void put(json::object& object, std::string_view key, TimePoint time) {
  if (is_set(time)) object[key] = format_time(time);
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) out.emplace_back(valid_utf8(item));
  return out;
}

json::object review_object(const ReviewRecord& review) {
  json::object out;
  put(out, "id", review.id);
  out["kind"] = kind_name(review.kind);
  out["status"] = status_name(review.status);
  put(out, "requester", review.requester);
  put(out, "connection", review.connection);
  put(out, "session", review.session);
  put(out, "command", review.command);
  put(out, "rule", review.rule);
  json::object reviewers;
  if (!review.reviewer_groups.empty()) reviewers["groups"] = string_array(review.reviewer_groups);
  if (!review.reviewer_subjects.empty())
    reviewers["subjects"] = string_array(review.reviewer_subjects);
  if (!reviewers.empty()) out["reviewers"] = std::move(reviewers);
  out["min_approvals"] = review.min_approvals;
  json::array approvals;
  for (const auto& vote : review.votes) {
    if (!vote.approve) continue;  // a rejection decides the review: decided_by and comment
    json::object approval;
    put(approval, "reviewer", vote.reviewer);
    put(approval, "comment", vote.comment);
    put(approval, "time", vote.time);
    approvals.emplace_back(std::move(approval));
  }
  if (!approvals.empty()) out["approvals"] = std::move(approvals);
  put(out, "decided_by", review.decided_by);
  put(out, "comment", review.comment);
  put(out, "reason", review.reason);
  // Whole seconds, as the REST API's duration_s: a receiver reads both alike.
  const auto duration = std::chrono::duration_cast<std::chrono::seconds>(review.duration);
  if (duration.count() > 0) out["duration_s"] = duration.count();
  put(out, "created", review.created_at);
  put(out, "expires", review.expires_at);
  if (review.decided_at) put(out, "decided", *review.decided_at);
  if (review.grant_expires_at) put(out, "grant_expires", *review.grant_expires_at);
  if (review.executed_at) put(out, "executed", *review.executed_at);
  return out;
}

json::object decision_object(std::string_view verb, const Notification& notification) {
  json::object out;
  out["cli"] = valid_utf8(cli_line(verb, notification.review));
  put(out, "api", api_line(verb, notification));
  return out;
}

// ---- Slack

json::object mrkdwn(std::string text) {
  return json::object{{"type", "mrkdwn"}, {"text", std::move(text)}};
}

json::object section(std::string text) {
  return json::object{{"type", "section"}, {"text", mrkdwn(std::move(text))}};
}

// The headline: what happened, in plain text (Slack does not interpret a header's text).
std::string slack_title(const Notification& n) {
  const ReviewRecord& r = n.review;
  std::string title;
  if (n.event == kNotifyReviewPending)
    title = fmt::format("Approval needed: a statement on {}", r.connection);
  else if (n.event == kNotifyAccessRequested)
    title = fmt::format("Access requested to {}", r.connection);
  else if (n.event == kNotifyApproved)
    title = fmt::format("Approved: review {}", r.id);
  else if (n.event == kNotifyRejected)
    title = fmt::format("Rejected: review {}", r.id);
  else if (n.event == kNotifyExpired)
    title = fmt::format("Expired: review {}", r.id);
  else
    title = fmt::format("Review {}: {}", r.id, n.event);
  return std::string(clip(valid_utf8(title), kSlackMaxHeaderBytes));
}

// The notification's text for clients that cannot show blocks (and for phone notifications).
std::string slack_fallback(const Notification& n) {
  const ReviewRecord& r = n.review;
  const std::string who = fmt::format("{} on {}", r.requester, r.connection);
  std::string text;
  if (n.event == kNotifyReviewPending || n.event == kNotifyAccessRequested) {
    const std::string_view what =
        n.event == kNotifyAccessRequested ? "Access requested" : "Approval needed";
    text = fmt::format("{}: review {}, {} (rule {}). Approve: {}", what, r.id, who, r.rule,
                       cli_line("approve", r));
  } else if (n.event == kNotifyApproved || n.event == kNotifyRejected) {
    text =
        fmt::format("{}: review {} ({}) by {}",
                    n.event == kNotifyApproved ? "Approved" : "Rejected", r.id, who, r.decided_by);
  } else if (n.event == kNotifyExpired) {
    text = fmt::format("Expired: review {} ({}), nobody decided in time", r.id, who);
  } else {
    text = fmt::format("Review {} ({}): {}", r.id, who, n.event);
  }
  return slack_escape(valid_utf8(text));
}

std::string slack_field(std::string_view label, std::string_view value) {
  return fmt::format("*{}*\n{}", label, slack_escape(valid_utf8(value)));
}

// The statement in a code block, cut to kSlackMaxCommandBytes with a note of how much is
// left out.
std::string slack_command(const ReviewRecord& r) {
  const std::string command = valid_utf8(r.command);
  std::size_t consumed = 0;
  std::string shown = slack_escape_prefix(command, kSlackMaxCommandBytes, &consumed);
  for (std::size_t at = shown.find("```"); at != std::string::npos; at = shown.find("```", at))
    shown.insert(at + 2, kZeroWidthSpace);
  std::string out = fmt::format("*Statement*\n```{}```", shown);
  if (consumed < command.size())
    out += fmt::format("\n_{} more bytes not shown; `portcullis review show {}` shows it all_",
                       command.size() - consumed, slack_escape(shell_word(r.id)));
  return out;
}

std::string slack_how_to_decide(const Notification& n) {
  std::string out =
      fmt::format("*To approve*\n`{}`", slack_escape(valid_utf8(cli_line("approve", n.review))));
  if (const std::string api = api_line("approve", n); !api.empty())
    out += fmt::format("\nor `{}`", slack_escape(valid_utf8(api)));
  out += fmt::format("\nTo reject: `{}`", slack_escape(valid_utf8(cli_line("reject", n.review))));
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string slack_context(const ReviewRecord& r) {
  std::string out;
  const auto add = [&](const std::string& text) {
    if (text.empty()) return;
    if (!out.empty()) out += " · ";
    out += text;
  };
  if (!r.reviewer_groups.empty()) add("reviewers: groups " + join(r.reviewer_groups));
  if (!r.reviewer_subjects.empty()) add("reviewers: " + join(r.reviewer_subjects));
  if (is_pending(r)) {
    add(fmt::format("{} of {} approvals", approval_count(r), r.min_approvals));
    if (is_set(r.expires_at)) add("expires " + format_time(r.expires_at));
  } else if (r.grant_expires_at) {
    add("grant until " + format_time(*r.grant_expires_at));
  }
  return slack_escape(valid_utf8(out));
}

}  // namespace

std::string generic_payload(const Notification& notification) {
  json::object out;
  out["event"] = valid_utf8(notification.event);
  out["review"] = review_object(notification.review);
  if (is_pending(notification.review)) {
    out["approve"] = decision_object("approve", notification);
    out["reject"] = decision_object("reject", notification);
  }
  return json::serialize(out);
}

std::string slack_payload(const Notification& notification) {
  const ReviewRecord& r = notification.review;
  json::array blocks;
  blocks.emplace_back(json::object{
      {"type", "header"},
      {"text", json::object{{"type", "plain_text"}, {"text", slack_title(notification)}}}});

  json::array fields;
  const auto field = [&](std::string_view label, std::string_view value) {
    if (!value.empty()) fields.emplace_back(mrkdwn(slack_field(label, value)));
  };
  field("Review", r.id);
  field("Requester", r.requester);
  field("Connection", r.connection);
  field("Rule", r.rule);
  if (r.duration.count() > 0) field("Duration", config::format_duration(r.duration));
  if (!is_pending(r)) field("Decided by", r.decided_by);
  if (!fields.empty())
    blocks.emplace_back(json::object{{"type", "section"}, {"fields", std::move(fields)}});

  if (!r.reason.empty()) blocks.emplace_back(section(slack_field("Reason", r.reason)));
  if (!r.command.empty()) blocks.emplace_back(section(slack_command(r)));
  if (!is_pending(r) && !r.comment.empty())
    blocks.emplace_back(section(slack_field("Comment", r.comment)));
  if (is_pending(r)) blocks.emplace_back(section(slack_how_to_decide(notification)));
  if (std::string context = slack_context(r); !context.empty())
    blocks.emplace_back(
        json::object{{"type", "context"}, {"elements", json::array{mrkdwn(std::move(context))}}});

  json::object out{{"text", slack_fallback(notification)}, {"blocks", std::move(blocks)}};
  return json::serialize(out);
}

}  // namespace portcullis::review
