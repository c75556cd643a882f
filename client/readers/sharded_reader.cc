// Hugging Face sharded checkpoints: a *.index.json whose "weight_map" maps each tensor name
// to a shard file beside it. Shards are opened once each, in sorted file-name order, and
// within a shard tensors follow the index's order — the order the reference builds from
// the same file (np.unique over the shard names, then weight_map order).
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/json_parser.h"
#include "readers/mapped_file.h"
#include "readers/reader_base.h"

namespace htsr::readers {
namespace {

// The shard reader validated the shape, so the size is known to fit.
uint64_t ByteSize(const TensorInfo& info) {
  return CheckedByteSize(info.shape, DTypeSize(info.dtype)).value_or(0);
}

struct Slot {
  size_t shard = 0;
  size_t index = 0;  // within the shard
};

class ShardedReader : public ReaderBase {
 public:
  explicit ShardedReader(std::string path) : ReaderBase("sharded", std::move(path)) {}

  absl::Status Build(const JsonValue& weight_map, const std::string& dir);

  std::string_view Format() const override { return format_; }

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= slots_.size()) return IndexError(index);
    return shards_[slots_[index].shard]->Load(slots_[index].index);
  }

  absl::Status CheckIntact() const override {
    for (const auto& shard : shards_) HTSR_RETURN_IF_ERROR(shard->CheckIntact());
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Path(), ": ", what));
  }

  std::string format_ = "sharded";
  std::vector<std::unique_ptr<CheckpointReader>> shards_;
  std::vector<Slot> slots_;
};

absl::Status ShardedReader::Build(const JsonValue& weight_map, const std::string& dir) {
  std::set<std::string> shard_names;  // sorted, as the reference's np.unique
  for (const auto& [tensor, file] : weight_map.object) {
    if (!file.IsString()) return Error(absl::StrCat("weight_map['", tensor, "'] is not a string"));
    const std::string& f = file.text;
    // Shards are plain names beside the index: no paths, so an index cannot point us at
    // arbitrary files elsewhere.
    if (f.empty() || f == "." || f == ".." || f.find('/') != std::string::npos ||
        f.find('\\') != std::string::npos || f.find('\0') != std::string::npos) {
      return Error(absl::StrCat("weight_map['", tensor, "'] = '", f,
                                "' is not a file name beside the index"));
    }
    shard_names.insert(f);
  }
  for (const std::string& shard_name : shard_names) {
    const std::string shard_path = dir + shard_name;
    HTSR_ASSIGN_OR_RETURN(FileBytes bytes, MapFile(shard_path));
    HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> shard,
                          OpenMappedFileBytes(std::move(bytes), /*allow_index=*/false));
    if (shards_.empty()) format_ = "sharded " + std::string(shard->Format());
    std::unordered_map<std::string, size_t> by_name;
    const auto& infos = shard->Tensors();
    for (size_t i = 0; i < infos.size(); ++i) by_name.emplace(infos[i].name, i);
    const std::unordered_set<std::string> left_out(shard->LeftOut().begin(),
                                                   shard->LeftOut().end());
    std::vector<bool> listed(infos.size(), false);
    const size_t shard_index = shards_.size();
    for (const auto& [tensor, file] : weight_map.object) {
      if (file.text != shard_name) continue;
      const auto it = by_name.find(tensor);
      if (it == by_name.end() && left_out.count(tensor)) continue;  // the shard's note says why
      if (it == by_name.end()) {
        return Error(absl::StrCat("index lists tensor '", tensor, "' in shard '", shard_path,
                                  "', which does not contain it"));
      }
      listed[it->second] = true;
      slots_.push_back(Slot{shard_index, it->second});
      AddTensor(infos[it->second], ByteSize(infos[it->second]));
    }
    // Tensors the index forgot are still analysed, after the listed ones, in shard order.
    for (size_t i = 0; i < infos.size(); ++i) {
      if (listed[i]) continue;
      slots_.push_back(Slot{shard_index, i});
      AddTensor(infos[i], ByteSize(infos[i]));
    }
    for (const std::string& note : shard->Notes()) AddNote(note);
    for (const std::string& name : shard->LeftOut()) AddLeftOut(name);
    shards_.push_back(std::move(shard));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenShardedIndex(FileBytes index_file) {
  const absl::string_view text(reinterpret_cast<const char*>(index_file.bytes.data()),
                               index_file.bytes.size());
  absl::StatusOr<JsonValue> json = ParseJson(text, JsonLimits{.max_depth = 16});
  if (!json.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(index_file.name, ": ", json.status().message()));
  }
  const JsonValue* weight_map = json->IsObject() ? json->Find("weight_map") : nullptr;
  if (weight_map == nullptr || !weight_map->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_file.name, ": index has no \"weight_map\" object"));
  }
  const size_t slash = index_file.name.rfind('/');
  const std::string dir =
      slash == std::string::npos ? std::string() : index_file.name.substr(0, slash + 1);
  auto reader = std::make_unique<ShardedReader>(index_file.name);
  HTSR_RETURN_IF_ERROR(reader->Build(*weight_map, dir));
  return reader;
}

}  // namespace htsr::readers
