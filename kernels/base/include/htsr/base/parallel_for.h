// The product's one way to run many short tasks on a few threads: the engine's layer
// workers, the CPU KS scan, scan jobs over files and remote split streams. Tasks are
// handed out from one index counter, so uneven tasks balance and every index runs exactly
// once; the calling thread is one of the workers. (Long-lived queues that outlive a call,
// such as the server's worker pool, are a different job and keep their own threads.)
#ifndef HTSR_BASE_PARALLEL_FOR_H_
#define HTSR_BASE_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace htsr {

// Runs fn(i) for every i in [0, n_tasks) on min(n_threads, n_tasks) threads (at least the
// caller's). No exception escapes a thread: one thrown by fn(i) is caught where it was
// thrown, the other indices still run, and the first one caught is rethrown on the caller's
// thread after every thread has joined. A thread that cannot be started (std::system_error)
// is not an error: the threads that did start take its share.
template <typename Fn>
void ParallelFor(size_t n_tasks, int n_threads, Fn&& fn) {
  if (n_tasks == 0) return;
  const size_t threads = std::min(n_tasks, static_cast<size_t>(std::max(1, n_threads)));
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  std::exception_ptr first_error;
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < n_tasks; i = next.fetch_add(1)) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!first_error) first_error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {
      break;
    }
  }
  worker();
  for (std::thread& th : pool) th.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace htsr

#endif  // HTSR_BASE_PARALLEL_FOR_H_
