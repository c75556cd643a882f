// The bookkeeping every format shares (path, format name, tensor list, byte total), so
// each format file holds only its parsing and its Load.
#ifndef HTSR_CLIENT_READERS_READER_BASE_H_
#define HTSR_CLIENT_READERS_READER_BASE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "readers/checkpoint_reader.h"

namespace htsr::readers {

class ReaderBase : public CheckpointReader {
 public:
  ReaderBase(std::string format, std::string path)
      : format_(std::move(format)), path_(std::move(path)) {}

  std::string_view Format() const override { return format_; }
  const std::string& Path() const override { return path_; }
  const std::vector<TensorInfo>& Tensors() const override { return tensors_; }
  uint64_t TotalBytes() const override { return total_bytes_; }
  const std::vector<std::string>& Notes() const override { return notes_; }
  const std::vector<std::string>& LeftOut() const override { return left_out_; }

 protected:
  // Callers have validated the byte size already (no overflow possible here).
  void AddTensor(TensorInfo info, uint64_t bytes) {
    tensors_.push_back(std::move(info));
    total_bytes_ += bytes;
  }
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }
  void AddLeftOut(std::string name) { left_out_.push_back(std::move(name)); }
  // Tensors validated but not handed out, as (name, what it is), in the order LeftOut()
  // lists them: one note for all of them (quantised checkpoints can hold thousands), which
  // names the first three. `kinds`: "dtypes", "types".
  void LeaveOut(std::vector<std::pair<std::string, std::string>> tensors, absl::string_view kinds) {
    if (tensors.empty()) return;
    std::string listed;
    for (size_t i = 0; i < tensors.size() && i < 3; ++i) {
      absl::StrAppend(&listed, i ? ", " : "", "'", tensors[i].first, "' (", tensors[i].second, ")");
    }
    AddNote(absl::StrCat(path_, ": left out ", tensors.size(), " tensor",
                         tensors.size() == 1 ? "" : "s", " of ", kinds,
                         " htsr does not analyse: ", listed, tensors.size() > 3 ? ", ..." : ""));
    for (auto& t : tensors) AddLeftOut(std::move(t.first));
  }
  absl::Status IndexError(size_t index) const {
    return absl::OutOfRangeError(absl::StrCat(path_, ": tensor index ", index, " out of range (",
                                              tensors_.size(), " tensors)"));
  }

 private:
  std::string format_;
  std::string path_;
  std::vector<TensorInfo> tensors_;
  uint64_t total_bytes_ = 0;
  std::vector<std::string> notes_;
  std::vector<std::string> left_out_;
};

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_READER_BASE_H_
