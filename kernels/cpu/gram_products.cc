#include "htsr/gram_products.h"

#include <climits>
#include <cmath>
#include <vector>

#include "lapack_decls.h"

namespace htsr {
namespace {

bool FitsBlas(int64_t rows, int64_t cols) { return rows <= INT_MAX && cols <= INT_MAX; }

// G = X X^T (n x n, upper triangle) of a row-major rows x cols X: its smaller-side Gram.
// Column-major, the row-major X is X^T (cols x rows, ld = cols).
std::vector<double> SmallGram(const double* x, int rows, int cols) {
  const double one = 1, zero = 0;
  if (cols <= rows) {
    std::vector<double> g(static_cast<size_t>(cols) * cols, 0.0);  // X^T X
    dsyrk_("U", "N", &cols, &rows, &one, x, &cols, &zero, g.data(), &cols, 1, 1);
    return g;
  }
  std::vector<double> g(static_cast<size_t>(rows) * rows, 0.0);  // X X^T
  dsyrk_("U", "T", &rows, &cols, &one, x, &cols, &zero, g.data(), &rows, 1, 1);
  return g;
}

// sum_ij G_ij H_ij over the full symmetric matrices, from their upper triangles (column-major:
// element (i, j), i <= j, at j * n + i).
double SymmetricInner(const std::vector<double>& g, const std::vector<double>& h, int n) {
  double diag = 0, off = 0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < j; ++i)
      off += g[static_cast<size_t>(j) * n + i] * h[static_cast<size_t>(j) * n + i];
    diag += g[static_cast<size_t>(j) * n + j] * h[static_cast<size_t>(j) * n + j];
  }
  return diag + 2 * off;
}

}  // namespace

double CrossProductFrobenius(const double* a, const double* b, int64_t rows64, int64_t cols64) {
  if (rows64 <= 0 || cols64 <= 0) return 0;
  if (!FitsBlas(rows64, cols64)) {
    // No real layer has a side of 2^31; the plain sum keeps this total.
    double s = 0;
    for (int64_t i = 0; i < cols64; ++i) {
      for (int64_t j = 0; j < cols64; ++j) {
        double dot = 0;
        for (int64_t r = 0; r < rows64; ++r) dot += a[r * cols64 + i] * b[r * cols64 + j];
        s += dot * dot;
      }
    }
    return std::sqrt(s);
  }
  const int rows = static_cast<int>(rows64), cols = static_cast<int>(cols64);
  if (cols <= rows) {
    // C = A^T B (cols x cols): column-major A' = A^T, B' = B^T, so C = A' B'^T.
    const double one = 1, zero = 0;
    std::vector<double> c(static_cast<size_t>(cols) * cols, 0.0);
    dgemm_("N", "T", &cols, &cols, &rows, &one, a, &cols, b, &cols, &zero, c.data(), &cols, 1, 1);
    double s = 0;
    for (double x : c) s += x * x;
    return std::sqrt(s);
  }
  // ||A^T B||_F^2 = tr(B^T A A^T B) = <A A^T, B B^T>_F, rows x rows each.
  return std::sqrt(
      std::max(0.0, SymmetricInner(SmallGram(a, rows, cols), SmallGram(b, rows, cols), rows)));
}

double GramFrobenius(const double* a, int64_t rows64, int64_t cols64) {
  if (rows64 <= 0 || cols64 <= 0) return 0;
  if (!FitsBlas(rows64, cols64)) return CrossProductFrobenius(a, a, rows64, cols64);
  const int rows = static_cast<int>(rows64), cols = static_cast<int>(cols64);
  const int n = cols <= rows ? cols : rows;
  const std::vector<double> g = SmallGram(a, rows, cols);
  return std::sqrt(std::max(0.0, SymmetricInner(g, g, n)));
}

}  // namespace htsr
