#include "analysis/lora_merge.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr::analysis {
namespace {

TensorInfo Update(std::string module, int64_t out, int64_t in, int64_t r,
                  bool fan_in_fan_out = false) {
  TensorInfo t;
  t.name = module + ".lora_BA.weight";
  t.shape = {out, in};
  t.low_rank = r;
  t.low_rank_scale = 2.0;
  t.low_rank_fan_in_fan_out = fan_in_fan_out;
  return t;
}

TensorInfo Weight(std::string name, std::vector<int64_t> shape, DType dtype = DType::kF32) {
  TensorInfo t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.dtype = dtype;
  return t;
}

TEST(LoraBaseTensorName, DropsPeftsWrapperPrefixAndNamesTheWeight) {
  EXPECT_EQ(LoraBaseTensorName(Update("base_model.model.model.layers.0.q_proj", 4, 4, 1)),
            "model.layers.0.q_proj.weight");
  EXPECT_EQ(LoraBaseTensorName(Update("encoder.query", 4, 4, 1)), "encoder.query.weight");
  EXPECT_EQ(LoraBaseTensorName(Weight("encoder.query.weight", {4, 4})), "");
}

TEST(PairUpdatesWithBase, PairsByNameAndShapeAndSaysWhyNot) {
  const std::vector<TensorInfo> updates = {
      Update("base_model.model.a", 8, 16, 2), Update("base_model.model.b", 8, 16, 2),
      Update("base_model.model.c", 8, 16, 2), Update("base_model.model.d", 8, 16, 2, true),
      Update("base_model.model.e", 8, 16, 2)};
  const std::vector<TensorInfo> base = {
      Weight("a.weight", {8, 16}), Weight("c.weight", {16, 8}), Weight("d.weight", {16, 8}),
      Weight("e.weight", {8, 16}, DType::kI8), Weight("f.weight", {8, 8})};
  const BasePairing p = PairUpdatesWithBase(updates, base);
  ASSERT_EQ(p.base_index.size(), 5u);
  EXPECT_EQ(p.base_index[0], 0u);
  EXPECT_FALSE(p.base_index[1].has_value());
  EXPECT_NE(p.reason[1].find("no tensor b.weight"), std::string::npos) << p.reason[1];
  // A transposed base weight is another layer unless the adapter says fan_in_fan_out.
  EXPECT_FALSE(p.base_index[2].has_value());
  EXPECT_NE(p.reason[2].find("[8, 16]"), std::string::npos) << p.reason[2];
  EXPECT_NE(p.reason[2].find("[16, 8]"), std::string::npos) << p.reason[2];
  EXPECT_EQ(p.base_index[3], 2u);
  EXPECT_FALSE(p.base_index[4].has_value());
  EXPECT_NE(p.reason[4].find("not floating"), std::string::npos) << p.reason[4];
}

// ||s B A||_F against the formed product, on random factors of a non-square update.
TEST(LowRankFrobenius, EqualsTheFrobeniusNormOfTheFormedProduct) {
  const int64_t r = 3, in = 7, out = 5;
  std::mt19937 gen(7);
  std::normal_distribution<float> dist;
  std::vector<float> a(r * in), b(out * r);
  for (float& x : a) x = dist(gen);
  for (float& x : b) x = dist(gen);
  double formed = 0;
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t k = 0; k < in; ++k) {
      double s = 0;
      for (int64_t j = 0; j < r; ++j) s += static_cast<double>(b[o * r + j]) * a[j * in + k];
      formed += (1.5 * s) * (1.5 * s);
    }
  }
  EXPECT_NEAR(LowRankFrobenius(a.data(), b.data(), r, in, out, 1.5), std::sqrt(formed),
              1e-12 * std::sqrt(formed));
  EXPECT_EQ(LowRankFrobenius(a.data(), b.data(), r, in, out, 0.0), 0.0);
}

TEST(HoldsLowRankUpdates, OnlyWhenSomeTensorIsAFactorPair) {
  EXPECT_FALSE(HoldsLowRankUpdates({Weight("a.weight", {2, 2})}));
  EXPECT_TRUE(HoldsLowRankUpdates({Weight("a.weight", {2, 2}), Update("m", 2, 2, 1)}));
}

}  // namespace
}  // namespace htsr::analysis
