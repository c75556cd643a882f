// Spectrum of scale * B A from the factors.
//
// Why QR and not the r x r eigenproblem of (B^T B)(A A^T): that product is not symmetric,
// and forming the Gram matrices squares the condition number, so small singular values lose
// half their digits (a value 1e-8 below the largest would vanish). Instead, with B = Q_B R_B
// and A^T = Q_A R_A (thin Householder QR, Q with orthonormal columns),
//   B A = Q_B (R_B R_A^T) Q_A^T,
// so B A has exactly the singular values of the r x r core C = R_B R_A^T. Householder QR is
// backward stable and a one-sided Jacobi SVD of C is accurate to full relative precision, so
// every singular value comes out to about machine precision relative to the largest, as
// float64 gesdd on the formed product would give. All of it runs in float64.
#include "htsr/low_rank.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace htsr {
namespace {

// R (r x r, upper triangular, row-major) of the thin Householder QR of the m x r matrix
// `x` (row-major, float64, overwritten). m >= r.
std::vector<double> HouseholderR(std::vector<double> x, int64_t m, int64_t r) {
  auto at = [&](int64_t i, int64_t j) -> double& { return x[static_cast<size_t>(i * r + j)]; };
  std::vector<double> v(static_cast<size_t>(m));
  for (int64_t k = 0; k < r; ++k) {
    double norm = 0;
    for (int64_t i = k; i < m; ++i) norm = std::hypot(norm, at(i, k));
    if (norm == 0) continue;
    const double alpha = at(k, k) > 0 ? -norm : norm;
    for (int64_t i = k; i < m; ++i) v[i] = at(i, k);
    v[k] -= alpha;
    double vv = 0;
    for (int64_t i = k; i < m; ++i) vv += v[i] * v[i];
    if (vv == 0) continue;
    for (int64_t j = k; j < r; ++j) {
      double dot = 0;
      for (int64_t i = k; i < m; ++i) dot += v[i] * at(i, j);
      const double f = 2 * dot / vv;
      for (int64_t i = k; i < m; ++i) at(i, j) -= f * v[i];
    }
  }
  std::vector<double> rr(static_cast<size_t>(r * r), 0.0);
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = i; j < r; ++j) rr[i * r + j] = at(i, j);
  }
  return rr;
}

// Singular values of the n x n matrix `c` (row-major) by one-sided Jacobi on its columns.
std::vector<double> JacobiSingularValues(std::vector<double> c, int64_t n) {
  auto at = [&](int64_t i, int64_t j) -> double& { return c[static_cast<size_t>(i * n + j)]; };
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p < n - 1; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        double app = 0, aqq = 0, apq = 0;
        for (int64_t i = 0; i < n; ++i) {
          app += at(i, p) * at(i, p);
          aqq += at(i, q) * at(i, q);
          apq += at(i, p) * at(i, q);
        }
        if (apq == 0 || std::abs(apq) <= 1e-15 * std::sqrt(app * aqq)) continue;
        rotated = true;
        const double zeta = (aqq - app) / (2 * apq);
        const double t = std::copysign(1.0, zeta) / (std::abs(zeta) + std::hypot(1.0, zeta));
        const double cs = 1 / std::hypot(1.0, t), sn = cs * t;
        for (int64_t i = 0; i < n; ++i) {
          const double xp = at(i, p), xq = at(i, q);
          at(i, p) = cs * xp - sn * xq;
          at(i, q) = sn * xp + cs * xq;
        }
      }
    }
    if (!rotated) break;
  }
  std::vector<double> sv(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s = std::hypot(s, at(i, j));
    sv[j] = s;
  }
  return sv;
}

}  // namespace

absl::StatusOr<std::vector<double>> LowRankSquaredSingularValues(std::span<const float> a,
                                                                 std::span<const float> b,
                                                                 int64_t r, int64_t in, int64_t out,
                                                                 double scale) {
  if (r <= 0 || in < r || out < r) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", r, " does not fit a ", out, " x ", in, " update"));
  }
  if (a.size() != static_cast<size_t>(r * in) || b.size() != static_cast<size_t>(out * r)) {
    return absl::InvalidArgumentError(absl::StrCat("factor sizes ", a.size(), " and ", b.size(),
                                                   " do not match rank ", r, ", shape ", out, " x ",
                                                   in));
  }
  // A^T (in x r) and B (out x r), row-major float64.
  std::vector<double> at(static_cast<size_t>(in * r)), bd(b.begin(), b.end());
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < in; ++j) at[j * r + i] = a[i * in + j];
  }
  const std::vector<double> rb = HouseholderR(std::move(bd), out, r);
  const std::vector<double> ra = HouseholderR(std::move(at), in, r);
  std::vector<double> core(static_cast<size_t>(r * r), 0.0);  // R_B R_A^T
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < r; ++j) {
      double s = 0;
      for (int64_t k = 0; k < r; ++k) s += rb[i * r + k] * ra[j * r + k];
      core[i * r + j] = s;
    }
  }
  std::vector<double> sv = JacobiSingularValues(std::move(core), r);
  for (double& s : sv) s = (scale * s) * (scale * s);
  std::sort(sv.begin(), sv.end());
  return sv;
}

}  // namespace htsr
