// PEFT LoRA adapter directories (lora_adapter_reader.cc).
#ifndef HTSR_CLIENT_READERS_LORA_ADAPTER_H_
#define HTSR_CLIENT_READERS_LORA_ADAPTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers {

// The fields of adapter_config.json that decide the update's scale and which layers exist
// (PEFT's defaults where a field is absent: r 8, lora_alpha 8).
struct LoraConfig {
  double r = 8;
  double lora_alpha = 8;
  bool use_rslora = false;                  // scale lora_alpha / sqrt(r) instead of / r
  bool fan_in_fan_out = false;              // base weights stored (in, out): update (BA)^T
  std::vector<std::string> target_modules;  // empty: not checked
  bool target_modules_regex = false;        // a string: PEFT's regex, not checked
  std::vector<std::pair<std::string, double>> rank_pattern, alpha_pattern;
};

absl::StatusOr<LoraConfig> ParseLoraConfig(absl::string_view text);

// Whether `dir` holds adapter_config.json.
bool IsLoraAdapterDir(const std::string& dir);

// One layer per adapted module, named `<module>.lora_BA` as the reference names it; its
// tensor is the factor pair (TensorInfo::low_rank).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenLoraAdapter(const std::string& dir);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_LORA_ADAPTER_H_
