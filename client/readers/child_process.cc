// fork, limits, pipe and reaping for RunInChild (see child_process.h for why fork).
#include "readers/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <new>

#include "absl/strings/str_cat.h"

namespace htsr::readers {
namespace {

double Now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void SleepSeconds(double s) {
  timespec t{static_cast<time_t>(s), static_cast<long>((s - std::floor(s)) * 1e9)};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

// The child's current address space in bytes (the first field of /proc/self/statm, in
// pages), read with open/read only; 0 when unknown.
uint64_t AddressSpaceBytes() {
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[64];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  uint64_t pages = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    pages = pages * 10 + static_cast<uint64_t>(buf[i] - '0');
  }
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void SetLimit(int resource, uint64_t soft, uint64_t hard) {
  rlimit old;
  if (getrlimit(resource, &old) != 0) return;
  // Never raise a limit the parent already has (an unprivileged process could not anyway).
  rlim_t s = std::min<rlim_t>(static_cast<rlim_t>(soft), old.rlim_max);
  rlim_t h = std::min<rlim_t>(static_cast<rlim_t>(hard), old.rlim_max);
  s = std::min(s, h);
  const rlimit lim{s, h};
  setrlimit(resource, &lim);
}

// Closes every descriptor from 3 up except `keep` (sorted): the child must not hold the
// pipes of other children forked at the same time by other threads (their parents would wait
// for an EOF that never comes) nor the parent's sockets.
void CloseRange(unsigned from, unsigned to) {
  if (syscall(SYS_close_range, from, to, 0u) == 0) return;
  // Before Linux 5.9: one close per descriptor, up to the descriptor limit.
  const long max = std::min<long>(sysconf(_SC_OPEN_MAX), 1 << 20);
  for (long fd = from; fd <= static_cast<long>(to) && fd < max; ++fd) close(static_cast<int>(fd));
}

void CloseOtherFds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(from)) continue;
    if (static_cast<unsigned>(fd) > from) CloseRange(from, static_cast<unsigned>(fd) - 1);
    from = static_cast<unsigned>(fd) + 1;
  }
  CloseRange(from, ~0u);
}

[[noreturn]] void ChildMain(int out, const ChildLimits& limits, const std::vector<int>& keep,
                            const std::function<void(int)>& body) {
  std::vector<int> fds = keep;
  fds.push_back(out);
  CloseOtherFds(std::move(fds));
  // Ctrl-C and termination end the child at once, whatever handlers the parent installed.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGXFSZ, SIG_IGN);     // a write past RLIMIT_FSIZE fails with EFBIG instead
  SetLimit(RLIMIT_CORE, 0, 0);  // a crash on a hostile file is expected: no core dump
  SetLimit(RLIMIT_CPU, static_cast<uint64_t>(limits.cpu_seconds),
           static_cast<uint64_t>(limits.cpu_seconds) + 1);
  if (limits.max_file_bytes > 0) {
    SetLimit(RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes);
  }
  // Relative to what the child inherited: the parent may have mapped large files, thread
  // stacks or (under ASan) shadow memory, none of which the child's work allocates.
  if (const uint64_t now = AddressSpaceBytes(); now > 0 && limits.extra_address_space > 0) {
    const uint64_t cap = now + limits.extra_address_space;
    SetLimit(RLIMIT_AS, cap, cap);
  }
  try {
    body(out);
  } catch (const std::bad_alloc&) {
    _exit(kChildOutOfMemory);
  }
  _exit(0);
}

}  // namespace

bool WriteAll(int fd, const void* bytes, size_t size) {
  const char* p = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string ChildResult::Describe(const ChildLimits& limits) const {
  switch (end) {
    case End::kExited:
      if (code == kChildOutOfMemory) {
        return absl::StrCat("ran out of its memory limit (", limits.extra_address_space >> 20,
                            " MiB)");
      }
      return absl::StrCat("exited with status ", code);
    case End::kSignaled:
      if (code == SIGXCPU) {
        return absl::StrCat("ran past its CPU time limit of ", limits.cpu_seconds, " s");
      }
      return absl::StrCat("was killed by signal ", code, " (", strsignal(code), ")");
    case End::kTimedOut:
      return absl::StrCat("ran past its time limit of ", limits.wall_seconds, " s");
    case End::kOutputTooLarge:
      return absl::StrCat("sent more than ", limits.max_output_bytes, " bytes");
    case End::kUnknown:
      break;
  }
  return "ended in an unknown way";
}

ChildResult RunInChild(const ChildLimits& limits, const std::vector<int>& keep_fds,
                       const std::function<void(int)>& body, std::string* error) {
  ChildResult result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = absl::StrCat("cannot make a pipe: ", strerror(errno));
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *error = absl::StrCat("cannot fork: ", strerror(errno));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return result;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    ChildMain(pipe_fds[1], limits, keep_fds, body);
  }
  close(pipe_fds[1]);
  const int in = pipe_fds[0];
  const double deadline = Now() + limits.wall_seconds;
  bool kill_it = false;
  char buf[1 << 16];
  for (;;) {
    const double left = deadline - Now();
    if (left <= 0) {
      result.end = ChildResult::End::kTimedOut;
      kill_it = true;
      break;
    }
    pollfd p{in, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min(left * 1000 + 1, 1e9)));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // the deadline is checked above
    const ssize_t n = read(in, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF: the child closed the pipe (or ended)
    if (result.output.size() + static_cast<size_t>(n) > limits.max_output_bytes) {
      result.end = ChildResult::End::kOutputTooLarge;
      kill_it = true;
      break;
    }
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(in);
  // After EOF the child normally exits at once; one that lingers still meets the deadline.
  // A pidfd says when it has ended (Linux 5.3); without one, poll waitpid with naps.
  const int pidfd = kill_it ? -1 : static_cast<int>(syscall(SYS_pidfd_open, pid, 0u));
  int status = 0;
  double nap = 0.0005;
  for (;;) {
    if (pidfd >= 0 && !kill_it) {
      const double left = deadline - Now();
      pollfd p{pidfd, POLLIN, 0};
      if (left > 0) poll(&p, 1, static_cast<int>(std::min(left * 1000 + 1, 1e9)));
    }
    if (kill_it) kill(pid, SIGKILL);
    const pid_t w = waitpid(pid, &status, kill_it ? 0 : WNOHANG);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      // ECHILD: the process ignores SIGCHLD and the kernel reaped the child; its exit status
      // is lost, so the caller's own end marker in `output` must show it finished.
      if (result.end == ChildResult::End::kUnknown) {
        result.end = ChildResult::End::kExited;
        result.code = 0;
      }
      if (pidfd >= 0) close(pidfd);
      return result;
    }
    if (w == pid) break;
    if (Now() >= deadline) {
      result.end = ChildResult::End::kTimedOut;
      kill_it = true;
      continue;
    }
    if (pidfd < 0) {
      SleepSeconds(nap);
      nap = std::min(nap * 2, 0.05);
    }
  }
  if (pidfd >= 0) close(pidfd);
  if (result.end == ChildResult::End::kUnknown) {
    if (WIFSIGNALED(status)) {
      result.end = ChildResult::End::kSignaled;
      result.code = WTERMSIG(status);
    } else {
      result.end = ChildResult::End::kExited;
      result.code = WEXITSTATUS(status);
    }
  }
  return result;
}

}  // namespace htsr::readers
