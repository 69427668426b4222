// Decision: what the decision point says about one Command.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::policy {

enum class Verdict {
  allow,
  deny,
  review,  // hold for a human's approval
};

struct Decision {
  Verdict verdict = Verdict::allow;
  std::string rule;     // name of the rule that decided (access or guardrail)
  std::string message;  // for the caller
  std::vector<std::string> reviewer_groups;
  std::vector<std::string> reviewer_subjects;
  std::size_t min_approvals = 1;
  std::chrono::milliseconds wait{0};  // how long a held statement waits for review
};

inline std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::allow:
      return "allow";
    case Verdict::deny:
      return "deny";
    case Verdict::review:
      return "review";
  }
  return "deny";
}

}  // namespace portcullis::policy
