// Constants in the parse tree: the text of a literal, and the value of the simple constant
// boolean expressions people write to mean "every row" (WHERE true, WHERE 1=1).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace portcullis::sql::postgres {

// True only when PostgreSQL's parse_bool would read `text` as true: any other text (off,
// false, 0, DEFAULT, an expression) is treated as turning read-only off (fail closed).
bool clearly_true(std::string_view text);

// The value of an A_Const (possibly under a TypeCast) as text: "1", "off", "true".
// Empty optional for anything that is not a constant, or a NULL constant.
std::optional<std::string> const_text(simdjson::dom::element e);

// Value of a constant boolean expression, when the expression is one of the simple forms
// people write to mean "every row": true, 't', 1::bool, 1=1, 'a'='a', 2>1, x=x, NOT false,
// a OR (1=1), NULL IS NULL. Anything else: nullopt (not known to be constant).
// With `params_true`, a bound parameter ($1) counts as possibly true: a WHERE that a bound
// value can make constant true is treated as absent.
std::optional<bool> const_bool(simdjson::dom::element e, int depth = 0, bool params_true = false);

}  // namespace portcullis::sql::postgres
