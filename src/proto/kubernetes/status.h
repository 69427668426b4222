// The Kubernetes `Status` object the gateway answers with when it refuses a request or cannot
// complete it: kubectl and the client libraries print its message ("Error from server
// (Forbidden): portcullis: blocked by rule ..."). Pure.
#pragma once

#include <string>
#include <string_view>

#include "gateway/refusal.h"

namespace portcullis::proto::kubernetes {

struct StatusCode {
  unsigned http = 403;
  std::string_view reason = "Forbidden";  // the Status object's `reason` (a StatusReason)
};

// The HTTP status and Status reason a refusal is answered with.
StatusCode status_of(gateway::RefusalReason reason);

// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
// "reason":...,"code":...}`.
std::string status_json(StatusCode code, std::string_view message);

}  // namespace portcullis::proto::kubernetes
