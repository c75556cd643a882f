#include "scan/interrupt.h"

#include <unistd.h>

namespace htsr::scan {
namespace {

// Lock-free atomics are async-signal-safe; nothing else is touched in the handler.
std::atomic<bool> g_requested{false};
std::atomic<int> g_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

void OnSignal(int sig) {
  if (g_requested.exchange(true)) {
    constexpr char kMsg[] = "\nhtsr: second interrupt: exiting now\n";
    [[maybe_unused]] ssize_t n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    _exit(130);
  }
  g_signal.store(sig);
  constexpr char kMsg[] =
      "\nhtsr: interrupted: finishing the running checkpoints (again to quit now)\n";
  [[maybe_unused]] ssize_t n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
}

}  // namespace

ScopedInterruptHandler::ScopedInterruptHandler() {
  g_requested = false;
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

ScopedInterruptHandler::~ScopedInterruptHandler() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

const std::atomic<bool>& ScopedInterruptHandler::requested() const { return g_requested; }
int ScopedInterruptHandler::signal() const { return g_signal.load(); }

}  // namespace htsr::scan
