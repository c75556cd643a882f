#include "readers/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace htsr::readers {
namespace {

// Closes the descriptor on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<FileBytes> MapFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": not a regular file (directories, pipes and devices cannot be "
                     "memory-mapped)"));
  }
  FileBytes out;
  out.name = path;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return out;  // mmap refuses length 0; an empty span is the same thing
  if (size > static_cast<uint64_t>(SIZE_MAX)) {
    return absl::OutOfRangeError(absl::StrCat(path, ": file too large to map"));
  }
  void* addr = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(path, ": mmap failed: ", std::strerror(errno)));
  }
  const size_t len = static_cast<size_t>(size);
  out.owner = std::shared_ptr<const void>(
      addr, [len](const void* p) { ::munmap(const_cast<void*>(p), len); });
  out.bytes = std::span<const std::byte>(static_cast<const std::byte*>(addr), len);
  out.mapped = true;
  return out;
}

std::shared_ptr<const void> ReleasingOwner(const FileBytes& file, std::span<const std::byte> view) {
  if (!file.mapped || view.empty()) return file.owner;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(view.data());
  const uintptr_t first = (begin + page - 1) / page * page;  // whole pages inside the view
  const uintptr_t last = (begin + view.size()) / page * page;
  if (last <= first) return file.owner;
  // The mapping is read-only and private, so dropped pages are never dirty: a later access
  // (a tied weight, another layer on a shared page) faults them back in from the page cache.
  auto mapping = file.owner;
  return std::shared_ptr<const void>(mapping.get(), [mapping, first, last](const void*) {
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  });
}

FileBytes BufferBytes(std::string name, std::string data) {
  auto holder = std::make_shared<const std::string>(std::move(data));
  FileBytes out;
  out.name = std::move(name);
  out.bytes = std::as_bytes(std::span<const char>(holder->data(), holder->size()));
  out.owner = holder;
  return out;
}

}  // namespace htsr::readers
