// Checkpoint readers: one file per format, chosen by magic bytes, never by extension.
//
// Readers treat every file as hostile (docs/architecture.md rule 7): every length and offset is
// checked against the bytes that remain, and for overflow, before anything is allocated or
// read; pickles are interpreted, never executed. Files are memory-mapped, not loaded.
// Errors name the file, the tensor and the byte offset.
#ifndef HTSR_CLIENT_READERS_CHECKPOINT_READER_H_
#define HTSR_CLIENT_READERS_CHECKPOINT_READER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "htsr/tensor.h"

namespace htsr {

class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;

  // "safetensors", "pytorch", "npz", "npy" (or "sharded <format>").
  virtual std::string_view Format() const = 0;
  // The path as the user gave it.
  virtual const std::string& Path() const = 0;
  // Every tensor, in depth order: the checkpoint's own order where it has one (PyTorch
  // state dicts, npz member order), else natural order of names (safetensors).
  virtual const std::vector<TensorInfo>& Tensors() const = 0;
  // Row-major contiguous bytes of tensor `index` (validated). Thread-safe. The view stays
  // valid while its `owner` lives, even after the reader is destroyed.
  virtual absl::StatusOr<TensorView> Load(size_t index) const = 0;
  // Total bytes of tensor data (for progress and throughput).
  virtual uint64_t TotalBytes() const = 0;
  // What the reader left out and why, one line each for the user (e.g. tensors of a dtype
  // htsr does not read). Empty for most files.
  virtual const std::vector<std::string>& Notes() const = 0;
  // Names of the tensors the reader left out on purpose (the notes say why), so that a
  // shard index listing them is not taken for a broken one.
  virtual const std::vector<std::string>& LeftOut() const = 0;
  // OK while every byte read from the checkpoint's files so far was really in them; an
  // error naming the file when one shrank while mapped (truncated during the analysis),
  // after which reads gave zeros instead of a SIGBUS (readers/mapped_file.h). Callers check
  // it after using the views and discard their results when it fails. Thread-safe.
  virtual absl::Status CheckIntact() const { return absl::OkStatus(); }
};

// Opens a file (format from its magic bytes) or a Hugging Face style directory
// (model.safetensors.index.json / pytorch_model.bin.index.json shards, or a single
// model.safetensors / pytorch_model.bin inside it).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenCheckpoint(const std::string& path);

// Same for a whole file's bytes already in memory (tests, fuzzers, remote uploads); `name`
// stands for the path in Path() and in errors. Sharded indexes are refused here, since
// their shards live in files.
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenCheckpointFromBuffer(const std::string& name,
                                                                           std::string bytes);

}  // namespace htsr

#endif  // HTSR_CLIENT_READERS_CHECKPOINT_READER_H_
