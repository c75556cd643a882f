// The one way a checkpoint reader becomes the engine's TensorSource (embedded, remote, pool,
// base deltas): its tensors, loaded one at a time, a file that shrank under its mapping
// refused before each load so the remaining layers fail fast, naming the file.
#ifndef HTSR_CLIENT_ANALYSIS_READER_SOURCE_H_
#define HTSR_CLIENT_ANALYSIS_READER_SOURCE_H_

#include "htsr/engine.h"
#include "htsr/status_macros.h"
#include "readers/checkpoint_reader.h"

namespace htsr::analysis {

// `reader` must outlive the source.
inline TensorSource ReaderSource(const CheckpointReader& reader) {
  TensorSource source;
  source.tensors = reader.Tensors();
  source.load = [r = &reader](size_t i) -> absl::StatusOr<TensorView> {
    HTSR_RETURN_IF_ERROR(r->CheckIntact());
    return r->Load(i);
  };
  return source;
}

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_READER_SOURCE_H_
