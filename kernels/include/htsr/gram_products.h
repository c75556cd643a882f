// Frobenius norms of Gram and cross products of two float64 matrices with BLAS, for the
// distances of `--base` (the reference's CKA): O(rows * cols * min(rows, cols)) flops each, so
// they must run at dgemm speed, not as scalar loops (a 2048 x 2048 pair took minutes).
#ifndef HTSR_GRAM_PRODUCTS_H_
#define HTSR_GRAM_PRODUCTS_H_

#include <cstdint>

namespace htsr {

// ||A^T B||_F for row-major A, B, each rows x cols. Works in min(rows, cols)^2 doubles:
// A^T B itself when cols <= rows, else <A A^T, B B^T>_F = ||A^T B||_F^2.
double CrossProductFrobenius(const double* a, const double* b, int64_t rows, int64_t cols);

// ||A^T A||_F = ||A A^T||_F (the same nonzero eigenvalues): the smaller Gram matrix.
double GramFrobenius(const double* a, int64_t rows, int64_t cols);

}  // namespace htsr

#endif  // HTSR_GRAM_PRODUCTS_H_
