// PyTorch checkpoints (torch.save's zip format since 1.6): <archive>/data.pkl is a pickled
// (possibly nested) dict of tensors, each tensor a view into a storage stored as the raw
// member <archive>/data/<key>. The pickle is interpreted by the restricted unpickler;
// tensor views are bounds-checked against their storage and copied to row-major on Load
// when they are strided or offset.
#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/pickle_unpickler.h"
#include "readers/pytorch_reader.h"
#include "readers/reader_base.h"
#include "readers/strided_copy.h"
#include "readers/zip_archive.h"

namespace htsr::readers {
namespace {

using pickle::Kind;
using pickle::Object;

// Where checkpoints commonly nest the weights ({"state_dict": ...}, {"model": ...}).
constexpr absl::string_view kNestedKeys[] = {"state_dict", "model", "model_state_dict",
                                             "module",     "net",   "network"};
constexpr int kMaxNesting = 4;

bool HasTensorValue(const Object* dict) {
  for (size_t i = 1; i < dict->items.size(); i += 2) {
    if (dict->items[i]->kind == Kind::kTensor) return true;
  }
  return false;
}

const Object* FindStateDict(const Object* obj, int depth) {
  if (obj->kind != Kind::kDict || depth > kMaxNesting) return nullptr;
  if (HasTensorValue(obj)) return obj;
  for (absl::string_view key : kNestedKeys) {
    for (size_t i = 0; i + 1 < obj->items.size(); i += 2) {
      const Object* k = obj->items[i];
      if (k->kind == Kind::kString && k->text == key) {
        if (const Object* found = FindStateDict(obj->items[i + 1], depth + 1)) return found;
      }
    }
  }
  return nullptr;
}

absl::Status Error(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

absl::StatusOr<TensorView> PytorchReader::Load(size_t index) const {
  if (index >= refs_.size()) return IndexError(index);
  const TensorRef& ref = refs_[index];
  const TensorInfo& info = Tensors()[index];
  ZipBytes storage{ref.storage.direct, ReleasingOwner(file_, ref.storage.direct)};
  if (ref.storage.zip_entry != SIZE_MAX) {
    HTSR_ASSIGN_OR_RETURN(storage, zip_->Read(zip_->entries()[ref.storage.zip_entry]));
  }
  const size_t elem = DTypeSize(info.dtype);
  const std::string what = absl::StrCat(Path(), ": tensor '", info.name, "'");
  // Checked at open against the declared size; again against what was actually read.
  HTSR_RETURN_IF_ERROR(
      CheckStridedBounds(info.shape, ref.stride, ref.offset, elem, storage.bytes.size(), what));
  const size_t nbytes = static_cast<size_t>(*CheckedByteSize(info.shape, elem));
  TensorView view;
  view.info = info;
  if (nbytes == 0) {
    view.owner = std::move(storage.owner);
    return view;
  }
  if (IsRowMajorContiguous(info.shape, ref.stride)) {
    view.bytes = storage.bytes.subspan(static_cast<size_t>(ref.offset) * elem, nbytes);
    view.owner = std::move(storage.owner);
    return view;
  }
  auto copy = std::make_shared<std::vector<std::byte>>(nbytes);
  CopyStrided(storage.bytes, info.shape, ref.stride, ref.offset, elem, false, copy->data());
  view.bytes = std::span<const std::byte>(copy->data(), copy->size());
  view.owner = std::move(copy);
  return view;
}

namespace {

// Bounds of a tensor on a storage that packs `per_byte` values into each byte along its
// last dimension (torch's quint4x2 / quint2x4): each row of the last dimension takes
// ceil(n / per_byte) bytes, from the (element) offset on. Strides are not byte strides
// there, and such tensors are never read, only checked.
absl::Status CheckPackedBounds(std::span<const int64_t> shape, int64_t offset, int per_byte,
                               size_t storage_bytes, const std::string& what) {
  uint64_t rows = 1;
  uint64_t last = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) return absl::InvalidArgumentError(absl::StrCat(what, ": negative size"));
    if (d + 1 == shape.size()) {
      last = static_cast<uint64_t>(shape[d]);
    } else if (const auto r = CheckedMul(rows, static_cast<uint64_t>(shape[d]))) {
      rows = *r;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(what, ": size overflows"));
    }
  }
  const uint64_t per = static_cast<uint64_t>(per_byte);
  const std::optional<uint64_t> bytes = CheckedMul(rows, (last + per - 1) / per);
  if (offset < 0 || !bytes || static_cast<uint64_t>(offset) / per > storage_bytes ||
      *bytes > storage_bytes - static_cast<uint64_t>(offset) / per) {
    return absl::OutOfRangeError(absl::StrCat(what, ": packed tensor of ", rows, " x ", last,
                                              " values at offset ", offset, " does not fit its ",
                                              storage_bytes, "-byte storage"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PytorchReader::Build(
    const Object* root, const std::unordered_map<std::string, StorageLocation>& storages) {
  const Object* dict = FindStateDict(root, 0);
  if (dict == nullptr) {
    if (root->kind != Kind::kDict)
      return Error(Path(), "the pickle does not hold a dict of tensors");
    std::vector<std::string> keys;
    for (size_t i = 0; i < root->items.size() && keys.size() < 10; i += 2) {
      if (root->items[i]->kind == Kind::kString) keys.push_back(root->items[i]->text);
    }
    return Error(Path(), absl::StrCat("no tensors found in the pickled dict (top-level keys: ",
                                      absl::StrJoin(keys, ", "), ")"));
  }
  std::unordered_map<std::string, size_t> position;  // a repeated key replaces in place
  std::vector<TensorInfo> infos;
  std::vector<std::pair<std::string, std::string>> unread;  // (name, what it is)
  for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
    const Object* key = dict->items[i];
    const Object* value = dict->items[i + 1];
    if (value->kind == Kind::kTuple && key->kind == Kind::kString &&
        std::any_of(value->items.begin(), value->items.end(),
                    [](const Object* o) { return o->kind == Kind::kTensor && o->quantized; })) {
      // A quantised module's packed parameters (dynamically quantised Linear:
      // `_packed_params._packed_params` = (qweight, bias)): its weight, left out.
      unread.emplace_back(key->text, "packed quantized parameters");
      continue;
    }
    if (value->kind != Kind::kTensor) continue;  // e.g. counters, strings, nested configs
    if (key->kind != Kind::kString) return Error(Path(), "state dict key is not a string");
    const std::string& name = key->text;
    const Object* storage = value->storage;
    const auto it = storages.find(storage->storage_key);
    if (it == storages.end()) {
      return Error(Path(), absl::StrCat("tensor '", name, "': storage '", storage->storage_key,
                                        "' is missing"));
    }
    const StorageLocation& loc = it->second;
    TensorInfo info;
    info.name = name;
    info.dtype = storage->dtype;
    info.shape = value->size;
    // Validated even when left out: a view past its storage is a broken file either way.
    const std::string what = absl::StrCat(Path(), ": tensor '", name, "' (", loc.label, " at byte ",
                                          loc.file_offset, ")");
    const size_t storage_bytes =
        loc.size_bytes > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(loc.size_bytes);
    if (storage->values_per_byte > 1) {
      HTSR_RETURN_IF_ERROR(CheckPackedBounds(info.shape, value->storage_offset,
                                             storage->values_per_byte, storage_bytes, what));
    } else {
      HTSR_RETURN_IF_ERROR(CheckStridedBounds(info.shape, value->stride, value->storage_offset,
                                              storage->elem_bytes, storage_bytes, what));
    }
    if (value->quantized || !storage->unread_type.empty()) {
      const std::string type = storage->unread_type.empty() ? "torch" : storage->unread_type;
      unread.emplace_back(name, value->quantized ? absl::StrCat("quantized, ", type) : type);
      continue;
    }
    TensorRef ref{loc, value->stride, value->storage_offset};
    const auto [pos, inserted] = position.emplace(name, infos.size());
    if (inserted) {
      infos.push_back(std::move(info));
      refs_.push_back(std::move(ref));
    } else {
      infos[pos->second] = std::move(info);
      refs_[pos->second] = std::move(ref);
    }
  }
  for (TensorInfo& info : infos) {
    const uint64_t bytes = *CheckedByteSize(info.shape, DTypeSize(info.dtype));
    AddTensor(std::move(info), bytes);
  }
  // A key the pickle repeats keeps its read tensor; left-out ones are listed once.
  std::set<std::string> seen;
  std::erase_if(unread, [&](const std::pair<std::string, std::string>& u) {
    return position.count(u.first) > 0 || !seen.insert(u.first).second;
  });
  LeaveOut(std::move(unread), "types");
  return absl::OkStatus();
}

namespace {

absl::Status ParseZip(PytorchReader* reader, const ZipArchive& zip) {
  const std::string& path = reader->Path();
  // The pickle's member: "<archive>/data.pkl" (the archive name is the file's stem).
  const ZipEntry* pkl = nullptr;
  bool torchscript = false;
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    const absl::string_view rest = slash == std::string::npos
                                       ? absl::string_view()
                                       : absl::string_view(e.name).substr(slash + 1);
    if (pkl == nullptr && rest == "data.pkl") pkl = &e;
    if (rest == "constants.pkl" || absl::StartsWith(rest, "code/")) torchscript = true;
  }
  if (torchscript) {
    return Error(path,
                 "this is a TorchScript archive (torch.jit.save), not a state dict; save "
                 "model.state_dict() with torch.save instead");
  }
  if (pkl == nullptr)
    return Error(path, "zip archive has no <archive>/data.pkl: not a PyTorch checkpoint");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - std::string("data.pkl").size());

  if (const ZipEntry* bo = zip.Find(prefix + "byteorder")) {
    HTSR_ASSIGN_OR_RETURN(ZipBytes order, zip.Read(*bo));
    const absl::string_view text(reinterpret_cast<const char*>(order.bytes.data()),
                                 order.bytes.size());
    if (text != "little") {
      return Error(path, absl::StrCat("byteorder '", text.substr(0, 16),
                                      "' is not supported (only little-endian checkpoints)"));
    }
  }

  HTSR_ASSIGN_OR_RETURN(ZipBytes pkl_bytes, zip.Read(*pkl));
  pickle::Unpickler unpickler(pkl_bytes.bytes, absl::StrCat(path, ":", pkl->name));
  HTSR_ASSIGN_OR_RETURN(const Object* root, unpickler.Run());
  std::unordered_map<std::string, StorageLocation> storages;
  const std::string data_prefix = prefix + "data/";
  for (size_t i = 0; i < zip.entries().size(); ++i) {
    const ZipEntry& e = zip.entries()[i];
    if (!absl::StartsWith(e.name, data_prefix)) continue;
    StorageLocation loc;
    loc.zip_entry = i;
    loc.size_bytes = e.uncompressed_size;
    loc.file_offset = e.data_offset;
    loc.label = e.name;
    storages.emplace(e.name.substr(data_prefix.size()), std::move(loc));
  }
  return reader->Build(root, storages);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenPytorch(FileBytes file) {
  if (!file.bytes.empty() && static_cast<uint8_t>(file.bytes[0]) == 0x80) {
    return OpenLegacyPytorch(std::move(file));
  }
  HTSR_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(file));
  // The archive keeps its own copy of the file's bytes and owner.
  auto reader = std::make_unique<PytorchReader>("pytorch", file, std::move(zip));
  // Build() reads the archive through the reader, which owns it now.
  HTSR_RETURN_IF_ERROR(ParseZip(reader.get(), reader->archive()));
  return reader;
}

}  // namespace htsr::readers
