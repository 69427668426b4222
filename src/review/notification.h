// What the approval workflow tells the people who decide: one notification per step of a
// review, handed to the notifier (webhooks), which never blocks the caller.
#pragma once

#include <string>

#include "store/review_record.h"

namespace portcullis::review {

// Steps a notification announces (the `event` of the generic payload).
inline constexpr std::string_view kNotifyReviewPending = "review_pending";      // held statement
inline constexpr std::string_view kNotifyAccessRequested = "access_requested";  // JIT request
inline constexpr std::string_view kNotifyApproved = "approved";
inline constexpr std::string_view kNotifyRejected = "rejected";
inline constexpr std::string_view kNotifyExpired = "expired";

struct Notification {
  std::string event;  // kNotify...
  store::ReviewRecord review;
  // Base URL of the gateway's REST API for the "how to approve" line, e.g.
  // "https://gateway.example.com:18080"; empty when unknown.
  std::string api_url;
};

}  // namespace portcullis::review
