// CUDA backend vs the CPU backend (the reference) on the same float32 inputs
// (docs/architecture.md rule 9). Tolerances: kF64 both meet docs/spec.md §2's bound against gesdd
// (1e-9 relative, 1e-12 * lambda_max absolute), so they agree to twice that; kF32 is the
// fast mode, compared to the CPU's float64 values at 1e-3 relative + 1e-4 * lambda_max.
#include "../../kernels/cuda/cuda_backend.h"

#include <cmath>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "gpu_test_util.h"
#include "gtest/gtest.h"
#include "htsr/backend.h"

namespace htsr {
namespace {

using gpu_test::GaussianMatrix;
using gpu_test::SpectraClose;

constexpr double kRel64 = 2e-9, kAbs64 = 2e-12;
constexpr double kRel32 = 1e-3, kAbs32 = 1e-4;

class CudaBackendTest : public gpu_test::CudaVsCpuTest {
 protected:
  // Spectra of every matrix of `batch` from one backend, split per matrix.
  static std::vector<std::vector<double>> Solve(Backend& backend, const MatrixBatch& batch,
                                                double scale, Precision precision) {
    const int64_t m = std::min(batch.rows, batch.cols);
    std::vector<double> out(static_cast<size_t>(batch.count * m));
    const absl::Status status = backend.SquaredSingularValues(batch, scale, precision, out);
    EXPECT_TRUE(status.ok()) << backend.Name() << ": " << status;
    std::vector<std::vector<double>> split;
    for (int64_t b = 0; b < batch.count; ++b) {
      split.emplace_back(out.begin() + b * m, out.begin() + (b + 1) * m);
    }
    return split;
  }

  void ExpectMatchesCpu(const std::vector<float>& w, int64_t count, int64_t rows, int64_t cols,
                        double scale = 1.0) {
    const MatrixBatch batch{w.data(), count, rows, cols};
    const auto want = Solve(*cpu_, batch, scale, Precision::kF64);
    const auto got64 = Solve(*gpu_, batch, scale, Precision::kF64);
    const auto got32 = Solve(*gpu_, batch, scale, Precision::kF32);
    for (int64_t b = 0; b < count; ++b) {
      EXPECT_TRUE(SpectraClose(got64[b], want[b], kRel64, kAbs64))
          << rows << "x" << cols << " matrix " << b << " f64";
      EXPECT_TRUE(SpectraClose(got32[b], want[b], kRel32, kAbs32))
          << rows << "x" << cols << " matrix " << b << " f32";
    }
  }
};

TEST_F(CudaBackendTest, NameAndDescription) {
  EXPECT_EQ(gpu_->Name(), "cuda");
  EXPECT_NE(gpu_->Description().find("GiB"), std::string::npos) << gpu_->Description();
}

TEST_F(CudaBackendTest, DenseShapesMatchCpu) {
  const int64_t shapes[][2] = {{1, 40},    {40, 1},   {1, 31},     {31, 1},    {1, 1},
                               {17, 29},   {29, 17},  {31, 31},    {333, 129}, {129, 333},
                               {257, 257}, {1000, 3}, {16384, 64}, {64, 16384}};
  uint32_t seed = 1;
  for (const auto& s : shapes) {
    SCOPED_TRACE(testing::Message() << s[0] << "x" << s[1]);
    ExpectMatchesCpu(GaussianMatrix(s[0], s[1], seed++), 1, s[0], s[1]);
  }
}

TEST_F(CudaBackendTest, Dense4096MatchesCpu) {
  ExpectMatchesCpu(GaussianMatrix(4096, 4096, 7, 0.02f), 1, 4096, 4096);
  ExpectMatchesCpu(GaussianMatrix(4096, 1024, 8, 0.02f), 1, 4096, 1024);
}

TEST_F(CudaBackendTest, SmallEigenvaluesAreRefinedLikeCpu) {
  // Rank-deficient: the null directions must come out ~0 (1e-12 * lambda_max), not
  // ~1e-16 * lambda_max Gram noise; graded: relative accuracy deep in the spectrum.
  const std::vector<float> low_rank = gpu_test::LowRankMatrix(300, 200, 150, 11);
  const std::vector<float> graded = gpu_test::GradedMatrix(400, 120, 12);
  const MatrixBatch lr{low_rank.data(), 1, 300, 200};
  const MatrixBatch gr{graded.data(), 1, 400, 120};
  EXPECT_TRUE(SpectraClose(Solve(*gpu_, lr, 1.0, Precision::kF64)[0],
                           Solve(*cpu_, lr, 1.0, Precision::kF64)[0], kRel64, kAbs64));
  const auto got = Solve(*gpu_, gr, 1.0, Precision::kF64)[0];
  const auto want = Solve(*cpu_, gr, 1.0, Precision::kF64)[0];
  ASSERT_LT(want.front(), 1e-9 * want.back());  // the test reaches the refined region
  EXPECT_TRUE(SpectraClose(got, want, kRel64, kAbs64));
  // And rank: the exact 50-dimensional null space comes out far below the Gram noise
  // level (~1e-16 * lambda_max), as gesdd's would.
  const auto lr_got = Solve(*gpu_, lr, 1.0, Precision::kF64)[0];
  EXPECT_LT(lr_got[49], 1e-18 * lr_got.back());
  EXPECT_GT(lr_got[50], 1e-6 * lr_got.back());
}

TEST_F(CudaBackendTest, ConvLikeBatchesMatchCpu) {
  // 3x3 conv slices (batched eigensolver path, m <= 256) and larger ones (one by one),
  // with the conv2d normalisation scale sqrt(1/2).
  const double scale = std::sqrt(0.5);
  ExpectMatchesCpu(GaussianMatrix(9 * 64 * 32, 1, 21), 9, 64, 32, scale);
  ExpectMatchesCpu(GaussianMatrix(9 * 16 * 48, 1, 22), 9, 16, 48, scale);
  ExpectMatchesCpu(GaussianMatrix(4 * 300 * 300, 1, 23), 4, 300, 300, scale);
  ExpectMatchesCpu(GaussianMatrix(25 * 5 * 3, 1, 24), 25, 5, 3, scale);
}

TEST_F(CudaBackendTest, BatchedEqualsOneByOne) {
  constexpr int64_t kCount = 9, kRows = 96, kCols = 64;
  const std::vector<float> w = GaussianMatrix(kCount * kRows * kCols, 1, 31);
  const MatrixBatch batch{w.data(), kCount, kRows, kCols};
  for (Precision p : {Precision::kF64, Precision::kF32}) {
    const auto batched = Solve(*gpu_, batch, 1.0, p);
    for (int64_t b = 0; b < kCount; ++b) {
      const MatrixBatch one{w.data() + b * kRows * kCols, 1, kRows, kCols};
      const auto single = Solve(*gpu_, one, 1.0, p)[0];
      EXPECT_TRUE(SpectraClose(batched[b], single, p == Precision::kF64 ? kRel64 : 1e-4,
                               p == Precision::kF64 ? kAbs64 : 1e-5))
          << "matrix " << b;
    }
  }
}

TEST_F(CudaBackendTest, MemoryLimitChunksOrRefuses) {
  // 9 x 256 x 256 f64: buffers alone are >= 1.3 MB per matrix (11.8 MB for the batch),
  // and one matrix with its solver workspace needs 4.8 MiB (measured on an H100, CUDA 13).
  // A 10 MiB limit therefore forces chunks of the batch; a 1 MiB limit cannot hold one
  // matrix -> kResourceExhausted (the engine's CPU fallback).
  const std::vector<float> w = GaussianMatrix(9 * 256 * 256, 1, 51);
  const MatrixBatch batch{w.data(), 9, 256, 256};
  absl::StatusOr<std::unique_ptr<Backend>> small = CreateCudaBackendWithMemoryLimit(0, 10 << 20);
  ASSERT_TRUE(small.ok()) << small.status();
  const auto chunked = Solve(**small, batch, 1.0, Precision::kF64);
  const auto whole = Solve(*cpu_, batch, 1.0, Precision::kF64);
  for (int b = 0; b < 9; ++b) EXPECT_TRUE(SpectraClose(chunked[b], whole[b], kRel64, kAbs64));

  absl::StatusOr<std::unique_ptr<Backend>> tiny = CreateCudaBackendWithMemoryLimit(0, 1 << 20);
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  std::vector<double> out(9 * 256);
  const absl::Status status = (*tiny)->SquaredSingularValues(batch, 1.0, Precision::kF64, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  // Still usable for what fits.
  const std::vector<float> small_w = GaussianMatrix(16, 8, 52);
  std::vector<double> small_out(8);
  EXPECT_TRUE(
      (*tiny)
          ->SquaredSingularValues({small_w.data(), 1, 16, 8}, 1.0, Precision::kF64, small_out)
          .ok());
}

TEST_F(CudaBackendTest, BadArgumentsAreErrors) {
  const std::vector<float> w = GaussianMatrix(8, 4, 61);
  std::vector<double> out(4), wrong(3);
  EXPECT_EQ(gpu_->SquaredSingularValues({nullptr, 1, 8, 4}, 1.0, Precision::kF64, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->SquaredSingularValues({w.data(), 1, 8, 4}, 1.0, Precision::kF64, wrong).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->SquaredSingularValues({w.data(), 0, 8, 4}, 1.0, Precision::kF64, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->SquaredSingularValues({w.data(), 1, 8, 4}, NAN, Precision::kF64, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CreateCudaBackend(CudaDeviceCountImpl()).ok());
  EXPECT_FALSE(CreateCudaBackend(-1).ok());
}

TEST_F(CudaBackendTest, NonFiniteInputIsRejectedAndTheBackendSurvives) {
  std::vector<float> w = GaussianMatrix(3 * 32 * 16, 1, 71);
  w[2 * 32 * 16 + 5] = NAN;
  std::vector<double> out(3 * 16);
  for (Precision p : {Precision::kF64, Precision::kF32}) {
    const absl::Status status = gpu_->SquaredSingularValues({w.data(), 3, 32, 16}, 1.0, p, out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find("matrix 2"), std::string::npos) << status;
  }
  w[2 * 32 * 16 + 5] = INFINITY;
  EXPECT_FALSE(gpu_->SquaredSingularValues({w.data(), 3, 32, 16}, 1.0, Precision::kF64, out).ok());
  ExpectMatchesCpu(GaussianMatrix(32, 16, 72), 1, 32, 16);
}

TEST_F(CudaBackendTest, ConcurrentCallersGetTheirOwnResults) {
  std::vector<std::vector<float>> mats;
  for (int t = 0; t < 4; ++t) mats.push_back(GaussianMatrix(200, 100, 80 + t));
  std::vector<std::vector<double>> outs(4, std::vector<double>(100));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        EXPECT_TRUE(gpu_->SquaredSingularValues({mats[t].data(), 1, 200, 100}, 1.0, Precision::kF64,
                                                outs[t])
                        .ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    const MatrixBatch one{mats[t].data(), 1, 200, 100};
    EXPECT_TRUE(SpectraClose(outs[t], Solve(*cpu_, one, 1.0, Precision::kF64)[0], kRel64, kAbs64));
  }
}

// The memory limit holds for the calls in flight together: with room for one 256 x 256
// f64 solve (4.8 MiB, see above) but not two, concurrent callers take turns (a call that
// does not fit beside the others waits to run alone) instead of being refused, and KS
// scans on the other lanes meanwhile give the CPU's answers.
TEST_F(CudaBackendTest, ConcurrentCallersShareTheMemoryLimit) {
  absl::StatusOr<std::unique_ptr<Backend>> gpu = CreateCudaBackendWithMemoryLimit(0, 7 << 20);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  constexpr int kThreads = 6;
  std::vector<std::vector<float>> mats;
  for (int t = 0; t < kThreads; ++t) mats.push_back(GaussianMatrix(256, 256, 90 + t));
  std::vector<std::vector<double>> outs(kThreads, std::vector<double>(256));
  std::vector<double> tail(2000);
  for (size_t i = 0; i < tail.size(); ++i) tail[i] = 1.0 + 0.01 * static_cast<double>(i * i);
  const absl::StatusOr<PowerLawScan> want_scan = cpu_->ScanPowerLaw(tail);
  ASSERT_TRUE(want_scan.ok()) << want_scan.status();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        const absl::Status s = (*gpu)->SquaredSingularValues({mats[t].data(), 1, 256, 256}, 1.0,
                                                             Precision::kF64, outs[t]);
        EXPECT_TRUE(s.ok()) << "thread " << t << ": " << s;
        const absl::StatusOr<PowerLawScan> scan = (*gpu)->ScanPowerLaw(tail);
        ASSERT_TRUE(scan.ok()) << scan.status();
        EXPECT_EQ(scan->best_index, want_scan->best_index);
        EXPECT_NEAR(scan->alpha, want_scan->alpha, 1e-9 * want_scan->alpha);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    const MatrixBatch one{mats[t].data(), 1, 256, 256};
    EXPECT_TRUE(SpectraClose(outs[t], Solve(*cpu_, one, 1.0, Precision::kF64)[0], kRel64, kAbs64));
  }
}

}  // namespace
}  // namespace htsr
