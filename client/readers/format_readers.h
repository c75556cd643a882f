// Per-format entry points, called by the magic-byte dispatch in checkpoint_reader.cc and by
// the fuzz targets (which hand in memory buffers, never paths).
#ifndef HTSR_CLIENT_READERS_FORMAT_READERS_H_
#define HTSR_CLIENT_READERS_FORMAT_READERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "readers/checkpoint_reader.h"
#include "readers/mapped_file.h"

namespace htsr::readers {

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenSafetensors(FileBytes file);
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenNpy(FileBytes file);
// `file` is a zip archive in both (the caller has seen "PK\3\4").
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenNpz(FileBytes file);
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenPytorch(FileBytes file);
// GGUF v2/v3 (the caller has seen "GGUF").
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenGguf(FileBytes file);
// A Keras 3 .keras archive (a zip holding model.weights.h5; see keras_reader.cc).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenKeras(FileBytes file);
// An HDF5 file: Keras .h5 / .weights.h5, or any HDF5 file of float datasets.
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenHdf5(FileBytes file);
// An ONNX ModelProto (onnx_reader.cc; only in builds with protobuf, HTSR_HAVE_ONNX).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenOnnx(FileBytes file);
// A Hugging Face *.index.json (weight_map) and the shards beside it.
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenShardedIndex(FileBytes index_file);

// Picks the format from the first bytes; `file` is a whole file's content. A JSON index
// is followed to its shards only when `allow_index` (never for in-memory buffers).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenFileBytes(FileBytes file, bool allow_index);

// OpenFileBytes for a mapped file (MapFile): the reader's CheckIntact also checks `file`,
// and an open that failed because the file shrank under the parser says so.
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenMappedFileBytes(FileBytes file,
                                                                      bool allow_index);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_FORMAT_READERS_H_
