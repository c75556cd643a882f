// Quality gates on an analysed model (`htsr check`): registry upload hooks and CI steps.
// A policy is a set of rules, each a limit on a per-layer metric or on the model summary.
// Every rule is optional, but a policy file must set at least one, and a model in which no
// layer was analysed fails every policy unless min_analyzed_layers is 0 (fail closed).
#ifndef HTSR_CLIENT_POLICY_POLICY_H_
#define HTSR_CLIENT_POLICY_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace htsr::policy {

struct Policy {
  // Per layer (analysed layers; layers matching ignore_layers are exempt).
  std::optional<double> max_alpha;  // every layer's alpha <= this (6: under-trained above)
  std::optional<double> min_alpha;  // every layer's alpha >= this (2: over-trained below)
  std::optional<double> max_log_spectral_norm;
  // Counts.
  std::optional<int64_t> max_failed_layers;
  std::optional<int64_t> max_under_trained_layers;  // alpha > 6
  std::optional<int64_t> max_over_trained_layers;   // alpha < 2
  // Unset means 1: a model with no analysed layer fails every policy (fail closed); 0 allows it.
  std::optional<int64_t> min_analyzed_layers;
  // Model summary (means over analysed layers).
  std::optional<double> max_mean_alpha;
  std::optional<double> min_mean_alpha;
  std::optional<double> max_mean_log_spectral_norm;
  // Layer name globs (fnmatch) or substrings exempt from the per-layer rules and counts.
  std::vector<std::string> ignore_layers;
};

// The keys a policy file may use (for help text and error messages).
const std::vector<std::string>& PolicyKeys();

// Parses a policy: JSON when the text starts with '{', else the YAML subset (flat
// `key: value` lines, `#` comments, lists as `key: [a, b]` or indented `- item` lines).
// Unknown keys are errors: a misspelt gate must not pass silently. `name` is the file
// named in errors.
absl::StatusOr<Policy> ParsePolicy(const std::string& text, const std::string& name);
absl::StatusOr<Policy> ReadPolicyFile(const std::string& path);

// Sets one rule from text (a flag value or a file value); the key uses underscores.
absl::Status SetPolicyValue(Policy& policy, const std::string& key,
                            const std::vector<std::string>& values, bool is_list);

}  // namespace htsr::policy

#endif  // HTSR_CLIENT_POLICY_POLICY_H_
