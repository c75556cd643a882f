// Shared helpers of the GPU tests: synthetic matrices and tolerance checks.
#ifndef HTSR_TESTS_GPU_GPU_TEST_UTIL_H_
#define HTSR_TESTS_GPU_GPU_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/cuda/cuda_backend.h"
#include "gtest/gtest.h"
#include "htsr/backend.h"

namespace htsr::gpu_test {

// A test comparing the CUDA backend (device 0) with the CPU backend, the reference;
// skipped where no CUDA device is visible.
class CudaVsCpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (CudaDeviceCountImpl() == 0) GTEST_SKIP() << "no CUDA device";
    absl::StatusOr<std::unique_ptr<Backend>> gpu = CreateCudaBackend(0);
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    gpu_ = *std::move(gpu);
    cpu_ = CreateCpuBackend(0);
  }

  std::unique_ptr<Backend> gpu_;
  std::unique_ptr<Backend> cpu_;
};

inline std::vector<float> GaussianMatrix(int64_t rows, int64_t cols, uint32_t seed,
                                         float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  return w;
}

// rows x cols of rank exactly r (generically): (rows x r) * (r x cols) with small integer
// entries, so every product and sum is exact in float32 and the null space is exact.
inline std::vector<float> LowRankMatrix(int64_t rows, int64_t cols, int64_t r, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<float> a(static_cast<size_t>(rows * r)), b(static_cast<size_t>(r * cols));
  for (float& v : a) v = static_cast<float>(small(rng));
  for (float& v : b) v = static_cast<float>(small(rng));
  std::vector<float> w(static_cast<size_t>(rows * cols), 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t t = 0; t < r; ++t) {
      const float x = a[i * r + t];
      for (int64_t j = 0; j < cols; ++j) w[i * cols + j] += x * b[t * cols + j];
    }
  }
  return w;
}

// Columns scaled by 10^(-6 j / cols): singular values spread over ~6 decades, so the
// smallest squared ones sit near 1e-12 * lambda_max (the refined region of docs/spec.md §2).
inline std::vector<float> GradedMatrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<float> w = GaussianMatrix(rows, cols, seed);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      w[i * cols + j] *= static_cast<float>(std::pow(10.0, -6.0 * j / cols));
    }
  }
  return w;
}

// |got - want| <= rel * |want| + abs * max(want): per-value check of two spectra of one
// matrix (ascending), naming the first offender.
inline ::testing::AssertionResult SpectraClose(const std::vector<double>& got,
                                               const std::vector<double>& want, double rel,
                                               double abs) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  }
  double lambda_max = 0;
  for (double v : want) lambda_max = std::max(lambda_max, std::fabs(v));
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = rel * std::fabs(want[i]) + abs * lambda_max;
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      return ::testing::AssertionFailure()
             << "value " << i << ": got " << got[i] << ", want " << want[i] << " (tol " << tol
             << ", lambda_max " << lambda_max << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace htsr::gpu_test

#endif  // HTSR_TESTS_GPU_GPU_TEST_UTIL_H_
