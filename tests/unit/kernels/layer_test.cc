// dtype conversion, tensor sizes and layer planning (docs/spec.md §1).
#include "htsr/layer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/dtype.h"
#include "htsr/tensor.h"

namespace htsr {
namespace {

TEST(DTypeTest, NamesRoundTrip) {
  for (DType t :
       {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64, DType::kI32, DType::kI16,
        DType::kI8, DType::kU8, DType::kBool, DType::kF8E4M3, DType::kF8E5M2}) {
    ASSERT_EQ(ParseSafetensorsDType(DTypeName(t)), t);
  }
  EXPECT_EQ(DTypeName(DType::kF8E4M3), "F8_E4M3");  // safetensors' spelling
  EXPECT_FALSE(ParseSafetensorsDType("F8_E4M3FNUZ").has_value());
  EXPECT_FALSE(ParseSafetensorsDType("f32").has_value());
}

TEST(DTypeTest, F64RoundsToNearestF32) {
  // 1 + 2^-24 + 2^-40 is just above the midpoint between 1 and 1 + 2^-23: rounds up;
  // 1 + 2^-24 exactly is a tie: rounds to even (1).
  const double v[3] = {1.0 + std::ldexp(1.0, -24) + std::ldexp(1.0, -40),
                       1.0 + std::ldexp(1.0, -24), -3.25};
  std::byte raw[sizeof v + 1];
  std::memcpy(raw + 1, v, sizeof v);  // unaligned source
  float out[3];
  ASSERT_TRUE(ConvertToFloat32(DType::kF64, raw + 1, 3, out));
  EXPECT_EQ(out[0], 1.0f + std::ldexp(1.0f, -23));
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], -3.25f);
}

TEST(DTypeTest, HalfTypesWidenExactly) {
  const uint16_t f16[4] = {0x3c00, 0xc000, 0x0001, 0x7c00};  // 1, -2, min subnormal, inf
  float out[4];
  ASSERT_TRUE(ConvertToFloat32(DType::kF16, reinterpret_cast<const std::byte*>(f16), 4, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(out[3]));
  const uint16_t bf16[2] = {0x3f80, 0x4049};  // 1, 3.140625
  ASSERT_TRUE(ConvertToFloat32(DType::kBF16, reinterpret_cast<const std::byte*>(bf16), 2, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 3.140625f);
  EXPECT_FALSE(ConvertToFloat32(DType::kI32, reinterpret_cast<const std::byte*>(bf16), 1, out));
}

// Values from the OCP 8-bit floating point specification (v1.0), tables for E4M3 / E5M2.
TEST(DTypeTest, Float8WidensExactly) {
  const uint8_t e4m3[8] = {0x38, 0xb8, 0x7e, 0x01, 0x08, 0x7f, 0x00, 0x3c};
  float out[8];
  ASSERT_TRUE(ConvertToFloat32(DType::kF8E4M3, reinterpret_cast<const std::byte*>(e4m3), 8, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], 448.0f);                // largest finite: S.1111.110
  EXPECT_EQ(out[3], std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(out[4], std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_TRUE(std::isnan(out[5]));          // S.1111.111: e4m3fn has no infinity
  EXPECT_EQ(out[6], 0.0f);
  EXPECT_EQ(out[7], 1.5f);
  const uint8_t e5m2[6] = {0x3c, 0xc0, 0x7b, 0x01, 0x7c, 0x7e};
  ASSERT_TRUE(ConvertToFloat32(DType::kF8E5M2, reinterpret_cast<const std::byte*>(e5m2), 6, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 57344.0f);               // largest finite
  EXPECT_EQ(out[3], std::ldexp(1.0f, -16));  // smallest subnormal
  EXPECT_TRUE(std::isinf(out[4]));
  EXPECT_TRUE(std::isnan(out[5]));
}

TEST(TensorTest, NumElementsDetectsOverflow) {
  TensorInfo t{"w", DType::kF32, {3, 4, 5}};
  EXPECT_EQ(t.NumElements(), 60);
  t.shape = {};
  EXPECT_EQ(t.NumElements(), 1);
  t.shape = {std::numeric_limits<int64_t>::max() / 2, 3};
  EXPECT_FALSE(t.NumElements().has_value());
  t.shape = {0, std::numeric_limits<int64_t>::max()};
  EXPECT_EQ(t.NumElements(), 0);
  t.shape = {-1, 4};
  EXPECT_FALSE(t.NumElements().has_value());
}

TEST(LayerTest, Candidates) {
  AnalysisOptions opt;
  EXPECT_TRUE(IsLayerCandidate({"a.weight", DType::kBF16, {4, 5}}, opt));
  EXPECT_TRUE(IsLayerCandidate({"c.weight", DType::kF32, {4, 5, 3}}, opt));
  EXPECT_TRUE(IsLayerCandidate({"c.weight", DType::kF32, {4, 5, 3, 3}}, opt));
  EXPECT_FALSE(IsLayerCandidate({"a.bias", DType::kF32, {4, 5}}, opt));
  EXPECT_FALSE(IsLayerCandidate({"norm.weight", DType::kF32, {64}}, opt));
  EXPECT_FALSE(IsLayerCandidate({"x.weight", DType::kF32, {2, 2, 2, 2, 2}}, opt));
  EXPECT_FALSE(IsLayerCandidate({"ids.weight", DType::kI64, {4, 5}}, opt));
  opt.all_tensors = true;
  EXPECT_TRUE(IsLayerCandidate({"a.bias", DType::kF32, {4, 5}}, opt));
  EXPECT_FALSE(IsLayerCandidate({"a.bias", DType::kF32, {4}}, opt));
}

TEST(LayerTest, PlansDenseAndConv) {
  AnalysisOptions opt;
  LayerPlan d = PlanLayer({"fc.weight", DType::kF32, {64, 200}}, 3, opt);
  EXPECT_TRUE(d.analyse);
  EXPECT_EQ(d.layer_id, 3);
  EXPECT_EQ(d.type, LayerType::kDense);
  EXPECT_EQ(d.N, 200);
  EXPECT_EQ(d.M, 64);
  EXPECT_EQ(d.rf, 1);
  EXPECT_EQ(d.num_evals, 64);

  LayerPlan c = PlanLayer({"conv.weight", DType::kF32, {16, 32, 3, 3}}, 1, opt);
  EXPECT_EQ(c.type, LayerType::kConv2d);
  EXPECT_EQ(c.rows, 16);
  EXPECT_EQ(c.cols, 32);
  EXPECT_EQ(c.N, 32);  // reported correctly even for out < in
  EXPECT_EQ(c.M, 16);
  EXPECT_EQ(c.rf, 9);
  EXPECT_EQ(c.num_evals, 144);

  LayerPlan c1 = PlanLayer({"c1.weight", DType::kF32, {8, 4, 5}}, 1, opt);
  EXPECT_EQ(c1.type, LayerType::kConv1d);
  EXPECT_EQ(c1.rf, 5);
  EXPECT_EQ(c1.num_evals, 20);
}

TEST(LayerTest, SizeFilterReasons) {
  AnalysisOptions opt;
  LayerPlan small = PlanLayer({"s.weight", DType::kF32, {7, 300}}, 1, opt);
  EXPECT_FALSE(small.analyse);
  EXPECT_EQ(small.skip_reason, "num_evals 7 < min_evals 8");
  // The reference's DEFAULT_MIN_EVALS is 8: 8 eigenvalues are analysed.
  EXPECT_TRUE(PlanLayer({"m.weight", DType::kF32, {8, 300}}, 1, opt).analyse);
  EXPECT_TRUE(PlanLayer({"m.weight", DType::kF32, {9, 64}}, 1, opt).analyse);
  LayerPlan big = PlanLayer({"b.weight", DType::kF32, {15001, 20000}}, 1, opt);
  EXPECT_FALSE(big.analyse);
  EXPECT_EQ(big.skip_reason, "num_evals 15001 > max_evals 15000");
  LayerPlan wide = PlanLayer({"e.weight", DType::kF32, {50001, 64}}, 1, opt);
  EXPECT_FALSE(wide.analyse);
  EXPECT_EQ(wide.skip_reason, "N 50001 > max_N 50000");
  EXPECT_TRUE(PlanLayer({"e.weight", DType::kF32, {50000, 64}}, 1, opt).analyse);
}

// weightwatcher 0.7.7's conv2d N/M (state-dict path) and the size filter it feeds
// (docs/compatibility.md, "conv2d size filter").
TEST(LayerTest, ReferenceConv2dShape) {
  EXPECT_EQ(ReferenceConv2dShape(8, 24, 2, 2).N, 8);  // out < in, even rf: exchanged
  EXPECT_EQ(ReferenceConv2dShape(8, 24, 2, 2).M, 24);
  EXPECT_EQ(ReferenceConv2dShape(16, 32, 3, 3).N, 32);  // odd rf: max / min
  EXPECT_EQ(ReferenceConv2dShape(16, 32, 3, 3).M, 16);
  EXPECT_EQ(ReferenceConv2dShape(32, 16, 2, 2).M, 16);  // out > in: never exchanged
  EXPECT_EQ(ReferenceConv2dShape(3, 4, 5, 5).N, 3);     // "channels first" guess: out, in
  EXPECT_EQ(ReferenceConv2dShape(3, 4, 5, 5).M, 4);
}

TEST(LayerTest, ReferenceLayerSet) {
  AnalysisOptions opt;
  const TensorInfo big{"c.weight", DType::kF32, {128, 1024, 64, 1}};
  const TensorInfo tiny{"t.weight", DType::kF32, {2, 6, 1, 2}};
  const TensorInfo conv1d{"k.weight", DType::kF32, {16, 8, 3}};
  EXPECT_TRUE(PlanLayer(big, 1, opt).analyse);  // 128 * 64 = 8192 evals
  EXPECT_EQ(PlanLayer(big, 1, opt).num_evals, 8192);
  EXPECT_FALSE(PlanLayer(tiny, 1, opt).analyse);  // 2 * 2 = 4 < 8
  EXPECT_TRUE(PlanLayer(conv1d, 1, opt).analyse);
  opt.reference_layer_set = true;
  const LayerPlan b = PlanLayer(big, 1, opt);
  EXPECT_FALSE(b.analyse);  // the reference: 1024 * 64 = 65536 > 15000
  EXPECT_EQ(b.skip_reason, "num_evals 65536 > max_evals 15000 (the reference's exchanged N/M)");
  EXPECT_EQ(b.N, 1024);  // reported N and M stay htsr's
  EXPECT_EQ(b.M, 128);
  EXPECT_TRUE(PlanLayer(tiny, 1, opt).analyse);  // 6 * 2 = 12 >= 8 there
  EXPECT_FALSE(PlanLayer(conv1d, 1, opt).analyse);
  EXPECT_FALSE(PlanLayer({"r.weight", DType::kF32, {1, 64}}, 1, opt).analyse);
  EXPECT_TRUE(PlanLayer({"d.weight", DType::kF32, {64, 8}}, 1, opt).analyse);
}

TEST(LayerTest, NoPoolFiltersOnM) {
  AnalysisOptions opt;
  opt.pool = false;
  LayerPlan c = PlanLayer({"conv.weight", DType::kF32, {6, 24, 2, 2}}, 1, opt);
  EXPECT_FALSE(c.analyse);  // M = 6 per slice, although M * rf = 24
  EXPECT_EQ(c.skip_reason, "num_evals 6 < min_evals 8");
  EXPECT_TRUE(PlanLayer({"conv.weight", DType::kF32, {16, 32, 3, 3}}, 1, opt).analyse);
}

TEST(LayerTest, AbsurdShapesAreNotAnalysed) {
  AnalysisOptions opt;
  EXPECT_FALSE(PlanLayer({"z.weight", DType::kF32, {0, 5}}, 1, opt).analyse);
  EXPECT_FALSE(PlanLayer({"n.weight", DType::kF32, {-3, 5}}, 1, opt).analyse);
  const int64_t huge = std::numeric_limits<int64_t>::max() / 4;
  LayerPlan o = PlanLayer({"o.weight", DType::kF32, {huge, 8, 2, 2}}, 1, opt);
  EXPECT_FALSE(o.analyse);
  EXPECT_NE(o.skip_reason.find("overflows"), std::string::npos);
}

TEST(LayerTest, Names) {
  EXPECT_EQ(LayerTypeName(LayerType::kConv2d), "conv2d");
  EXPECT_EQ(LayerStatusName(LayerStatus::kSkipped), "skipped");
  EXPECT_EQ(LayerWarningName(LayerWarning::kNone), "");
  EXPECT_EQ(LayerWarningName(LayerWarning::kUnderTrained), "under-trained");
}

}  // namespace
}  // namespace htsr
