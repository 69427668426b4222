// How the gateway's refusals read to a PostgreSQL client: a SQLSTATE per reason, and the
// journal's "SQLSTATE: message" form of the same.
#pragma once

#include <string>
#include <string_view>

#include "gateway/refusal.h"

namespace portcullis::proto::postgres {

std::string_view sqlstate_of(gateway::RefusalReason reason);

// For the session recorder: "42501: blocked by rule ...".
std::string journal_error_text(gateway::RefusalReason reason, std::string_view message);

}  // namespace portcullis::proto::postgres
