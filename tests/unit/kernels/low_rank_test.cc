// LowRankSquaredSingularValues and the engine's LoRA path (TensorInfo::low_rank): a closed
// form, the CPU backend on the formed product as an independent check, and bad factors.
#include "htsr/low_rank.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/backend.h"
#include "htsr/engine.h"

namespace htsr {
namespace {

// Sylvester-Hadamard matrix of order n (a power of two), entries +-1.
std::vector<double> Hadamard(int n) {
  std::vector<double> h(static_cast<size_t>(n) * n, 1.0);
  for (int size = 1; size < n; size *= 2) {
    for (int i = 0; i < size; ++i) {
      for (int j = 0; j < size; ++j) {
        const double v = h[i * n + j];
        h[i * n + j + size] = v;
        h[(i + size) * n + j] = v;
        h[(i + size) * n + j + size] = -v;
      }
    }
  }
  return h;
}

// B = H16[:, :8] / 4 * diag(1..8), A = H64[:8] / 8: orthonormal singular vectors, exact in
// float32, singular values 1..8.
void ClosedForm(std::vector<float>* a, std::vector<float>* b) {
  const std::vector<double> h16 = Hadamard(16), h64 = Hadamard(64);
  a->resize(8 * 64);
  b->resize(16 * 8);
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 64; ++j) (*a)[i * 64 + j] = static_cast<float>(h64[i * 64 + j] / 8);
  }
  for (int i = 0; i < 16; ++i) {
    for (int k = 0; k < 8; ++k) (*b)[i * 8 + k] = static_cast<float>(h16[i * 16 + k] / 4 * (k + 1));
  }
}

TEST(LowRank, KnownSingularValuesGiveExactlyTheirScaledSquares) {
  std::vector<float> a, b;
  ClosedForm(&a, &b);
  const double scale = 4 / std::sqrt(8.0);  // rslora: lora_alpha 4, r 8
  auto evals = LowRankSquaredSingularValues(a, b, 8, 64, 16, scale);
  ASSERT_TRUE(evals.ok()) << evals.status();
  ASSERT_EQ(evals->size(), 8u);
  for (int k = 1; k <= 8; ++k) EXPECT_NEAR((*evals)[k - 1], 2.0 * k * k, 1e-12 * k * k) << k;
}

TEST(LowRank, AgreesWithTheCpuSolverOnTheFormedProduct) {
  const int64_t r = 6, in = 40, out = 70;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g;
  std::vector<float> a(r * in), b(out * r);
  for (float& v : a) v = g(rng);
  for (float& v : b) v = g(rng);
  // One direction a thousand times weaker: small values must keep their relative digits.
  for (int64_t j = 0; j < in; ++j) a[(r - 1) * in + j] *= 1e-3f;
  const double scale = 2.0;
  std::vector<float> product(out * in);
  for (int64_t i = 0; i < out; ++i) {
    for (int64_t j = 0; j < in; ++j) {
      double s = 0;
      for (int64_t k = 0; k < r; ++k) s += double(b[i * r + k]) * a[k * in + j];
      product[i * in + j] = static_cast<float>(scale * s);
    }
  }
  auto evals = LowRankSquaredSingularValues(a, b, r, in, out, scale);
  ASSERT_TRUE(evals.ok()) << evals.status();
  std::vector<double> full(in);
  ASSERT_TRUE(CreateCpuBackend(1)
                  ->SquaredSingularValues({product.data(), 1, out, in}, 1.0, Precision::kF64, full)
                  .ok());
  // The formed product was rounded to float32: agreement to ~1e-6 relative, not more.
  for (int64_t k = 0; k < r; ++k) {
    EXPECT_NEAR((*evals)[k], full[in - r + k], 2e-6 * (*evals)[k]) << k;
  }
  EXPECT_LT(full[in - r - 1], 1e-9 * full.back());  // the rest is zero
}

TEST(LowRank, RefusesFactorsThatDoNotChain) {
  std::vector<float> a(8 * 64), b(16 * 7);
  EXPECT_FALSE(LowRankSquaredSingularValues(a, b, 8, 64, 16, 1.0).ok());
  EXPECT_FALSE(LowRankSquaredSingularValues(a, b, 20, 64, 16, 1.0).ok());  // r > out
}

TEST(LowRank, EngineRowHasTheRankAsNumEvalsAndFailsOnNaN) {
  std::vector<float> a, b;
  ClosedForm(&a, &b);
  auto bytes = std::make_shared<std::vector<float>>(a);
  bytes->insert(bytes->end(), b.begin(), b.end());
  TensorView view;
  view.info.name = "m.lora_BA.weight";
  view.info.shape = {16, 64};
  view.info.low_rank = 8;
  view.info.low_rank_scale = 4 / std::sqrt(8.0);
  view.bytes = std::as_bytes(std::span<const float>(*bytes));
  view.owner = bytes;
  EngineConfig config;
  config.keep_evals = true;
  auto engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok());
  const LayerPlan plan = PlanLayer(view.info, 1, config.options);
  ASSERT_TRUE(plan.analyse) << plan.skip_reason;
  EXPECT_EQ(plan.N, 64);
  EXPECT_EQ(plan.M, 16);
  EXPECT_EQ(plan.num_evals, 8);
  const LayerResult r = (*engine)->AnalyzeLayer(plan, view);
  EXPECT_NE(r.status, LayerStatus::kSkipped) << r.reason;
  ASSERT_EQ(r.evals.size(), 8u);
  EXPECT_NEAR(r.spectral_norm, 128.0, 1e-12);
  EXPECT_EQ(r.matrix_rank, 8);
  EXPECT_EQ(r.rank_loss, 0);

  (*bytes)[3] = std::nanf("");
  const LayerResult bad = (*engine)->AnalyzeLayer(plan, view);
  EXPECT_EQ(bad.status, LayerStatus::kFailed);
  EXPECT_NE(bad.reason.find("NaN"), std::string::npos) << bad.reason;

  view.info.low_rank = 4;  // bytes no longer match the declared rank
  const LayerResult wrong = (*engine)->AnalyzeLayer(PlanLayer(view.info, 1, {}), view);
  EXPECT_NE(wrong.status, LayerStatus::kSuccess);
}

}  // namespace
}  // namespace htsr
