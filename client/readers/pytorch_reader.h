// The state-dict side shared by both PyTorch container formats (the zip format of
// torch >= 1.6 in pytorch_reader.cc, the legacy back-to-back pickles in
// pytorch_legacy_reader.cc): finding the dict of tensors in the unpickled object, checking
// each view against its storage, and Load.
#ifndef HTSR_CLIENT_READERS_PYTORCH_READER_H_
#define HTSR_CLIENT_READERS_PYTORCH_READER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "readers/mapped_file.h"
#include "readers/pickle_unpickler.h"
#include "readers/reader_base.h"
#include "readers/zip_archive.h"

namespace htsr::readers {

// Where a storage's bytes are: a zip member (possibly deflated), or a span of the file.
struct StorageLocation {
  size_t zip_entry = SIZE_MAX;
  std::span<const std::byte> direct;
  uint64_t size_bytes = 0;
  uint64_t file_offset = 0;  // for error messages
  std::string label;         // "archive/data/3" or "storage 3"
};

class PytorchReader : public ReaderBase {
 public:
  PytorchReader(std::string format, FileBytes file, std::optional<ZipArchive> zip)
      : ReaderBase(std::move(format), file.name), file_(std::move(file)), zip_(std::move(zip)) {}

  // Takes the tensors of the state dict inside `root` (a dict, or one nested under
  // "state_dict", "model", ...), in the dict's insertion order.
  absl::Status Build(const pickle::Object* root,
                     const std::unordered_map<std::string, StorageLocation>& storages);

  absl::StatusOr<TensorView> Load(size_t index) const override;

  const ZipArchive& archive() const { return *zip_; }

 private:
  struct TensorRef {
    StorageLocation storage;
    std::vector<int64_t> stride;
    int64_t offset = 0;  // in elements
  };

  FileBytes file_;
  std::optional<ZipArchive> zip_;
  std::vector<TensorRef> refs_;
};

// The legacy (pre-1.6, non-zip) format; `file` starts with a pickle PROTO opcode.
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenLegacyPytorch(FileBytes file);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_PYTORCH_READER_H_
