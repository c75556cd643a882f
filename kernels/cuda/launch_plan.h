// Host-side planning math of the CUDA backend: which Gram product a row-major matrix
// needs, how many matrices of a batch fit a device-memory budget, and the KS and TPL scans'
// launch shapes and memory. Plain C++ (no CUDA types) so CI without a GPU unit-tests it.
#ifndef HTSR_KERNELS_CUDA_LAUNCH_PLAN_H_
#define HTSR_KERNELS_CUDA_LAUNCH_PLAN_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

namespace htsr::cuda_plan {

// cuBLAS is column-major. A row-major `rows x cols` W, read column-major with
// lda = cols, is A = W^T (cols x rows): the same singular values. We always form the
// Gram matrix of the smaller side, order m = min(rows, cols):
//   cols <= rows: W^T W = A A^T -> syrk/gemm with op N on A (n = cols, k = rows)
//   rows <  cols: W W^T = A^T A -> syrk/gemm with op T on A (n = rows, k = cols)
struct GramShape {
  int64_t m = 0;           // Gram order = number of eigenvalues per matrix
  int64_t k = 0;           // inner dimension of the product
  int64_t lda = 0;         // leading dimension of the column-major view (= cols)
  bool transpose = false;  // true: C = A^T A; false: C = A A^T
};

inline GramShape PlanGram(int64_t rows, int64_t cols) {
  GramShape g;
  g.lda = cols;
  if (cols <= rows) {
    g.m = cols;
    g.k = rows;
    g.transpose = false;
  } else {
    g.m = rows;
    g.k = cols;
    g.transpose = true;
  }
  return g;
}

// a * b, or nullopt when it overflows int64 or an operand is negative.
inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return std::nullopt;
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return std::nullopt;
  return a * b;
}

// Device bytes of the Gram + eigen pipeline for `count` matrices, apart from the
// solver's own workspace (queried from cuSOLVER): the float32 input, its float64 copy
// (kF64 only), the Gram matrices, their eigenvalues (solver precision) and the float64
// output, plus one `info` int per matrix.
inline std::optional<int64_t> GramPipelineBytes(int64_t rows, int64_t cols, int64_t count,
                                                bool f64) {
  const GramShape g = PlanGram(rows, cols);
  const int64_t elem = f64 ? 8 : 4;
  auto in = CheckedMul(rows, cols);
  auto gram = CheckedMul(g.m, g.m);
  if (!in || !gram) return std::nullopt;
  auto in_bytes = CheckedMul(*in, 4 + (f64 ? 8 : 0));
  auto gram_bytes = CheckedMul(*gram, elem);
  if (!in_bytes || !gram_bytes) return std::nullopt;
  const int64_t eig_bytes = g.m * (elem + 8) + 4;
  if (*in_bytes > std::numeric_limits<int64_t>::max() - *gram_bytes - eig_bytes) {
    return std::nullopt;
  }
  return CheckedMul(*in_bytes + *gram_bytes + eig_bytes, count);
}

// Largest chunk c <= count (halving from count) with need(c) <= budget, or 0 when not
// even one matrix fits. `need` returns nullopt on overflow (= does not fit).
template <typename NeedFn>
int64_t LargestFittingChunk(int64_t count, int64_t budget, NeedFn need) {
  for (int64_t c = count; c >= 1; c = (c == 1) ? 0 : (c + 1) / 2) {
    const std::optional<int64_t> bytes = need(c);
    if (bytes && *bytes <= budget) return c;
  }
  return 0;
}

// KS scan: one block per candidate xmin i = 0..n-2 (tail of n - i points). Threads per
// block: the smallest power of two >= the longest tail, between one warp and 256, so
// short spectra do not launch idle warps.
inline int KsThreadsPerBlock(int64_t n) {
  int threads = 32;
  while (threads < 256 && threads < n) threads *= 2;
  return threads;
}

// Device bytes of the KS scan for n values, apart from CUB's temporary storage: sorted
// values (input and sorted copy), their logs, the reversed logs and their suffix sums
// (double-double, 16 bytes each), alpha and D per candidate, and the result record.
inline std::optional<int64_t> KsScanBytes(int64_t n) {
  const std::optional<int64_t> bytes = CheckedMul(n, 8 + 8 + 8 + 16 + 16 + 8 + 8);
  if (!bytes || *bytes > std::numeric_limits<int64_t>::max() - 64) return std::nullopt;
  return *bytes + 64;
}

// Device bytes of the TPL scan for n sorted values and c candidates: the uploaded values and
// their logs, the uploaded candidate indices, per candidate T_ln, T_x, alpha, z and D, and
// the result record and the shared D bound.
inline std::optional<int64_t> TplScanBytes(int64_t n, int64_t candidates) {
  const std::optional<int64_t> values = CheckedMul(n, 8 + 8);
  const std::optional<int64_t> per_candidate = CheckedMul(candidates, 8 + 5 * 8);
  if (!values || !per_candidate ||
      *values > std::numeric_limits<int64_t>::max() - 128 - *per_candidate) {
    return std::nullopt;
  }
  return *values + *per_candidate + 128;
}

}  // namespace htsr::cuda_plan

#endif  // HTSR_KERNELS_CUDA_LAUNCH_PLAN_H_
