// The parent side of sandboxed HDF5 reading, and the two child bodies (see hdf5_sandbox.h).
#include "readers/hdf5_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/child_process.h"

namespace htsr::readers {
namespace {

constexpr uint64_t kPage = 4096;
// What a child may send: a walk of a file within Hdf5Limits fits in the first; the read records
// of a batch (a few dozen bytes per dataset, or an error naming its path) in the second.
constexpr size_t kMaxWalkMessage = size_t{256} << 20;
constexpr size_t kMaxReadMessage = size_t{64} << 20;
constexpr size_t kMaxBatchDatasets = 4096;

Hdf5SandboxLimits& GlobalLimits() {
  static Hdf5SandboxLimits limits;
  return limits;
}

// CPU time never exceeds wall-clock time in the one-threaded child: the same bound (rounded
// up) backs up the parent's timer should the parent itself stall.
ChildLimits ChildLimitsFor(double seconds, size_t max_output, uint64_t extra_memory,
                           uint64_t max_file_bytes) {
  ChildLimits c;
  c.wall_seconds = seconds;
  c.cpu_seconds = static_cast<int>(std::min(seconds, 1e6)) + 1;
  c.extra_address_space = extra_memory;
  c.max_file_bytes = max_file_bytes;
  c.max_output_bytes = max_output;
  return c;
}

// Never returns on a failed write: the parent sees a short message and reports it.
void Send(int fd, const std::string& bytes) {
  if (!WriteAll(fd, bytes.data(), bytes.size())) _exit(4);
}

uint64_t AlignUp(uint64_t v) { return (v + kPage - 1) / kPage * kPage; }

// The child that reads a batch: open, walk as the parent did, then each dataset straight into
// the memfd through a shared mapping (no second copy in the child's heap).
void ReadChild(int out, int data_fd, const std::string& name, std::span<const std::byte> image,
               const std::vector<std::string>& attribute_names, const Hdf5Limits& limits,
               const Hdf5Walk& expected, const std::vector<size_t>& indices) {
  auto file = Hdf5File::Open(name, image, nullptr);
  absl::StatusOr<Hdf5Walk> walk =
      file.ok() ? (*file)->Walk(attribute_names, limits) : absl::StatusOr<Hdf5Walk>(file.status());
  if (walk.ok()) {
    bool same = walk->datasets.size() == expected.datasets.size();
    for (size_t i = 0; same && i < expected.datasets.size(); ++i) {
      same = walk->datasets[i].path == expected.datasets[i].path &&
             walk->datasets[i].bytes == expected.datasets[i].bytes;
    }
    if (!same) walk = absl::DataLossError(absl::StrCat(name, ": the file changed between reads"));
  }
  if (!walk.ok()) {
    Send(out, EncodeBatchFailed(walk.status()));
    Send(out, EncodeReadEnd());
    return;
  }
  uint64_t end = 0;
  for (size_t index : indices) {
    Send(out, EncodeReadStart(index));
    const uint64_t bytes = expected.datasets[index].bytes;
    const uint64_t offset = bytes > 0 ? AlignUp(end) : 0;  // an empty one needs no room
    absl::Status status;
    if (bytes > 0) {
      void* map = MAP_FAILED;
      if (ftruncate(data_fd, static_cast<off_t>(offset + bytes)) == 0) {
        map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, data_fd,
                   static_cast<off_t>(offset));
      }
      if (map == MAP_FAILED) {
        status = absl::ResourceExhaustedError(
            absl::StrCat(name, ": HDF5 object '/", expected.datasets[index].path,
                         "': no room for its ", bytes, " bytes (", strerror(errno), ")"));
      } else {
        status =
            (*file)->ReadInto(index, std::span<std::byte>(static_cast<std::byte*>(map), bytes));
        munmap(map, bytes);
      }
    }
    if (status.ok()) {
      Send(out, EncodeReadDone(index, offset, bytes));
      if (bytes > 0) end = offset + bytes;
    } else {
      Send(out, EncodeReadFailed(index, status));
    }
  }
  Send(out, EncodeReadEnd());
}

}  // namespace

void SetHdf5SandboxLimitsForTesting(const Hdf5SandboxLimits& limits) { GlobalLimits() = limits; }
Hdf5SandboxLimits DefaultHdf5SandboxLimits() { return Hdf5SandboxLimits{}; }

// A sealed memfd mapped read-only: the bytes of one batch.
struct SandboxedHdf5::DataFile {
  const std::byte* base = nullptr;
  uint64_t size = 0;
  ~DataFile() {
    if (base != nullptr) munmap(const_cast<std::byte*>(base), size);
  }
};

SandboxedHdf5::~SandboxedHdf5() = default;

absl::Status SandboxedHdf5::ChildFailed(const std::string& what, const std::string& doing) const {
  return absl::InvalidArgumentError(absl::StrCat(name_, ": the HDF5 library failed ", doing,
                                                 " (the reading process ", what,
                                                 "); the file is corrupt or hostile"));
}

absl::StatusOr<std::shared_ptr<SandboxedHdf5>> SandboxedHdf5::Open(
    std::string name, std::span<const std::byte> image, std::shared_ptr<const void> owner,
    std::vector<std::string> attribute_names, const Hdf5Limits& limits) {
  if (!LooksLikeHdf5(image)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not an HDF5 file (no signature)"));
  }
  std::shared_ptr<SandboxedHdf5> f(new SandboxedHdf5());
  f->name_ = std::move(name);
  f->image_ = image;
  f->owner_ = std::move(owner);
  f->attribute_names_ = std::move(attribute_names);
  f->limits_ = limits;
  f->sandbox_ = GlobalLimits();
  const ChildLimits child =
      ChildLimitsFor(f->sandbox_.walk_seconds, kMaxWalkMessage, f->sandbox_.extra_memory, 0);
  const SandboxedHdf5& self = *f;
  std::string error;
  const ChildResult r = RunInChild(
      child, {},
      [&self](int out) {
        if (self.sandbox_.child_hook_for_testing != nullptr)
          self.sandbox_.child_hook_for_testing(false);
        auto file = Hdf5File::Open(self.name_, self.image_, nullptr);
        const absl::StatusOr<Hdf5Walk> walk =
            file.ok() ? (*file)->Walk(self.attribute_names_, self.limits_)
                      : absl::StatusOr<Hdf5Walk>(file.status());
        Send(out, EncodeWalk(walk));
      },
      &error);
  if (r.end == ChildResult::End::kUnknown) {
    return absl::ResourceExhaustedError(
        absl::StrCat(f->name_, ": cannot start the HDF5 reading process: ", error));
  }
  if (!r.ok()) return f->ChildFailed(r.Describe(child), "opening this file");
  HTSR_ASSIGN_OR_RETURN(f->walk_, DecodeWalk(r.output, f->name_, limits));
  return f;
}

void SandboxedHdf5::Plan(const std::vector<size_t>& order) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t index : order) {
    if (index >= walk_.datasets.size() || !walk_.datasets[index].unreadable.empty() ||
        batch_of_.count(index) > 0) {
      continue;
    }
    const uint64_t bytes = AlignUp(walk_.datasets[index].bytes);
    if (batches_.empty() || batches_.back().read ||
        batches_.back().indices.size() >= kMaxBatchDatasets ||
        (!batches_.back().indices.empty() &&
         batches_.back().bytes + bytes > sandbox_.batch_bytes)) {
      batches_.emplace_back();
    }
    batches_.back().indices.push_back(index);
    batches_.back().bytes += bytes;
    batch_of_[index] = batches_.size() - 1;
  }
}

absl::Status SandboxedHdf5::ReadBatch(Batch* batch, std::shared_ptr<const DataFile>* data) const {
  const int fd = memfd_create("htsr-hdf5-data", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat(name_, ": cannot make a memory file for HDF5 data: ", strerror(errno)));
  }
  uint64_t largest = 0;
  for (size_t i : batch->indices) largest = std::max(largest, walk_.datasets[i].bytes);
  const double gib = static_cast<double>(batch->bytes) / static_cast<double>(uint64_t{1} << 30);
  // Room for the largest dataset mapped once plus HDF5's own buffers (a chunk, a conversion).
  const uint64_t memory = sandbox_.extra_memory + 2 * largest;
  const ChildLimits child =
      ChildLimitsFor(sandbox_.read_seconds + sandbox_.read_seconds_per_gib * gib, kMaxReadMessage,
                     memory, batch->bytes + kPage);
  std::string error;
  const ChildResult r = RunInChild(
      child, {fd},
      [&](int out) {
        if (sandbox_.child_hook_for_testing != nullptr) sandbox_.child_hook_for_testing(true);
        ReadChild(out, fd, name_, image_, attribute_names_, limits_, walk_, batch->indices);
      },
      &error);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (r.end == ChildResult::End::kUnknown) {
    return absl::ResourceExhaustedError(
        absl::StrCat(name_, ": cannot start the HDF5 reading process: ", error));
  }
  absl::StatusOr<Hdf5Reads> reads = DecodeReads(r.output, name_);
  if (!r.ok()) {
    std::string doing = "reading this file";
    if (reads.ok() && reads->in_progress && *reads->in_progress < walk_.datasets.size()) {
      doing = absl::StrCat("reading dataset '/", walk_.datasets[*reads->in_progress].path, "'");
    }
    return ChildFailed(r.Describe(child), doing);
  }
  if (!reads.ok()) return reads.status();
  if (!reads->batch.ok()) return reads->batch;
  if (!reads->complete) {
    return absl::InternalError(absl::StrCat(name_, ": the HDF5 reading process stopped early"));
  }
  // The child is gone: seal the file so that its bytes can no longer change or shrink under
  // our views (sealing fails if anything still maps it writable).
  struct stat st;
  if (fstat(fd, &st) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return absl::InternalError(
        absl::StrCat(name_, ": cannot seal the HDF5 data file: ", strerror(errno)));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > batch->bytes + kPage) {
    return absl::InternalError(absl::StrCat(name_, ": the HDF5 reading process wrote ", size,
                                            " bytes for ", batch->bytes));
  }
  batch->records.clear();
  for (size_t i : batch->indices) {
    auto it = reads->done.find(i);
    if (it == reads->done.end()) {
      return absl::InternalError(
          absl::StrCat(name_, ": the HDF5 reading process skipped dataset ", i));
    }
    const Hdf5ReadRecord& rec = it->second;
    const auto end = CheckedAdd(rec.offset, rec.length);
    if (rec.status.ok() && (rec.length != walk_.datasets[i].bytes || !end || *end > size)) {
      return absl::InternalError(
          absl::StrCat(name_, ": the HDF5 reading process sent a bad range for dataset ", i));
    }
    batch->records[i] = rec;
  }
  auto file = std::make_shared<DataFile>();
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name_, ": cannot map the HDF5 data: ", strerror(errno)));
    }
    file->base = static_cast<const std::byte*>(map);
    file->size = size;
  }
  *data = file;
  batch->data = file;
  return absl::OkStatus();
}

absl::StatusOr<Hdf5Bytes> SandboxedHdf5::Read(size_t index) const {
  if (index >= walk_.datasets.size() || !walk_.datasets[index].unreadable.empty()) {
    return absl::InternalError(absl::StrCat(name_, ": no readable dataset ", index));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto where = batch_of_.find(index);
  if (where == batch_of_.end()) {
    Batch alone;
    alone.indices = {index};
    alone.bytes = AlignUp(walk_.datasets[index].bytes);
    batches_.push_back(std::move(alone));
    where = batch_of_.emplace(index, batches_.size() - 1).first;
  }
  Batch& batch = batches_[where->second];
  std::shared_ptr<const DataFile> data = batch.data.lock();
  if (!batch.read || (batch.failure.ok() && data == nullptr)) {
    batch.read = true;
    current_.reset();  // one batch at a time in memory (and the memfd's pages with it)
    batch.failure = ReadBatch(&batch, &data);
    current_ = data;
  }
  if (!batch.failure.ok()) return batch.failure;
  const Hdf5ReadRecord& rec = batch.records.at(index);
  if (!rec.status.ok()) return rec.status;
  Hdf5Bytes out;
  out.owner = data;
  if (rec.length > 0) out.bytes = std::span<const std::byte>(data->base + rec.offset, rec.length);
  return out;
}

}  // namespace htsr::readers
