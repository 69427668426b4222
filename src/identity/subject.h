// What a subject may contain. A subject goes into the operational log, the audit journal and
// the API's answers: a control character, a line separator or a byte that is not UTF-8 could
// forge a log line or confuse a reader, so a credential carrying one is refused outright.
#pragma once

#include <string_view>

#include "common/result.h"

namespace portcullis::identity {

// Refuses control characters (U+0000..U+001F, U+007F..U+009F), the Unicode line and paragraph
// separators (U+2028, U+2029) and invalid UTF-8 (overlong forms and surrogates included).
// `what` names the value in the reason: "token subject", "\"sub\" claim", "API key name".
Result<void> validate_subject(std::string_view subject, std::string_view what);

}  // namespace portcullis::identity
