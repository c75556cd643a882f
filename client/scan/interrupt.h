// Ctrl-C (SIGINT) and SIGTERM during a scan: the first asks the scan to stop taking new
// checkpoints and finish the running ones (each is recorded in its own transaction); the
// second exits at once with 130, which is still safe: SQLite rolls back a half-written
// transaction on the next open.
#ifndef HTSR_CLIENT_SCAN_INTERRUPT_H_
#define HTSR_CLIENT_SCAN_INTERRUPT_H_

#include <atomic>
#include <csignal>

namespace htsr::scan {

class ScopedInterruptHandler {
 public:
  ScopedInterruptHandler();
  ~ScopedInterruptHandler();
  ScopedInterruptHandler(const ScopedInterruptHandler&) = delete;
  ScopedInterruptHandler& operator=(const ScopedInterruptHandler&) = delete;

  const std::atomic<bool>& requested() const;
  // The signal that asked for the stop (0 for none).
  int signal() const;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_INTERRUPT_H_
