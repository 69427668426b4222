// The journal filters that /api/v1/audit and /api/v1/audit/stream take from the query string:
// subject, connection, session, verdict, event, since, contains (and limit for a search).
#pragma once

#include <boost/url/params_view.hpp>
#include <chrono>
#include <cstddef>

#include "audit/search.h"
#include "common/result.h"

namespace portcullis::api {

// Matches a search returns without `limit`, as `portcullis audit search`.
inline constexpr std::size_t kDefaultSearchLimit = 100;
// Most matches one search returns: the response is built whole in memory.
inline constexpr std::size_t kMaxSearchLimit = 10000;

// An unknown, repeated or malformed parameter is an error naming it, rather than a filter
// quietly left out: an auditor must not read "no deny records" off a misspelt `verdit=deny`.
// `since` (RFC 3339, a date, or a duration back from `now`) becomes the journal's time text.
Result<audit::SearchQuery> parse_audit_query(boost::urls::params_view params, bool accept_limit,
                                             std::chrono::system_clock::time_point now);

}  // namespace portcullis::api
