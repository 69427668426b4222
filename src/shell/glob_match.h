// Glob matching for the policy's `paths` rules.
#pragma once

#include <string_view>

namespace portcullis::shell {

// fnmatch(3) semantics without FNM_PATHNAME and FNM_PERIOD: `*` and `?` also match `/` and a
// leading dot. A guardrail on `/etc/*` then covers the whole tree under /etc, dot files
// included, which is what a rule that refuses or holds wants; with FNM_PATHNAME a path one
// level deeper would slip past it. `[...]` (with `!` or `^` to negate, ranges `a-z`) and `\`
// escapes work as in fnmatch. Unlike fnmatch, a NUL byte is an ordinary character.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace portcullis::shell
