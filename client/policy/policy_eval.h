// Evaluates a policy against one analysed model: one violation per broken rule, each with
// a one-line message that names the offending layers (worst first).
#ifndef HTSR_CLIENT_POLICY_POLICY_EVAL_H_
#define HTSR_CLIENT_POLICY_POLICY_EVAL_H_

#include <string>
#include <vector>

#include "model/model_report.h"
#include "policy/policy.h"

namespace htsr::policy {

struct Violation {
  std::string rule;     // the policy key, e.g. "max_alpha"
  double limit = 0;     // the rule's limit
  double value = 0;     // the worst value found (a count for count rules)
  std::string message;  // one line, no trailing newline
};

std::vector<Violation> Evaluate(const Policy& policy, const model::ModelReport& report);

// True when `name` matches one of the ignore patterns: an fnmatch glob when it has
// wildcards, else a substring.
bool IsIgnored(const Policy& policy, const std::string& name);

}  // namespace htsr::policy

#endif  // HTSR_CLIENT_POLICY_POLICY_EVAL_H_
