// Eigen paths of the CPU backend: closed forms and docs/spec.md §2's accuracy bound against dgesdd.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/cpu_backend.h"

namespace htsr::cpu {
namespace {

// Row-major rows x cols matrix U diag(s) V^T with random orthogonal U, V (Householder
// products), so the singular values are exactly known up to the rounding of W to f32.
std::vector<float> WithSingularValues(int rows, int cols, const std::vector<double>& s,
                                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  const int m = std::min(rows, cols);
  // Start from diag(s) embedded in rows x cols (double, row-major), then apply random
  // Householder reflections on the left (rows) and right (cols).
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  for (int i = 0; i < m; ++i) w[static_cast<size_t>(i) * cols + i] = s[i];
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> v(rows);
    double nv = 0;
    for (double& x : v) {
      x = g(rng);
      nv += x * x;
    }
    for (int c = 0; c < cols; ++c) {
      double dot = 0;
      for (int r = 0; r < rows; ++r) dot += v[r] * w[static_cast<size_t>(r) * cols + c];
      for (int r = 0; r < rows; ++r) w[static_cast<size_t>(r) * cols + c] -= 2 * dot / nv * v[r];
    }
    std::vector<double> u(cols);
    double nu = 0;
    for (double& x : u) {
      x = g(rng);
      nu += x * x;
    }
    for (int r = 0; r < rows; ++r) {
      double dot = 0;
      for (int c = 0; c < cols; ++c) dot += u[c] * w[static_cast<size_t>(r) * cols + c];
      for (int c = 0; c < cols; ++c) w[static_cast<size_t>(r) * cols + c] -= 2 * dot / nu * u[c];
    }
  }
  return std::vector<float>(w.begin(), w.end());
}

std::vector<double> Solve(const std::vector<float>& w, int rows, int cols, double scale,
                          EigenMethod method) {
  std::vector<double> out(std::min(rows, cols));
  const absl::Status st = SquaredSingularValues(w.data(), rows, cols, scale, method, out);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

// docs/spec.md §2: relative 1e-9 where lambda >= 1e-10 lambda_max, absolute 1e-12 lambda_max below.
void ExpectWithinSpecBound(const std::vector<double>& got, const std::vector<double>& ref) {
  ASSERT_EQ(got.size(), ref.size());
  const double lmax = ref.back();
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] >= 1e-10 * lmax) {
      EXPECT_LE(std::fabs(got[i] - ref[i]), 1e-9 * ref[i]) << "i=" << i << " ref=" << ref[i];
    } else {
      EXPECT_LE(std::fabs(got[i] - ref[i]), 1e-12 * lmax) << "i=" << i << " ref=" << ref[i];
    }
  }
}

TEST(EigenSolverTest, DiagonalClosedForm) {
  // 5x3 row-major with singular values 3, 2, 0.5 on the diagonal; scale 2 -> x4.
  std::vector<float> w(15, 0.0f);
  w[0] = 3;
  w[4] = 0.5f;
  w[8] = 2;
  for (EigenMethod m : {EigenMethod::kGramRefined, EigenMethod::kGesdd, EigenMethod::kGramSyevd,
                        EigenMethod::kGramSyevr, EigenMethod::kF32Syevd}) {
    const std::vector<double> got = Solve(w, 5, 3, 2.0, m);
    EXPECT_NEAR(got[0], 1.0, 1e-6);
    EXPECT_NEAR(got[1], 16.0, 1e-5);
    EXPECT_NEAR(got[2], 36.0, 1e-5);
  }
  // Wide orientation (3x5 = transpose): same values.
  std::vector<float> wt(15, 0.0f);
  wt[0] = 3;
  wt[6] = 0.5f;
  wt[12] = 2;
  const std::vector<double> got = Solve(wt, 3, 5, 1.0, EigenMethod::kGramRefined);
  EXPECT_DOUBLE_EQ(got[0], 0.25);
  EXPECT_DOUBLE_EQ(got[1], 4.0);
  EXPECT_DOUBLE_EQ(got[2], 9.0);
}

TEST(EigenSolverTest, OrthogonalConstructionKnownSpectrum) {
  std::vector<double> s(40);
  for (int i = 0; i < 40; ++i) s[i] = 1.0 + i * 0.25;
  const std::vector<float> w = WithSingularValues(70, 40, s, 7);
  const std::vector<double> got = Solve(w, 70, 40, 1.0, EigenMethod::kGramRefined);
  for (int i = 0; i < 40; ++i) {
    // f32 rounding of W perturbs sigma by ~1e-7 relative.
    EXPECT_NEAR(got[i], s[i] * s[i], 1e-5 * s[i] * s[i]) << i;
  }
}

// Ill-conditioned (geometric singular values down to 1e-7 sigma_max, i.e. lambda down to
// 1e-14 lambda_max) and rank-deficient matrices, tall and wide: the default path must meet
// docs/spec.md §2 against dgesdd on the same f32 matrix. Without refinement it would not.
TEST(EigenSolverTest, MeetsSpecBoundAgainstGesdd) {
  struct Case {
    int rows, cols;
    double log10_cond;
    int zeros;
  };
  for (const Case& c : {Case{300, 200, 7, 0}, Case{150, 260, 6, 0}, Case{256, 256, 5, 0},
                        Case{200, 120, 3, 40}, Case{90, 180, 2, 30}}) {
    const int m = std::min(c.rows, c.cols);
    std::vector<double> s(m);
    for (int i = 0; i < m; ++i) {
      s[i] = i < c.zeros ? 0.0 : std::pow(10.0, -c.log10_cond * (m - 1 - i) / (m - 1));
    }
    const std::vector<float> w = WithSingularValues(c.rows, c.cols, s, 11 + c.rows);
    const std::vector<double> ref = Solve(w, c.rows, c.cols, 1.0, EigenMethod::kGesdd);
    const std::vector<double> got = Solve(w, c.rows, c.cols, 1.0, EigenMethod::kGramRefined);
    SCOPED_TRACE(testing::Message() << c.rows << "x" << c.cols << " cond 1e" << c.log10_cond);
    ExpectWithinSpecBound(got, ref);
  }
}

// Why the refinement exists: plain Gram + dsyevd misses the bound on the same kind of
// matrix (squaring W squares its condition number).
TEST(EigenSolverTest, UnrefinedGramMissesBoundWhenIllConditioned) {
  const int rows = 300, cols = 200;
  std::vector<double> s(cols);
  for (int i = 0; i < cols; ++i) s[i] = std::pow(10.0, -5.0 * (cols - 1 - i) / (cols - 1));
  const std::vector<float> w = WithSingularValues(rows, cols, s, 5);
  const std::vector<double> ref = Solve(w, rows, cols, 1.0, EigenMethod::kGesdd);
  const std::vector<double> raw = Solve(w, rows, cols, 1.0, EigenMethod::kGramSyevd);
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] >= 1e-10 * ref.back()) worst = std::max(worst, std::fabs(raw[i] - ref[i]) / ref[i]);
  }
  EXPECT_GT(worst, 1e-9);
}

TEST(EigenSolverTest, GaussianSquareMeetsBound) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g;
  const int n = 400;
  std::vector<float> w(n * n);
  for (float& x : w) x = g(rng);
  const std::vector<double> ref = Solve(w, n, n, std::sqrt(0.5), EigenMethod::kGesdd);
  ExpectWithinSpecBound(Solve(w, n, n, std::sqrt(0.5), EigenMethod::kGramRefined), ref);
}

TEST(EigenSolverTest, ZeroMatrixGivesZeros) {
  std::vector<float> w(12 * 7, 0.0f);
  for (double v : Solve(w, 12, 7, 1.0, EigenMethod::kGramRefined)) EXPECT_EQ(v, 0.0);
}

TEST(EigenSolverTest, RejectsBadShapes) {
  std::vector<double> out(4);
  float x = 0;
  EXPECT_FALSE(SquaredSingularValues(&x, 0, 4, 1.0, EigenMethod::kGramRefined, out).ok());
  EXPECT_FALSE(SquaredSingularValues(&x, 1, 4, 1.0, EigenMethod::kGramRefined,
                                     std::span<double>(out.data(), 0))
                   .ok());
}

}  // namespace
}  // namespace htsr::cpu
