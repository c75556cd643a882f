// A single .npy file: one tensor, named after the file (without directory and ".npy").
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/npy_format.h"
#include "readers/reader_base.h"

namespace htsr::readers {
namespace {

std::string TensorNameFromPath(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);  // npos + 1 == 0
  if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
  return name.empty() ? "array" : name;
}

class NpyReader : public ReaderBase {
 public:
  NpyReader(FileBytes file, NpyHeader header)
      : ReaderBase("npy", file.name), file_(std::move(file)), header_(std::move(header)) {
    TensorInfo info;
    info.name = TensorNameFromPath(file_.name);
    info.dtype = header_.dtype;
    info.shape = header_.shape;
    AddTensor(std::move(info), header_.data_bytes);
  }

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index != 0) return IndexError(index);
    return NpyTensor(header_, file_.bytes, ReleasingOwner(file_, file_.bytes), Tensors()[0],
                     file_.name);
  }

 private:
  FileBytes file_;
  NpyHeader header_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenNpy(FileBytes file) {
  HTSR_ASSIGN_OR_RETURN(NpyHeader header, ParseNpyHeader(file.bytes, file.name));
  // A truncated array is an error at open time, not at the first Load.
  if (header.data_offset > file.bytes.size() ||
      header.data_bytes > file.bytes.size() - header.data_offset) {
    return absl::OutOfRangeError(absl::StrCat(file.name, ": npy: array needs ", header.data_bytes,
                                              " bytes from byte ", header.data_offset,
                                              " but the file has ", file.bytes.size(), " bytes"));
  }
  return std::make_unique<NpyReader>(std::move(file), std::move(header));
}

}  // namespace htsr::readers
