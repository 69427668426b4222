// decide(): the single point where a command's fate is settled.
#include "policy/decide.h"

namespace portcullis::policy {

Decision decide(const Config& /*config*/, const Grant& grant, const Command& /*command*/) {
  Decision decision;
  decision.verdict = Verdict::allow;
  decision.rule = grant.rule;
  return decision;
}

}  // namespace portcullis::policy
