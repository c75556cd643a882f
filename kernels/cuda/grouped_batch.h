// Grouping of same-shape matrices from different callers into one batched backend call
// (the GPU work queue's batching point). Host-only and backend-agnostic.
#ifndef HTSR_KERNELS_CUDA_GROUPED_BATCH_H_
#define HTSR_KERNELS_CUDA_GROUPED_BATCH_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/backend.h"
#include "htsr/options.h"

namespace htsr {

// One caller's matrix: `rows x cols` float32 row-major at `data`; `out` receives the
// min(rows, cols) ascending squared singular values of (scale * W).
struct SameShapeJob {
  const float* data = nullptr;
  double scale = 1.0;
  std::span<double> out;
};

// Solves all `jobs` (each rows x cols) with as few Backend::SquaredSingularValues calls as
// `max_batch_bytes` of gathered input allows (at least one matrix per call). The batch is
// solved with scale 1 and each job's values are multiplied by its scale^2: sigma(cW) =
// |c| sigma(W), so this only changes rounding in the last bit.
inline absl::Status SquaredSingularValuesGrouped(Backend& backend, int64_t rows, int64_t cols,
                                                 std::span<const SameShapeJob> jobs,
                                                 Precision precision,
                                                 int64_t max_batch_bytes = int64_t{256} << 20) {
  if (rows <= 0 || cols <= 0 || rows > (int64_t{1} << 31) || cols > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrCat("grouped batch: bad shape ", rows, "x", cols));
  }
  const int64_t m = std::min(rows, cols);
  const int64_t elems = rows * cols;
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (jobs[j].data == nullptr || static_cast<int64_t>(jobs[j].out.size()) != m ||
        !std::isfinite(jobs[j].scale)) {
      return absl::InvalidArgumentError(absl::StrCat("grouped batch: job ", j,
                                                     " has no data, a non-finite scale or an out "
                                                     "span of ",
                                                     jobs[j].out.size(), " values (want ", m, ")"));
    }
  }
  const int64_t bytes_per_matrix = elems * static_cast<int64_t>(sizeof(float));
  const int64_t per_call =
      std::max<int64_t>(1, max_batch_bytes / std::max<int64_t>(1, bytes_per_matrix));
  std::vector<float> gathered;
  std::vector<double> values;
  for (size_t first = 0; first < jobs.size(); first += static_cast<size_t>(per_call)) {
    const size_t count = std::min(jobs.size() - first, static_cast<size_t>(per_call));
    gathered.resize(count * static_cast<size_t>(elems));
    for (size_t j = 0; j < count; ++j) {
      std::memcpy(gathered.data() + j * static_cast<size_t>(elems), jobs[first + j].data,
                  static_cast<size_t>(bytes_per_matrix));
    }
    values.resize(count * static_cast<size_t>(m));
    const MatrixBatch batch{gathered.data(), static_cast<int64_t>(count), rows, cols};
    absl::Status status = backend.SquaredSingularValues(batch, 1.0, precision, values);
    if (!status.ok()) return status;
    for (size_t j = 0; j < count; ++j) {
      const double s2 = jobs[first + j].scale * jobs[first + j].scale;
      const double* src = values.data() + j * static_cast<size_t>(m);
      std::span<double> dst = jobs[first + j].out;
      for (int64_t i = 0; i < m; ++i) dst[static_cast<size_t>(i)] = s2 * src[i];
    }
  }
  return absl::OkStatus();
}

}  // namespace htsr

#endif  // HTSR_KERNELS_CUDA_GROUPED_BATCH_H_
