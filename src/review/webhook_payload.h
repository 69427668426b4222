// The bodies the notifier posts: a generic JSON document for any receiver, and a Slack
// incoming-webhook message. Pure functions of a notification, so that what a receiver sees
// is tested without a network.
#pragma once

#include <cstddef>
#include <string>

#include "review/notification.h"

namespace portcullis::review {

// Bytes of (escaped) statement text a Slack message shows: Slack refuses a section whose text
// is over 3000 characters, and the rest of the section needs room for the code fence and the
// truncation note.
inline constexpr std::size_t kSlackMaxCommandBytes = 2000;

// {"event", "review": {...}, "approve": {...}, "reject": {...}} — see docs/notifications.md.
// The review object has the REST API's field names (GET /api/v1/reviews/{id}); empty fields
// are left out; times are RFC 3339 UTC; "approve" and "reject" only while the review is
// pending.
std::string generic_payload(const Notification& notification);

// {"text": fallback, "blocks": [...]} for a Slack incoming webhook (or a Slack-compatible
// receiver such as Mattermost). Caller-supplied text is escaped for Slack's mrkdwn.
std::string slack_payload(const Notification& notification);

}  // namespace portcullis::review
