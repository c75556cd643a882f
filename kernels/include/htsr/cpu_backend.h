// The CPU backend (LAPACK/OpenBLAS eigen solver, threaded KS scan) and its building
// blocks, exposed for the engine's scheduling, the tests and the benchmarks.
#ifndef HTSR_CPU_BACKEND_H_
#define HTSR_CPU_BACKEND_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "htsr/backend.h"

namespace htsr::cpu {

// Eigen paths for one row-major float32 matrix W (rows x cols). Each writes the
// min(rows, cols) squared singular values of scale*W to `out`, ascending.
enum class EigenMethod : uint8_t {
  kGramRefined,  // default f64: Gram + dsytrd/dsterf (= dsyevd values-only), small ones refined
  kGramSyevd,    // f64 Gram + dsyevd only (no refinement; for benchmarks/tests)
  kGramSyevr,    // f64 Gram + dsyevr (MRRR) values only (for benchmarks)
  kGesdd,        // f64 dgesdd on W itself, values only: the accuracy reference of docs/spec.md §2
  kF32Syevd,     // f32 Gram (ssyrk) + ssyevd: the fast, lower-accuracy mode
};

absl::Status SquaredSingularValues(const float* w, int64_t rows, int64_t cols, double scale,
                                   EigenMethod method, std::span<double> out);

// Process-wide OpenBLAS thread count (OpenBLAS has only a global setting). n <= 0: all cores.
void SetBlasThreads(int n);
int BlasThreads();
int HardwareThreads();

// First index with the smallest KS distance over all candidates (docs/spec.md §3), computed with
// `threads` std::threads. `sorted` ascending, size >= 2.
PowerLawScan ScanPowerLaw(std::span<const double> sorted, int threads);

std::unique_ptr<Backend> NewCpuBackend(int threads);

}  // namespace htsr::cpu

#endif  // HTSR_CPU_BACKEND_H_
