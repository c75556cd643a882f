// Runs a function in a forked child process under time and memory limits and collects what it
// writes to a pipe: a crash, hang or runaway allocation in code we cannot fix (a C library fed
// a hostile file) ends the child, not the caller. Used for libhdf5 (hdf5_sandbox.h).
//
// Why fork without exec (and what the child may do): readers are a library linked into the
// CLI, the tests, the fuzzers and the Python extension, so there is no one executable to
// re-exec as a helper (in Python, /proc/self/exe is the interpreter) and no binary to ship and
// find beside each of them. A forked child shares the parent's copy of the file in memory
// (copy-on-write), so nothing is copied to it. The cost of fork in a multi-threaded process is
// that locks held by other threads at the fork stay held in the child; the child therefore
// only runs code that takes no lock the parent uses (glibc's malloc is reset by fork; libhdf5
// is never called in the parent, so its state and locks are fresh in every child), never
// returns into the caller (it ends with _exit: no atexit handlers, destructors or leak checks),
// and any lock it still meets turns into the parent's wall-clock time limit: an error, never a
// hang.
#ifndef HTSR_CLIENT_READERS_CHILD_PROCESS_H_
#define HTSR_CLIENT_READERS_CHILD_PROCESS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace htsr::readers {

struct ChildLimits {
  double wall_seconds = 120;  // then SIGKILL
  int cpu_seconds = 120;      // RLIMIT_CPU (SIGXCPU, then SIGKILL)
  // RLIMIT_AS above the address space the child starts with (the parent's, inherited).
  uint64_t extra_address_space = uint64_t{2} << 30;
  uint64_t max_file_bytes = 0;                 // RLIMIT_FSIZE: bytes written to any file
  size_t max_output_bytes = size_t{64} << 20;  // read from the pipe; more kills the child
};

// How the child ended.
struct ChildResult {
  enum class End { kExited, kSignaled, kTimedOut, kOutputTooLarge, kUnknown };
  End end = End::kUnknown;
  int code = 0;        // exit status (kExited) or signal number (kSignaled)
  std::string output;  // everything read from the pipe, also when the child failed

  bool ok() const { return end == End::kExited && code == 0; }
  // "was killed by signal 11 (Segmentation fault)", "ran past its time limit of 120 s", ...
  std::string Describe(const ChildLimits& limits) const;
};

// Exit status of a child whose function ran out of memory (std::bad_alloc).
inline constexpr int kChildOutOfMemory = 3;

// Forks; the child closes every descriptor but `out` (the pipe's write end) and
// `keep_fds`, applies `limits`, runs `body(out)` and _exits 0 (kChildOutOfMemory on
// std::bad_alloc). The parent reads the pipe until EOF and reaps the child, killing it at the
// time limit or the output limit. Fails (ok() false, end kUnknown, output empty) only when
// the pipe or the fork cannot be made; `error` then says why.
ChildResult RunInChild(const ChildLimits& limits, const std::vector<int>& keep_fds,
                       const std::function<void(int out)>& body, std::string* error);

// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false on error.
bool WriteAll(int fd, const void* bytes, size_t size);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_CHILD_PROCESS_H_
