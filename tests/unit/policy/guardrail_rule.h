// A guardrail as the decision tests write them: a name, an action and its conditions; one that
// asks for a review is reviewed by the group "ops-leads".
#pragma once

#include <string>
#include <utility>

#include "config/config.h"

namespace portcullis::policy {

inline config::GuardrailConfig guardrail(std::string name, config::GuardrailAction action,
                                         config::GuardrailWhen when) {
  config::GuardrailConfig g;
  g.name = std::move(name);
  g.action = action;
  g.when = std::move(when);
  if (action == config::GuardrailAction::review) g.reviewers.groups = {"ops-leads"};
  return g;
}

}  // namespace portcullis::policy
