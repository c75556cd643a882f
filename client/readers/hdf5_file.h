// A read-only HDF5 file held in memory (a mapping or an inflated zip member), walked and
// read through the HDF5 C library with the precautions a hostile file needs
// (docs/architecture.md rule 7):
//
// * the file is opened as an in-memory image, never by path, and only hard links are
//   followed: soft links, external links (which would open other files) and user-defined
//   links are listed, never traversed; a group reached twice (a hard-link loop) is entered
//   once; depth and object counts are bounded;
// * datasets whose raw data lives in other files (external storage, virtual datasets) or
//   that need a filter this build lacks are left out, never read; filter plugins are not
//   loaded; declared sizes are checked against a cap and against the bytes stored;
// * HDF5's error printing is silenced and its errors become absl::Status values naming the
//   file, the object path and what failed.
//
// All HDF5 calls of the process go through one mutex (the library keeps global state).
//
// libhdf5 itself can crash on a hostile file (tests/fuzz/known_hdf5_issues/), so this class
// is used only inside the child processes of hdf5_sandbox.h; readers use SandboxedHdf5.
#ifndef HTSR_CLIENT_READERS_HDF5_FILE_H_
#define HTSR_CLIENT_READERS_HDF5_FILE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/tensor.h"
#include "readers/mapped_file.h"

namespace htsr::readers {

// True when `bytes` hold the HDF5 signature at offset 0 or at a user-block offset
// (512, 1024, 2048, ...), where the library looks for it.
bool LooksLikeHdf5(std::span<const std::byte> bytes);

struct Hdf5Limits {
  int max_depth = 32;
  size_t max_objects = 200000;                      // links visited, all groups together
  size_t max_datasets = 100000;                     // datasets listed
  size_t max_attribute_bytes = 64u << 20;           // one string attribute, all elements together
  uint64_t max_dataset_bytes = uint64_t{64} << 30;  // one dataset's declared size
};

// One dataset reached through hard links.
struct Hdf5Dataset {
  std::string path;  // "a/b/c", from the root
  TensorInfo info;   // name = path; dtype and shape when readable
  uint64_t bytes = 0;
  // Empty when the dataset can be read as `info`; else why not ("int32", "external
  // storage", ...), for a left-out note.
  std::string unreadable;
};

// What the walk found besides datasets.
struct Hdf5Walk {
  std::vector<Hdf5Dataset> datasets;  // depth-first, links in name order
  // String attributes asked for, by object path ("" is the root) and attribute name.
  std::map<std::string, std::map<std::string, std::vector<std::string>>> attributes;
  // Links not followed and groups not entered twice: one line each.
  std::vector<std::string> skipped_links;
};

class Hdf5File {
 public:
  // Opens `image` (a whole HDF5 file; kept alive by `owner`). `name` stands for the file in
  // errors (e.g. "model.keras: member 'model.weights.h5'").
  static absl::StatusOr<std::shared_ptr<Hdf5File>> Open(std::string name,
                                                        std::span<const std::byte> image,
                                                        std::shared_ptr<const void> owner);
  ~Hdf5File();
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  // Lists every dataset and reads the string attributes named in `attribute_names` of every
  // group on the way (and of the root).
  absl::StatusOr<Hdf5Walk> Walk(const std::vector<std::string>& attribute_names,
                                const Hdf5Limits& limits = {});

  // Reads dataset `index` of the last Walk (a readable one) into `out` (exactly its `bytes`):
  // row-major, converted by HDF5 to `info`'s dtype in little-endian order. Thread-safe.
  absl::Status ReadInto(size_t index, std::span<std::byte> out) const;

  const std::string& name() const { return name_; }

 private:
  struct Handles;
  Hdf5File(std::string name, std::shared_ptr<const void> owner);

  std::string name_;
  std::shared_ptr<const void> owner_;  // the image's bytes
  uint64_t image_size_ = 0;
  std::unique_ptr<Handles> handles_;  // file and dataset ids
  std::vector<Hdf5Dataset> datasets_;
};

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_HDF5_FILE_H_
