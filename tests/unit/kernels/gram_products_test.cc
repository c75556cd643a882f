#include "htsr/gram_products.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace htsr {
namespace {

// ||A^T B||_F by the definition, in long double.
double Direct(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols) {
  long double s = 0;
  for (int i = 0; i < cols; ++i) {
    for (int j = 0; j < cols; ++j) {
      long double dot = 0;
      for (int r = 0; r < rows; ++r)
        dot += static_cast<long double>(a[r * cols + i]) * b[r * cols + j];
      s += dot * dot;
    }
  }
  return static_cast<double>(std::sqrt(s));
}

std::vector<double> Random(int n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d;
  std::vector<double> v(n);
  for (double& x : v) x = d(gen);
  return v;
}

// Tall (A^T B through dgemm), wide (through the two row Gram matrices) and square.
TEST(GramProducts, EqualTheDefinitionForEveryShape) {
  for (auto [rows, cols] :
       {std::pair{37, 11}, std::pair{9, 40}, std::pair{16, 16}, std::pair{1, 5}}) {
    const std::vector<double> a = Random(rows * cols, rows), b = Random(rows * cols, cols + 100);
    const double cross = Direct(a, b, rows, cols), gram = Direct(a, a, rows, cols);
    EXPECT_NEAR(CrossProductFrobenius(a.data(), b.data(), rows, cols), cross, 1e-12 * cross)
        << rows << "x" << cols;
    EXPECT_NEAR(GramFrobenius(a.data(), rows, cols), gram, 1e-12 * gram) << rows << "x" << cols;
  }
}

// A^T B = 0 when the columns of A and B span orthogonal subspaces of R^rows.
TEST(GramProducts, OrthogonalColumnSpacesGiveZero) {
  const std::vector<double> a = {1, 1, 0, 0, 0, 0};  // 3 x 2: rows (1,1), (0,0), (0,0)
  const std::vector<double> b = {0, 0, 2, 3, 0, 0};
  EXPECT_EQ(CrossProductFrobenius(a.data(), b.data(), 3, 2), 0.0);
  EXPECT_EQ(GramFrobenius(a.data(), 0, 2), 0.0);
}

}  // namespace
}  // namespace htsr
