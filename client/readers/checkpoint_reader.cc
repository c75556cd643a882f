// Format dispatch: by magic bytes, never by extension; directories by the Hugging Face
// file names inside them.
#include "readers/checkpoint_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/hdf5_file.h"
#include "readers/lora_adapter.h"
#include "readers/mapped_file.h"
#include "readers/npy_format.h"
#include "readers/onnx_format.h"
#include "readers/zip_archive.h"

namespace htsr {
namespace readers {
namespace {

bool IsPytorchZip(const ZipArchive& zip) {
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos) continue;
    const absl::string_view rest = absl::string_view(e.name).substr(slash + 1);
    if (rest == "data.pkl" || rest == "constants.pkl") return true;
  }
  return false;
}

// A reader over a mapped file, plus the check that the file did not shrink under it. A
// decorator, so that every format (and any added later) gets the check without a line of
// its own.
class WatchedReader : public CheckpointReader {
 public:
  WatchedReader(std::unique_ptr<CheckpointReader> inner, FileBytes file)
      : inner_(std::move(inner)), file_(std::move(file)) {}

  std::string_view Format() const override { return inner_->Format(); }
  const std::string& Path() const override { return inner_->Path(); }
  const std::vector<TensorInfo>& Tensors() const override { return inner_->Tensors(); }
  absl::StatusOr<TensorView> Load(size_t index) const override { return inner_->Load(index); }
  uint64_t TotalBytes() const override { return inner_->TotalBytes(); }
  const std::vector<std::string>& Notes() const override { return inner_->Notes(); }
  const std::vector<std::string>& LeftOut() const override { return inner_->LeftOut(); }
  absl::Status CheckIntact() const override {
    HTSR_RETURN_IF_ERROR(CheckFileIntact(file_));
    return inner_->CheckIntact();  // a sharded reader's shards
  }

 private:
  std::unique_ptr<CheckpointReader> inner_;
  FileBytes file_;
};

std::string FirstBytesHex(std::span<const std::byte> bytes) {
  std::string hex;
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    absl::StrAppendFormat(&hex, "%02x", static_cast<unsigned>(bytes[i]));
  }
  return hex.empty() ? "empty file" : "first bytes " + hex;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenFileBytes(FileBytes file, bool allow_index) {
  const auto b = file.bytes;
  if (LooksLikeZip(b)) {
    HTSR_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(file));
    // Keras 3 .keras: model.weights.h5 beside config.json and metadata.json.
    if (zip.Find("model.weights.h5") != nullptr ||
        (zip.Find("config.json") != nullptr && zip.Find("metadata.json") != nullptr)) {
      return OpenKeras(std::move(file));
    }
    if (IsPytorchZip(zip)) return OpenPytorch(std::move(file));
    return OpenNpz(std::move(file));
  }
  if (LooksLikeNpy(b)) return OpenNpy(std::move(file));
  // Before safetensors: byte 8 is the low byte of a GGUF tensor count, '{' for 123 tensors.
  if (b.size() >= 4 && std::memcmp(b.data(), "GGUF", 4) == 0) return OpenGguf(std::move(file));
  if (LooksLikeHdf5(b.first(std::min<size_t>(b.size(), 8)))) return OpenHdf5(std::move(file));
  // safetensors: 8-byte length, then the JSON header's '{'. Checked before the pickle
  // test: a header length whose low byte is 0x80 would otherwise look like pickle PROTO
  // (a legacy PyTorch file has its magic number, never '{', at byte 8).
  if (b.size() >= 9 && static_cast<char>(b[8]) == '{') return OpenSafetensors(std::move(file));
  if (!b.empty() && static_cast<uint8_t>(b[0]) == 0x80) return OpenPytorch(std::move(file));
  size_t first = 0;
  while (first < b.size() &&
         (static_cast<char>(b[first]) == ' ' || static_cast<char>(b[first]) == '\n' ||
          static_cast<char>(b[first]) == '\r' || static_cast<char>(b[first]) == '\t')) {
    ++first;
  }
  if (first < b.size() && static_cast<char>(b[first]) == '{') {
    if (!allow_index) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.name, ": a JSON shard index can only be opened from a file or directory"));
    }
    return OpenShardedIndex(std::move(file));
  }
  if (LooksLikeHdf5(b)) return OpenHdf5(std::move(file));  // after a user block
  // ONNX has no magic number: tried last, on its first field (onnx_format.h, LooksLikeOnnx).
  if (onnx::LooksLikeOnnx(b)) {
#ifdef HTSR_HAVE_ONNX
    return OpenOnnx(std::move(file));
#else
    return absl::UnimplementedError(absl::StrCat(
        file.name, ": an ONNX model, but this htsr was built without protobuf (libprotobuf-dev)"));
#endif
  }
  return absl::InvalidArgumentError(absl::StrCat(file.name, ": unrecognized checkpoint format (",
                                                 FirstBytesHex(b),
                                                 "); expected safetensors, PyTorch zip, .npz, "
                                                 ".npy, GGUF, ONNX, Keras/HDF5 or a *.index.json"));
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenMappedFileBytes(FileBytes file,
                                                                      bool allow_index) {
  absl::StatusOr<std::unique_ptr<CheckpointReader>> reader = OpenFileBytes(file, allow_index);
  // A parser that read zeros past a new end of file reports nonsense; say what happened.
  HTSR_RETURN_IF_ERROR(CheckFileIntact(file));
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<CheckpointReader>(
      std::make_unique<WatchedReader>(*std::move(reader), std::move(file)));
}

}  // namespace readers

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenCheckpoint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    // A PEFT LoRA adapter: its update B A per adapted module (readers/lora_adapter.h).
    if (readers::IsLoraAdapterDir(path)) return readers::OpenLoraAdapter(path);
    const std::string dir = path.ends_with("/") ? path : path + "/";
    // The reference prefers safetensors when a directory has both.
    for (const char* name : {"model.safetensors.index.json", "model.safetensors",
                             "pytorch_model.bin.index.json", "pytorch_model.bin"}) {
      const std::string candidate = dir + name;
      struct stat cst;
      if (::stat(candidate.c_str(), &cst) == 0 && S_ISREG(cst.st_mode)) {
        return OpenCheckpoint(candidate);
      }
    }
    return absl::NotFoundError(
        absl::StrCat(path,
                     ": directory has none of model.safetensors.index.json, model.safetensors, "
                     "pytorch_model.bin.index.json, pytorch_model.bin"));
  }
  HTSR_ASSIGN_OR_RETURN(readers::FileBytes file, readers::MapFile(path));
  return readers::OpenMappedFileBytes(std::move(file), /*allow_index=*/true);
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenCheckpointFromBuffer(const std::string& name,
                                                                           std::string bytes) {
  return readers::OpenFileBytes(readers::BufferBytes(name, std::move(bytes)),
                                /*allow_index=*/false);
}

}  // namespace htsr
