#include "analysis/base_delta.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../readers/reader_test_util.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace htsr::analysis {
namespace {

using readers::testing::FloatBytes;
using readers::testing::Safetensors;

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

std::string WriteFile(const std::string& name, const std::vector<Tensor>& tensors) {
  std::string header = "{", data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const size_t begin = data.size();
    data += FloatBytes(tensors[i].values);
    std::string shape;
    for (size_t d = 0; d < tensors[i].shape.size(); ++d) {
      absl::StrAppend(&shape, d ? "," : "", tensors[i].shape[d]);
    }
    absl::StrAppend(&header, i ? "," : "", "\"", tensors[i].name,
                    "\":{\"dtype\":\"F32\",\"shape\":[", shape, "],\"data_offsets\":[", begin, ",",
                    data.size(), "]}");
  }
  header += "}";
  const std::string path = absl::StrCat(::testing::TempDir(), "/htsr_base_delta_", ::getpid(), "_",
                                        name, ".safetensors");
  std::ofstream(path, std::ios::binary) << Safetensors(header, data);
  return path;
}

// Sylvester's Hadamard matrix of order n (a power of two): entries +-1, H H^T = n I.
int Hadamard(int i, int j) { return __builtin_popcount(static_cast<unsigned>(i & j)) % 2 ? -1 : 1; }

std::vector<float> Pseudorandom(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    // Multiples of 2^-10 in [-1, 1): base + update stays exact in float32.
    x = static_cast<float>(static_cast<int>(seed >> 21) - 1024) / 1024.0f;
  }
  return v;
}

std::unique_ptr<Engine> MakeEngine(bool keep_evals = false) {
  EngineConfig config;
  config.threads = 1;
  config.keep_evals = keep_evals;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

// Base + an exact rank-r update U S V^T: the delta's W^T W has exactly r nonzero eigenvalues,
// the squared singular values. U, V are Hadamard columns scaled to unit length by powers of
// two and the base is dyadic, so base + update and the difference are exact in float32.
TEST(BaseDeltaTest, ExactRankRUpdateHasItsSquaredSingularValues) {
  constexpr int kRows = 64, kCols = 16;
  const std::vector<double> s = {16, 12, 8, 6, 4};  // singular values, r = 5
  const std::vector<float> base = Pseudorandom(kRows * kCols, 7);
  std::vector<float> tuned = base;
  for (size_t k = 0; k < s.size(); ++k) {
    // Columns 1..r of H64 / 8 and of H16 / 4 (column 0, all ones, left out for variety).
    for (int i = 0; i < kRows; ++i) {
      for (int j = 0; j < kCols; ++j) {
        tuned[i * kCols + j] +=
            static_cast<float>(s[k] * Hadamard(i, k + 1) / 8.0 * Hadamard(j, k + 1) / 4.0);
      }
    }
  }
  const std::string b = WriteFile("rank_base", {{"l.weight", {kRows, kCols}, base}});
  const std::string t = WriteFile("rank_tuned", {{"l.weight", {kRows, kCols}, tuned}});
  auto engine = MakeEngine(/*keep_evals=*/true);
  auto report = AnalyzeCheckpointAgainstBase(t, b, *engine, {});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->layers.size(), 1u);
  const LayerResult& row = report->layers[0];
  ASSERT_EQ(row.evals.size(), static_cast<size_t>(kCols));
  std::vector<double> evals = row.evals;
  std::sort(evals.rbegin(), evals.rend());
  for (size_t k = 0; k < s.size(); ++k) {
    EXPECT_NEAR(evals[k], s[k] * s[k], 1e-9 * s[k] * s[k]) << k;
  }
  for (size_t k = s.size(); k < evals.size(); ++k) {
    EXPECT_LE(std::abs(evals[k]), 1e-9 * s[0] * s[0]) << "eigenvalue " << k << " is not zero";
  }
  // ||U S V^T||_F^2 = sum s^2 = 516; the base's own norm is whatever the file holds.
  ASSERT_TRUE(row.dist_frobenius.has_value());
  EXPECT_NEAR(*row.dist_frobenius, std::sqrt(516.0), 1e-12);
  EXPECT_NEAR(*row.dist_euclidean, std::sqrt(516.0), 1e-12);
  double base_sq = 0;
  for (float x : base) base_sq += static_cast<double>(x) * x;
  EXPECT_NEAR(*row.dist_relative, std::sqrt(516.0 / base_sq), 1e-12);
  ASSERT_TRUE(row.delta_log_norm.has_value());  // both models analysed alone too
  EXPECT_TRUE(row.delta_alpha.has_value());
}

TEST(BaseDeltaTest, DenseDistancesByHand) {
  // W = [[1,0],[0,2]], Wb = [[1,1],[0,1]]: W^T Wb = [[1,1],[0,2]] (|.|_F^2 = 6),
  // W^T W = diag(1,4) (17), Wb Wb^T = [[2,1],[1,1]] (7); W - Wb = [[0,-1],[0,1]].
  const float w[] = {1, 0, 0, 2}, wb[] = {1, 1, 0, 1};
  const LayerDistances d = ComputeDistances({2, 2}, w, wb);
  EXPECT_NEAR(d.frobenius, std::sqrt(2.0), 1e-15);
  EXPECT_NEAR(d.relative, std::sqrt(2.0 / 3.0), 1e-15);
  EXPECT_NEAR(d.euclidean, std::sqrt(2.0), 1e-15);
  ASSERT_TRUE(d.cka.has_value());
  EXPECT_NEAR(*d.cka, std::sqrt(6.0) / std::sqrt(std::sqrt(17.0) * std::sqrt(7.0)), 1e-15);
}

TEST(BaseDeltaTest, Conv2dDistancesAreMeansOverTransposedSlices) {
  // (out=1, in=2, kh=1, kw=2): slices W[:, :, 0, j] are 1x2, which the reference transposes to
  // 2x1 column vectors a, b; then CKA = |a.b| / (|a| |b|) (untransposed it would be 1).
  const float w[] = {1, 2, 3, 4}, wb[] = {1, 0, 0, 1};
  // slice 0: a = (w[0], w[2]) = (1, 3), b = (1, 0); slice 1: a = (2, 4), b = (0, 1).
  const LayerDistances d = ComputeDistances({1, 2, 1, 2}, w, wb);
  EXPECT_NEAR(d.euclidean, (std::sqrt(0.0 + 9.0) + std::sqrt(4.0 + 9.0)) / 2, 1e-15);
  EXPECT_NEAR(d.frobenius, std::sqrt(0.0 + 4.0 + 9.0 + 9.0), 1e-15);
  ASSERT_TRUE(d.cka.has_value());
  EXPECT_NEAR(*d.cka, (1 / std::sqrt(10.0) + 4 / std::sqrt(20.0)) / 2, 1e-15);
}

TEST(BaseDeltaTest, PairsByExactNameAndShape) {
  const std::vector<TensorInfo> model = {{"layer.1.weight", DType::kF32, {4, 4}},
                                         {"layer.10.weight", DType::kF32, {4, 4}},
                                         {"head.weight", DType::kF32, {3, 4}}};
  const std::vector<TensorInfo> base = {{"layer.1.weight", DType::kF32, {4, 4}},
                                        {"head.weight", DType::kF32, {2, 4}},
                                        {"pooler.weight", DType::kF32, {4, 4}}};
  const BasePairing p = PairWithBase(model, base);
  EXPECT_EQ(p.base_index[0], std::optional<size_t>(0));
  // "layer.1" is contained in "layer.10" (the reference's test); htsr does not pair them.
  EXPECT_FALSE(p.base_index[1].has_value());
  EXPECT_NE(p.reason[1].find("no tensor of this name"), std::string::npos);
  EXPECT_FALSE(p.base_index[2].has_value());
  EXPECT_NE(p.reason[2].find("[3, 4]"), std::string::npos) << p.reason[2];
  EXPECT_NE(p.reason[2].find("[2, 4]"), std::string::npos) << p.reason[2];
  EXPECT_EQ(p.base_only, std::vector<std::string>{"pooler.weight"});
}

TEST(BaseDeltaTest, UnmatchedLayersAreSkippedRowsNamingWhy) {
  const std::vector<float> a = Pseudorandom(16 * 16, 1), c = Pseudorandom(16 * 16, 2);
  const std::string t =
      WriteFile("unmatched_tuned",
                {{"a.weight", {16, 16}, a}, {"b.weight", {16, 16}, c}, {"c.weight", {16, 16}, a}});
  const std::string b = WriteFile("unmatched_base", {{"a.weight", {16, 16}, c},
                                                     {"c.weight", {8, 32}, Pseudorandom(256, 3)},
                                                     {"d.weight", {16, 16}, a}});
  auto engine = MakeEngine();
  auto report = AnalyzeCheckpointAgainstBase(t, b, *engine, {});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->layers.size(), 3u);
  std::map<std::string, const LayerResult*> rows;
  for (const LayerResult& r : report->layers) rows[r.plan.name] = &r;
  EXPECT_EQ(rows["a"]->status, LayerStatus::kSuccess);
  EXPECT_EQ(rows["b"]->status, LayerStatus::kSkipped);
  EXPECT_NE(rows["b"]->reason.find("no base layer"), std::string::npos) << rows["b"]->reason;
  EXPECT_EQ(rows["c"]->status, LayerStatus::kSkipped);
  EXPECT_NE(rows["c"]->reason.find("[8, 32]"), std::string::npos) << rows["c"]->reason;
  EXPECT_FALSE(rows["b"]->dist_frobenius.has_value());
  std::string notes;
  for (const std::string& n : report->notes) notes += n + "\n";
  EXPECT_NE(notes.find("b, c"), std::string::npos) << notes;
  EXPECT_NE(notes.find("d.weight"), std::string::npos) << notes;
}

TEST(BaseDeltaTest, MissingOrUnreadableBaseIsAnErrorNamingIt) {
  const std::string t = WriteFile("lonely", {{"a.weight", {16, 16}, Pseudorandom(256, 1)}});
  auto engine = MakeEngine();
  const std::string missing = ::testing::TempDir() + "/htsr_base_delta_no_such.safetensors";
  auto report = AnalyzeCheckpointAgainstBase(t, missing, *engine, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("base model"), std::string::npos) << report.status();
  EXPECT_NE(report.status().message().find(missing), std::string::npos) << report.status();

  const std::string garbage =
      absl::StrCat(::testing::TempDir(), "/htsr_base_delta_", ::getpid(), "_bad.safetensors");
  std::ofstream(garbage, std::ios::binary) << "not a checkpoint at all";
  report = AnalyzeCheckpointAgainstBase(t, garbage, *engine, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("base model"), std::string::npos) << report.status();
}

}  // namespace
}  // namespace htsr::analysis
