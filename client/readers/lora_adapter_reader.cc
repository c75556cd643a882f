// PEFT LoRA adapter directories (adapter_config.json + adapter_model.safetensors / .bin):
// each adapted module's factors lora_A (r x in) and lora_B (out x r) become one layer, the
// update scale * B A (scale = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora),
// handed to the engine as factors (TensorInfo::low_rank), never as the formed product.
//
// Like the reference's analyze(peft=True) without a base model, only the LoRA products are
// analysed: other tensors in the adapter (modules_to_save copies, DoRA magnitudes, embedding
// adapters) are left out with a note. A pair that does not agree with itself or with the
// config (missing factor, shapes that do not chain, a rank or module the config does not
// declare) becomes a failed row naming the layer, not a failed model.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/status_macros.h"
#include "readers/checkpoint_reader.h"
#include "readers/json_parser.h"
#include "readers/lora_adapter.h"
#include "readers/mapped_file.h"
#include "readers/reader_base.h"

namespace htsr::readers {
namespace {

constexpr absl::string_view kA = ".lora_A.weight";
constexpr absl::string_view kB = ".lora_B.weight";

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// PEFT matches a module against a config key k as `(.*\.)?k$`; keys here are literal.
bool ModuleMatches(absl::string_view module, absl::string_view key) {
  return module == key || absl::EndsWith(module, absl::StrCat(".", key));
}

absl::StatusOr<double> NumberOf(const JsonValue& v, absl::string_view what) {
  double d = 0;
  if (v.kind != JsonValue::Kind::kNumber || !absl::SimpleAtod(v.text, &d) || !std::isfinite(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter_config.json: ", what, " is not a finite number"));
  }
  return d;
}

struct Pattern {
  std::string key;
  double value = 0;
};

absl::StatusOr<std::vector<Pattern>> PatternOf(const JsonValue& config, absl::string_view field) {
  std::vector<Pattern> out;
  const JsonValue* p = config.Find(field);
  if (p == nullptr || p->kind == JsonValue::Kind::kNull) return out;
  if (!p->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter_config.json: ", field, " is not an object"));
  }
  for (const JsonMember& m : p->object) {
    HTSR_ASSIGN_OR_RETURN(double v, NumberOf(m.value, absl::StrCat(field, "[", m.key, "]")));
    out.push_back({m.key, v});
  }
  return out;
}

class LoraAdapterReader final : public ReaderBase {
 public:
  LoraAdapterReader(std::string dir, std::unique_ptr<CheckpointReader> weights, LoraConfig config)
      : ReaderBase(absl::StrCat("lora adapter (", std::string(weights->Format()), ")"),
                   std::move(dir)),
        weights_(std::move(weights)),
        config_(std::move(config)) {}

  absl::Status Build() {
    const std::vector<TensorInfo>& all = weights_->Tensors();
    std::map<std::string, size_t> b_of;
    for (size_t i = 0; i < all.size(); ++i) {
      if (absl::EndsWith(all[i].name, kB)) {
        b_of[all[i].name.substr(0, all[i].name.size() - kB.size())] = i;
      }
    }
    std::vector<std::pair<std::string, std::string>> other;
    std::set<std::string> paired;
    for (size_t i = 0; i < all.size(); ++i) {
      const TensorInfo& t = all[i];
      if (absl::EndsWith(t.name, kB)) continue;
      if (!absl::EndsWith(t.name, kA)) {
        other.push_back({t.name, "not a lora_A/lora_B factor"});
        continue;
      }
      Layer layer;
      layer.module = t.name.substr(0, t.name.size() - kA.size());
      layer.a = i;
      auto b = b_of.find(layer.module);
      if (b != b_of.end()) {
        layer.b = b->second;
        paired.insert(layer.module);
      }
      Describe(&layer);
      layers_.push_back(std::move(layer));
    }
    std::vector<std::pair<size_t, std::string>> lone_b;  // in file order, not hash order
    for (const auto& [module, index] : b_of) {
      if (!paired.contains(module)) lone_b.push_back({index, module});
    }
    std::sort(lone_b.begin(), lone_b.end());
    for (auto& [index, module] : lone_b) {
      Layer layer;
      layer.module = std::move(module);
      layer.b = index;
      Describe(&layer);
      layers_.push_back(std::move(layer));
    }
    LeaveOut(std::move(other), "kinds");
    for (const std::string& n : weights_->Notes()) AddNote(n);
    for (const std::string& n : weights_->LeftOut()) AddLeftOut(n);
    if (config_.target_modules_regex) {
      AddNote(absl::StrCat(Path(), ": target_modules is a regular expression; not checked"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= layers_.size()) return IndexError(index);
    const Layer& layer = layers_[index];
    if (!layer.problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("LoRA layer ", layer.module, ": ", layer.problem));
    }
    HTSR_ASSIGN_OR_RETURN(TensorView a, weights_->Load(layer.a));
    HTSR_ASSIGN_OR_RETURN(TensorView b, weights_->Load(layer.b));
    const size_t na = a.bytes.size() / DTypeSize(a.info.dtype);
    const size_t nb = b.bytes.size() / DTypeSize(b.info.dtype);
    auto buffer = std::make_shared<std::vector<float>>(na + nb);
    ConvertToFloat32(a.info.dtype, a.bytes.data(), na, buffer->data());
    ConvertToFloat32(b.info.dtype, b.bytes.data(), nb, buffer->data() + na);
    TensorView view;
    view.info = Tensors()[index];
    view.bytes = std::as_bytes(std::span<const float>(*buffer));
    view.owner = buffer;
    return view;
  }

  absl::Status CheckIntact() const override { return weights_->CheckIntact(); }

 private:
  struct Layer {
    std::string module;
    size_t a = SIZE_MAX, b = SIZE_MAX;
    std::string problem;  // why this pair cannot be analysed (a failed row)
  };

  // Checks a pair against itself and the config and adds its TensorInfo (logical shape
  // out x in); a pair with a problem still gets a row, failed with that reason.
  void Describe(Layer* layer) {
    const std::vector<TensorInfo>& all = weights_->Tensors();
    TensorInfo info;
    info.name = absl::StrCat(layer->module, ".lora_BA.weight");
    info.dtype = DType::kF32;
    const TensorInfo* a = layer->a != SIZE_MAX ? &all[layer->a] : nullptr;
    const TensorInfo* b = layer->b != SIZE_MAX ? &all[layer->b] : nullptr;
    auto shape = [](const TensorInfo& t) {
      return absl::StrCat("[", absl::StrJoin(t.shape, ", "), "]");
    };
    int64_t r = 0, in = 1, out = 1;
    if (a != nullptr && a->shape.size() == 2) r = a->shape[0], in = a->shape[1];
    if (b != nullptr && b->shape.size() == 2) out = b->shape[0], r = r ? r : b->shape[1];
    r = std::max<int64_t>(r, 1);
    if (a == nullptr) {
      layer->problem = "lora_A is missing (only lora_B is in the adapter)";
    } else if (b == nullptr) {
      layer->problem = "lora_B is missing (only lora_A is in the adapter)";
    } else if (a->shape.size() != 2 || b->shape.size() != 2) {
      layer->problem =
          absl::StrCat("lora_A ", shape(*a), " and lora_B ", shape(*b), " are not both matrices");
    } else if (!IsFloating(a->dtype) || !IsFloating(b->dtype)) {
      layer->problem = "lora_A or lora_B is not floating point";
    } else if (a->shape[0] != b->shape[1]) {
      layer->problem =
          absl::StrCat("lora_B ", shape(*b), " x lora_A ", shape(*a), ": inner dimensions differ");
    } else if (a->shape[0] <= 0 || a->shape[1] <= 0 || b->shape[0] <= 0) {
      layer->problem = absl::StrCat("empty factor: lora_A ", shape(*a), ", lora_B ", shape(*b));
    }
    double rank = config_.r, alpha = config_.lora_alpha;
    for (const auto& [key, v] : config_.rank_pattern) {
      if (ModuleMatches(layer->module, key)) rank = v;
    }
    for (const auto& [key, v] : config_.alpha_pattern) {
      if (ModuleMatches(layer->module, key)) alpha = v;
    }
    if (layer->problem.empty() && static_cast<double>(r) != rank) {
      layer->problem =
          absl::StrCat("lora_A has rank ", r, " but adapter_config.json says r = ", rank);
    }
    if (layer->problem.empty() && !config_.target_modules_regex &&
        !config_.target_modules.empty()) {
      bool targeted = false;
      for (const std::string& t : config_.target_modules)
        targeted |= ModuleMatches(layer->module, t);
      if (!targeted) {
        layer->problem = absl::StrCat("module is not in adapter_config.json's target_modules [",
                                      absl::StrJoin(config_.target_modules, ", "), "]");
      }
    }
    // A missing factor's side is taken as r, so that the planner sees a rank-r layer (and its
    // size filter) and the row fails at load time with the problem as its reason.
    info.shape = {b != nullptr ? out : r, a != nullptr ? in : r};
    info.low_rank = r;
    info.low_rank_scale = alpha / (config_.use_rslora ? std::sqrt(rank) : rank);
    info.low_rank_fan_in_fan_out = config_.fan_in_fan_out;
    // The bytes Load hands out: both factors as float32.
    const uint64_t bytes = layer->problem.empty() ? info.DataBytes().value_or(0) : 0;
    AddTensor(std::move(info), bytes);
  }

  std::unique_ptr<CheckpointReader> weights_;
  LoraConfig config_;
  std::vector<Layer> layers_;
};

}  // namespace

absl::StatusOr<LoraConfig> ParseLoraConfig(absl::string_view text) {
  absl::StatusOr<JsonValue> json = ParseJson(text);
  if (!json.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter_config.json is not valid JSON: ", json.status().message()));
  }
  if (!json->IsObject()) {
    return absl::InvalidArgumentError("adapter_config.json is not a JSON object");
  }
  LoraConfig c;
  if (const JsonValue* pt = json->Find("peft_type");
      pt != nullptr && pt->IsString() && pt->text != "LORA") {
    return absl::UnimplementedError(absl::StrCat("adapter_config.json: peft_type ", pt->text,
                                                 " (htsr reads LORA adapters only)"));
  }
  if (const JsonValue* r = json->Find("r"); r != nullptr) {
    const std::optional<uint64_t> v = r->AsUint64();
    if (!v.has_value() || *v == 0 || *v > (uint64_t{1} << 20)) {
      return absl::InvalidArgumentError("adapter_config.json: r is not a positive integer");
    }
    c.r = static_cast<double>(*v);
  }
  if (const JsonValue* a = json->Find("lora_alpha"); a != nullptr) {
    HTSR_ASSIGN_OR_RETURN(c.lora_alpha, NumberOf(*a, "lora_alpha"));
  }
  if (const JsonValue* u = json->Find("use_rslora"); u != nullptr) {
    if (u->kind != JsonValue::Kind::kBool) {
      return absl::InvalidArgumentError("adapter_config.json: use_rslora is not true/false");
    }
    c.use_rslora = u->boolean;
  }
  if (const JsonValue* f = json->Find("fan_in_fan_out"); f != nullptr) {
    if (f->kind != JsonValue::Kind::kBool) {
      return absl::InvalidArgumentError("adapter_config.json: fan_in_fan_out is not true/false");
    }
    c.fan_in_fan_out = f->boolean;
  }
  if (const JsonValue* t = json->Find("target_modules"); t != nullptr) {
    if (t->IsString()) {
      c.target_modules_regex = true;
    } else if (t->IsArray()) {
      for (const JsonValue& m : t->array) {
        if (!m.IsString()) {
          return absl::InvalidArgumentError(
              "adapter_config.json: target_modules holds a non-string");
        }
        c.target_modules.push_back(m.text);
      }
    } else if (t->kind != JsonValue::Kind::kNull) {
      return absl::InvalidArgumentError(
          "adapter_config.json: target_modules is neither a list nor a string");
    }
  }
  HTSR_ASSIGN_OR_RETURN(std::vector<Pattern> ranks, PatternOf(*json, "rank_pattern"));
  HTSR_ASSIGN_OR_RETURN(std::vector<Pattern> alphas, PatternOf(*json, "alpha_pattern"));
  for (const Pattern& p : ranks) c.rank_pattern.push_back({p.key, p.value});
  for (const Pattern& p : alphas) c.alpha_pattern.push_back({p.key, p.value});
  return c;
}

bool IsLoraAdapterDir(const std::string& dir) {
  return IsFile(absl::StrCat(dir, "/adapter_config.json"));
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenLoraAdapter(const std::string& dir) {
  const std::string config_path = absl::StrCat(dir, "/adapter_config.json");
  HTSR_ASSIGN_OR_RETURN(FileBytes config_bytes, MapFile(config_path));
  const absl::string_view text(reinterpret_cast<const char*>(config_bytes.bytes.data()),
                               config_bytes.bytes.size());
  absl::StatusOr<LoraConfig> config = ParseLoraConfig(text);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(dir, "/", config.status().message()));
  }
  std::string weights_path;
  for (const char* name : {"adapter_model.safetensors", "adapter_model.bin"}) {
    if (IsFile(absl::StrCat(dir, "/", name))) {
      weights_path = absl::StrCat(dir, "/", name);
      break;
    }
  }
  if (weights_path.empty()) {
    return absl::NotFoundError(absl::StrCat(
        dir,
        ": has adapter_config.json but neither adapter_model.safetensors nor adapter_model.bin"));
  }
  HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> weights, OpenCheckpoint(weights_path));
  auto reader = std::make_unique<LoraAdapterReader>(dir, std::move(weights), *std::move(config));
  HTSR_RETURN_IF_ERROR(reader->Build());
  return std::unique_ptr<CheckpointReader>(std::move(reader));
}

}  // namespace htsr::readers
