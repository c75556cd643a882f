// Legacy PyTorch checkpoints (torch.save before 1.6, or _use_new_zipfile_serialization=
// False): five pickles back to back — the magic number, the protocol version (1001), the
// sys_info dict, the object itself, the list of storage keys — then each listed storage as
// an int64 element count followed by its raw little-endian bytes.
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/byte_reader.h"
#include "readers/pytorch_reader.h"

namespace htsr::readers {
namespace {

using pickle::Kind;
using pickle::Object;

// PROTO 2, LONG1 of 10 bytes = 0x1950a86a20f9469cfc6c (torch's MAGIC_NUMBER), STOP.
constexpr unsigned char kMagicPickle[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                          0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
constexpr int64_t kLegacyProtocolVersion = 1001;

absl::Status Bad(const std::string& path, uint64_t offset, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": legacy PyTorch format: ", what, " (at byte ", offset, ")"));
}

const Object* DictGet(const Object* dict, absl::string_view key) {
  if (dict->kind != Kind::kDict) return nullptr;
  for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
    if (dict->items[i]->kind == Kind::kString && dict->items[i]->text == key) {
      return dict->items[i + 1];
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenLegacyPytorch(FileBytes file) {
  const std::string path = file.name;
  const auto bytes = file.bytes;
  if (bytes.size() < sizeof kMagicPickle ||
      std::memcmp(bytes.data(), kMagicPickle, sizeof kMagicPickle) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": a bare pickle without PyTorch's legacy magic number; re-save with "
                     "torch.save(..., _use_new_zipfile_serialization=True)"));
  }
  size_t pos = sizeof kMagicPickle;
  const std::string where = path;

  // Each pickle gets its own unpickler; the objects of the main one must outlive Build.
  pickle::Unpickler version(bytes.subspan(pos), where, pos);
  HTSR_ASSIGN_OR_RETURN(const Object* v, version.Run());
  if (v->kind != Kind::kInt || v->integer != kLegacyProtocolVersion) {
    return Bad(path, pos, "unsupported protocol version");
  }
  pos += version.consumed();

  pickle::Unpickler sys_info(bytes.subspan(pos), where, pos);
  HTSR_ASSIGN_OR_RETURN(const Object* info, sys_info.Run());
  const Object* little = DictGet(info, "little_endian");
  if (little == nullptr || little->kind != Kind::kBool || !little->boolean) {
    return Bad(path, pos, "only little-endian checkpoints are supported");
  }
  pos += sys_info.consumed();

  pickle::Unpickler main(bytes.subspan(pos), absl::StrCat(path, " (main pickle)"), pos);
  HTSR_ASSIGN_OR_RETURN(const Object* root, main.Run());
  pos += main.consumed();

  pickle::Unpickler keys_pickle(bytes.subspan(pos), where, pos);
  HTSR_ASSIGN_OR_RETURN(const Object* keys, keys_pickle.Run());
  if (keys->kind != Kind::kList) return Bad(path, pos, "storage key list is not a list");
  pos += keys_pickle.consumed();

  std::unordered_map<std::string, const Object*> storage_objects;
  for (const Object* s : main.storages()) storage_objects.emplace(s->storage_key, s);

  std::unordered_map<std::string, StorageLocation> storages;
  ByteReader r(bytes);
  r.Seek(pos);
  for (const Object* key : keys->items) {
    if (key->kind != Kind::kString) return Bad(path, r.offset(), "storage key is not a string");
    const auto it = storage_objects.find(key->text);
    if (it == storage_objects.end()) {
      return Bad(path, r.offset(), absl::StrCat("storage '", key->text, "' is never used"));
    }
    const size_t header_at = r.offset();
    int64_t numel;
    if (!r.Read(&numel) || numel < 0) {
      return Bad(path, header_at, absl::StrCat("bad element count of storage '", key->text, "'"));
    }
    const auto nbytes = CheckedMul(static_cast<uint64_t>(numel), it->second->elem_bytes);
    std::span<const std::byte> data;
    if (!nbytes || *nbytes > r.remaining() || !r.ReadBytes(static_cast<size_t>(*nbytes), &data)) {
      return absl::OutOfRangeError(absl::StrCat(path, ": legacy PyTorch format: storage '",
                                                key->text, "' of ", numel, " elements at byte ",
                                                header_at + 8, " runs past the end of the file (",
                                                bytes.size(), " bytes)"));
    }
    StorageLocation loc;
    loc.direct = data;
    loc.size_bytes = data.size();
    loc.file_offset = header_at + 8;
    loc.label = absl::StrCat("storage '", key->text, "'");
    if (!storages.emplace(key->text, std::move(loc)).second) {
      return Bad(path, header_at, absl::StrCat("storage '", key->text, "' listed twice"));
    }
  }
  auto reader = std::make_unique<PytorchReader>("pytorch", std::move(file), std::nullopt);
  HTSR_RETURN_IF_ERROR(reader->Build(root, storages));
  return reader;
}

}  // namespace htsr::readers
