// Threaded KS scan over every candidate xmin (docs/spec.md §3) on the CPU.
//
// alpha_i is O(1) from a compensated suffix sum of ln x; D_i is a max over its k = n-i tail
// terms, so the total work is ~n^2/2 terms before pruning. Candidates are dealt to the T
// threads round-robin (the tail length, i.e. the work, shrinks with i), each thread writes
// its own D_i, and the first
// argmin is taken sequentially afterwards, so the result does not depend on T. Candidates
// that provably cannot win stop early (see below).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "htsr/base/parallel_for.h"
#include "htsr/cpu_backend.h"
#include "htsr/ks_math.h"

namespace htsr::cpu {
namespace {

// Terms of work below which a single thread is faster than spawning more.
constexpr int64_t kTermsPerThread = 1 << 20;

}  // namespace

PowerLawScan ScanPowerLaw(std::span<const double> sorted, int threads) {
  PowerLawScan result;
  const int64_t n = static_cast<int64_t>(sorted.size());
  if (n < 2) return result;

  std::vector<double> logs(n);
  for (int64_t j = 0; j < n; ++j) logs[j] = std::log(sorted[j]);
  // Suffix sums of ln x with Neumaier compensation: the alpha denominator
  // sum_{j>=i} ln x_j - k ln x_i cancels heavily when the tail is narrow, so the sum must
  // be accurate to a few ulps (the reference's pairwise np.sum is, too).
  std::vector<double> suffix(n);
  double sum = 0, comp = 0;
  for (int64_t j = n - 1; j >= 0; --j) {
    const double t = sum + logs[j];
    comp += std::fabs(sum) >= std::fabs(logs[j]) ? (sum - t) + logs[j] : (logs[j] - t) + sum;
    sum = t;
    suffix[j] = sum + comp;
  }

  const int64_t candidates = n - 1;
  std::vector<double> alphas(candidates), ds(candidates);
  // Pruning: a candidate whose partial max already exceeds the smallest complete D found so
  // far (by any thread) cannot be the argmin, so its scan stops there; a cheap strided pass
  // (about 64 terms) usually finds such a term first. The result is exact and independent
  // of thread timing: a pruned D_i is a lower bound > best_so_far >= the final minimum, and a
  // candidate whose D equals the final minimum is never pruned (its partial max cannot
  // exceed its own D), so ties still go to the first index.
  std::atomic<double> best_so_far{INFINITY};
  auto work = [&](int64_t first, int64_t stride) {
    // From the top (short, cheap tails) down: the bound is set early and the long tails at
    // the bottom, where the work is, are the ones pruned.
    for (int64_t j = first; j < candidates; j += stride) {
      const int64_t i = candidates - 1 - j;
      const int64_t k = n - i;
      // An all-equal tail has a zero denominator exactly (alpha = inf), whatever the
      // rounding of the suffix sum.
      alphas[i] = sorted[i] == sorted[n - 1] ? INFINITY : ks::Alpha(k, suffix[i], logs[i]);
      if (!(alphas[i] > 1.0)) {
        ds[i] = 1.0;
        continue;
      }
      const double lx0 = logs[i], a = alphas[i];
      const double bound = best_so_far.load(std::memory_order_relaxed);
      double d = 0.0;
      const int64_t step = std::max<int64_t>(1, k / 64);
      for (int64_t m = 0; m < k; m += step) d = std::max(d, ks::KsTerm(logs[i + m], lx0, a, m, k));
      if (d > bound) {
        ds[i] = d;  // lower bound of D_i, already above the best: not the argmin
        continue;
      }
      for (int64_t m = 0; m < k; ++m) d = std::max(d, ks::KsTerm(logs[i + m], lx0, a, m, k));
      ds[i] = d;
      double cur = best_so_far.load(std::memory_order_relaxed);
      while (d < cur && !best_so_far.compare_exchange_weak(cur, d, std::memory_order_relaxed)) {
      }
    }
  };
  const int64_t terms = n * n / 2;
  int t = std::max(1, threads);
  t = static_cast<int>(std::min<int64_t>(t, std::max<int64_t>(1, terms / kTermsPerThread)));
  // Task tid is thread tid's round-robin share; work() throws nothing.
  ParallelFor(static_cast<size_t>(t), t, [&](size_t tid) { work(static_cast<int>(tid), t); });

  // First index of the smallest D; a NaN D wins like numpy's argmin (never expected).
  int64_t best = 0;
  for (int64_t i = 1; i < candidates; ++i) {
    if (std::isnan(ds[best])) break;
    if (std::isnan(ds[i]) || ds[i] < ds[best]) best = i;
  }
  result.best_index = best;
  result.alpha = alphas[best];
  result.D = ds[best];
  return result;
}

}  // namespace htsr::cpu
