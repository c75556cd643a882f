// HDF5 files read with libhdf5 in child processes only, so that a file that crashes, hangs or
// exhausts the library (Debian's 1.10.8 frees a wild pointer on a corrupt link table:
// tests/fuzz/known_hdf5_issues/) fails with an error naming the file instead of taking the
// process (the CLI, a scan, a Python session) down with it.
//
// * Open: a child opens the image and walks it (hdf5_file.h) and sends the walk back
//   (hdf5_wire.h); the parent decodes it as hostile bytes.
// * Read: the datasets the caller planned to load are read in batches of up to ~512 MiB and
//   4096 datasets; for each batch a child opens and walks the file again, reads each dataset
//   with H5Dread (chunked and compressed ones too) into a memfd the parent made, and reports
//   offsets; the parent seals the memfd and maps it read-only, so tensors are views of it
//   without a copy. The batch read last stays mapped, older ones while one of their views lives; a
//   batch needed again after that is read again.
//
// The parent never calls libhdf5. A child that dies by a signal, exits nonzero, runs past
// its time or CPU limit or its memory limit (RLIMIT_AS above what it inherited) becomes an
// absl::Status such as "model.h5: the HDF5 library failed opening this file (the reading
// process was killed by signal 11 (Segmentation fault)); the file is corrupt or hostile". This
// contains crashes; it is not a security boundary against code execution (the child is not
// seccomp-confined).
#ifndef HTSR_CLIENT_READERS_HDF5_SANDBOX_H_
#define HTSR_CLIENT_READERS_HDF5_SANDBOX_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "readers/hdf5_file.h"
#include "readers/hdf5_wire.h"

namespace htsr::readers {

struct Hdf5SandboxLimits {
  double walk_seconds = 120;                  // wall-clock and CPU limit of the walking child
  double read_seconds = 120;                  // of a reading child, plus...
  double read_seconds_per_gib = 120;          // ...this much per GiB it reads (decompression)
  uint64_t extra_memory = uint64_t{2} << 30;  // address space over the inherited one
  uint64_t batch_bytes = uint64_t{512} << 20;
  // Tests only: run in every child before libhdf5 is called (to make a child hang or crash);
  // `reading` is false in the child that walks the file, true in those that read data.
  void (*child_hook_for_testing)(bool reading) = nullptr;
};

// Replaces the limits every later Open uses (tests only; not thread-safe with Open).
void SetHdf5SandboxLimitsForTesting(const Hdf5SandboxLimits& limits);
Hdf5SandboxLimits DefaultHdf5SandboxLimits();

// Bytes of one dataset, kept alive by `owner`.
struct Hdf5Bytes {
  std::span<const std::byte> bytes;
  std::shared_ptr<const void> owner;
};

class SandboxedHdf5 {
 public:
  // Walks `image` (a whole HDF5 file kept alive by `owner`) in a child process. `name` stands
  // for the file in errors (e.g. "model.keras: member 'model.weights.h5'").
  static absl::StatusOr<std::shared_ptr<SandboxedHdf5>> Open(
      std::string name, std::span<const std::byte> image, std::shared_ptr<const void> owner,
      std::vector<std::string> attribute_names, const Hdf5Limits& limits = {});

  const Hdf5Walk& walk() const { return walk_; }
  const std::string& name() const { return name_; }

  // The readable datasets that will be loaded, in about the order they will be: they are
  // read in batches of that order. Read of an index not planned reads it alone.
  void Plan(const std::vector<size_t>& order);

  // The row-major little-endian bytes of readable dataset `index` of walk(). Thread-safe.
  absl::StatusOr<Hdf5Bytes> Read(size_t index) const;

  ~SandboxedHdf5();
  SandboxedHdf5(const SandboxedHdf5&) = delete;
  SandboxedHdf5& operator=(const SandboxedHdf5&) = delete;

 private:
  struct DataFile;
  struct Batch {
    std::vector<size_t> indices;
    uint64_t bytes = 0;
    bool read = false;
    absl::Status failure;  // the whole batch failed (not retried)
    std::map<uint64_t, Hdf5ReadRecord> records;
    std::weak_ptr<const DataFile> data;
  };

  SandboxedHdf5() = default;
  absl::Status ReadBatch(Batch* batch, std::shared_ptr<const DataFile>* data) const;
  // "<name>: the HDF5 library <what> ...; the file is corrupt or hostile".
  absl::Status ChildFailed(const std::string& what, const std::string& doing) const;

  std::string name_;
  std::span<const std::byte> image_;
  std::shared_ptr<const void> owner_;
  std::vector<std::string> attribute_names_;
  Hdf5Limits limits_;
  Hdf5SandboxLimits sandbox_;
  Hdf5Walk walk_;
  mutable std::mutex mu_;  // guards batches_ and batch_of_ (and serialises reading children)
  mutable std::vector<Batch> batches_;
  mutable std::map<size_t, size_t> batch_of_;
  // The batch read last stays mapped even when no view of it lives: tensors are loaded and
  // dropped one at a time, and the next ones are in the same batch.
  mutable std::shared_ptr<const DataFile> current_;
};

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_HDF5_SANDBOX_H_
