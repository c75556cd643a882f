#include "readers/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace htsr::readers {

// Why a SIGBUS handler that maps zeros, and not the alternatives:
//  * fstat before and after each tensor is racy: the file can shrink between the check and
//    the read, and the read still kills the process.
//  * pread into a buffer (or a sigsetjmp/siglongjmp guard around a memcpy out of the
//    mapping) is safe only where the copy is made, so every reader would have to copy every
//    tensor out instead of handing the mapping to the engine, and every parser (JSON,
//    zip, pickle, readers still to come) would need it too; one reader that forgets is a
//    crash again. A longjmp out of anything larger than a memcpy (zlib, the engine's
//    conversion, a parser) skips destructors and leaves locks held: undefined behaviour.
//  * Mapping a page of zeros over the faulting page lets the faulting instruction complete,
//    wherever it is. Nothing unwinds; the mapping is marked broken and the file is reported
//    by CheckFileIntact, which the analysis calls before it trusts a result. It covers every
//    read of every mapping made by MapFile, in every thread, with one mechanism.
// Faults outside these mappings go to the previous handler (or the default action: the
// process dies as it would have), so the handler changes nothing else.
struct MappingWatch {
  int fd = -1;      // kept open: fstat sees the file we mapped even if the path is replaced
  size_t slot = 0;  // index into the fault registry
  ~MappingWatch() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

// Registered mappings, read by the signal handler without locks. A slot is claimed with
// `used`, then filled; the handler matches [begin, end) and sets `faulted`. Mappings beyond
// the registry's size are still checked for shrinking (fstat) but not guarded.
struct FaultSlot {
  std::atomic<bool> used{false};
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> faulted{false};
};
constexpr size_t kFaultSlots = 4096;
FaultSlot g_slots[kFaultSlots];
constexpr size_t kNoSlot = SIZE_MAX;
uintptr_t g_page_size = 4096;
struct sigaction g_previous;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (FaultSlot& s : g_slots) {
    const uintptr_t begin = s.begin.load(std::memory_order_acquire);
    if (begin == 0 || addr < begin || addr >= s.end.load(std::memory_order_acquire)) continue;
    s.faulted.store(true, std::memory_order_release);
    // The page past the file's new end becomes zeros (private, read-only like the rest):
    // the faulting read is retried on return and succeeds. mmap is a plain system call.
    void* page = reinterpret_cast<void*>(addr & ~(g_page_size - 1));
    if (::mmap(page, g_page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        MAP_FAILED) {
      return;
    }
    break;
  }
  // Not ours (or no page could be mapped): what would have happened without this handler.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: the signal, raised again (pending until this handler returns) with
  // the default disposition, ends the process as before, for a fault or a kill alike.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGBUS, &dfl, nullptr);
  ::raise(SIGBUS);
}

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

size_t RegisterMapping(const void* addr, size_t len) {
  for (size_t i = 0; i < kFaultSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].used.compare_exchange_strong(expected, true)) continue;
    g_slots[i].faulted.store(false);
    g_slots[i].end.store(reinterpret_cast<uintptr_t>(addr) + len, std::memory_order_release);
    g_slots[i].begin.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
    return i;
  }
  return kNoSlot;
}

void UnregisterMapping(size_t slot) {
  if (slot == kNoSlot) return;
  g_slots[slot].begin.store(0, std::memory_order_release);
  g_slots[slot].end.store(0, std::memory_order_release);
  g_slots[slot].used.store(false, std::memory_order_release);
}

}  // namespace

absl::StatusOr<FileBytes> MapFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  auto watch = std::make_shared<MappingWatch>();
  watch->fd = fd;  // closed with the watch
  watch->slot = kNoSlot;
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
  InstallSigbusHandler();
  void* addr = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(path, ": mmap failed: ", std::strerror(errno)));
  }
  const size_t len = static_cast<size_t>(size);
  const size_t slot = RegisterMapping(addr, len);
  watch->slot = slot;
  // Unregistered before munmap: the address range may be reused by the next mapping.
  out.owner = std::shared_ptr<const void>(addr, [len, slot](const void* p) {
    UnregisterMapping(slot);
    ::munmap(const_cast<void*>(p), len);
  });
  out.bytes = std::span<const std::byte>(static_cast<const std::byte*>(addr), len);
  out.mapped = true;
  out.watch = std::move(watch);
  return out;
}

absl::Status CheckFileIntact(const FileBytes& file) {
  if (!file.mapped || file.watch == nullptr) return absl::OkStatus();
  const MappingWatch& w = *file.watch;
  const bool faulted = w.slot != kNoSlot && g_slots[w.slot].faulted.load(std::memory_order_acquire);
  struct stat st;
  const bool shrank =
      ::fstat(w.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < file.bytes.size();
  if (!faulted && !shrank) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      file.name, ": the file shrank while being read (", file.bytes.size(), " bytes when opened",
      shrank ? absl::StrCat(", ", st.st_size, " now") : std::string(", fewer while being read"),
      "): it was truncated or rewritten during the analysis, so nothing read from it is used"));
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
