// A restricted unpickler for PyTorch state dicts. It interprets the handful of opcodes
// that torch.save emits for dicts of tensors and builds plain values; it never imports
// or calls anything. Globals outside a short allow-list are refused where they appear,
// so os.system, builtins.eval or a user's nn.Module class never get a chance to run.
#ifndef HTSR_CLIENT_READERS_PICKLE_UNPICKLER_H_
#define HTSR_CLIENT_READERS_PICKLE_UNPICKLER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "htsr/dtype.h"

namespace htsr::readers::pickle {

enum class Kind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,   // an allow-listed global: `text` is "module.name"
  kStorage,  // a persistent-id storage reference
  kTensor,   // _rebuild_tensor_v2 / _rebuild_qtensor(storage, offset, size, stride, ...)
};

struct Object {
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;            // string, bytes, global name
  std::vector<Object*> items;  // tuple/list elements; dict as key, value, key, value...
  // kStorage
  DType dtype = DType::kF32;
  // Non-empty for a storage type torch has and htsr does not read (complex, unsigned
  // 16-64 bit, quantised, ...): its class name; `dtype` is then meaningless and
  // `elem_bytes` still bounds its tensors.
  std::string unread_type;
  size_t elem_bytes = 4;
  int values_per_byte = 1;  // 2 or 4 for torch's packed quint4x2 / quint2x4 storages
  std::string storage_key;
  std::string location;
  int64_t storage_numel = 0;
  // kTensor
  const Object* storage = nullptr;
  int64_t storage_offset = 0;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
  bool quantized = false;  // from _rebuild_qtensor: int codes, scale and zero point apart
};

// Owns every object it creates (an arena: no recursive destruction of deep or cyclic
// structures that a hostile pickle could build).
class Unpickler {
 public:
  // `where` names the file and member in errors ("model.pt:archive/data.pkl").
  // `base_offset` is where `data` starts in the file, so that errors give file offsets
  // (legacy checkpoints hold several pickles back to back).
  Unpickler(std::span<const std::byte> data, std::string where, size_t base_offset = 0)
      : data_(data), where_(std::move(where)), base_(base_offset) {}

  // Runs to STOP and returns the top object (owned by this Unpickler).
  absl::StatusOr<const Object*> Run();
  // Bytes consumed by Run, STOP included.
  size_t consumed() const { return consumed_; }
  // Every storage reference the pickle made, in order of appearance.
  const std::vector<const Object*>& storages() const { return storages_; }

 private:
  Object* New(Kind kind);
  absl::Status Error(size_t offset, absl::string_view what) const;
  absl::StatusOr<Object*> MakeGlobal(size_t offset, absl::string_view module,
                                     absl::string_view name);
  absl::StatusOr<Object*> Reduce(size_t offset, Object* callable, Object* args);

  std::span<const std::byte> data_;
  std::string where_;
  size_t base_ = 0;
  size_t consumed_ = 0;
  std::vector<std::unique_ptr<Object>> arena_;
  std::vector<const Object*> storages_;
};

}  // namespace htsr::readers::pickle

#endif  // HTSR_CLIENT_READERS_PICKLE_UNPICKLER_H_
