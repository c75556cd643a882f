// The paper's Table 1 from its own published data: regression of top-1 error on the model
// average of each metric, within each CV series (Martin, Peng & Mahoney, "Predicting trends
// in the quality of state-of-the-art neural networks without access to training or testing
// data", Nat. Commun. 12:4122, 2021, Table 1). The printed values are those transcribed in
// tests/data/ww-trends-2020/README.md; every cell is checked to the precision printed.
// (That README notes the paper prints 0.9 for the ResNet log alpha-norm R^2 where its own
// summaries give 0.954; the README's 0.95 is checked.) The data are committed under
// tests/data/ww-trends-2020 (CMake passes tests/data as HTSR_TEST_DATA_DIR); a missing
// folder is a failure, never a skip.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "results/accuracy_file.h"
#include "results/results_file.h"
#include "trends/trend_analysis.h"

namespace htsr::trends {
namespace {

const std::string kData = std::string(HTSR_TEST_DATA_DIR) + "/ww-trends-2020";

struct Row {
  const char* series;  // in accuracies.csv
  const char* zoo;     // summaries/<zoo>/
  size_t models;
  // Printed cells: lognorm / logspectralnorm / alpha_weighted / logpnorm.
  const char* rmse;
  const char* r2;
  const char* tau;
};

const Row kTable1[] = {
    {"VGG", "torchvision", 8, "0.56 / 0.23 / 0.48 / 0.34", "0.88 / 0.98 / 0.92 / 0.96",
     "-0.79 / -0.93 / -0.93 / -0.93"},
    {"ResNet", "torchvision", 5, "0.9 / 0.97 / 0.61 / 0.66", "0.92 / 0.9 / 0.96 / 0.95",
     "-1.0 / -1.0 / -1.0 / -1.0"},
    {"ResNet-1K-paperTable1", "resnet-1k", 19, "2.4 / 2.8 / 1.8 / 1.9", "0.81 / 0.74 / 0.89 / 0.88",
     "-0.79 / -0.79 / -0.89 / -0.88"},
    {"DenseNet", "torchvision", 4, "0.3 / 0.11 / 0.16 / 0.21", "0.93 / 0.99 / 0.98 / 0.97",
     "-1.0 / -1.0 / -1.0 / -1.0"},
};

// The weightwatcher 0.2.x summary keys of the table's four columns.
const std::vector<std::string> kMetrics = {"lognorm", "logspectralnorm", "alpha_weighted",
                                           "logpnorm"};

std::vector<std::string> Cells(const char* printed) {
  std::vector<std::string> out;
  for (absl::string_view c : absl::StrSplit(printed, " / ")) out.emplace_back(c);
  return out;
}

// |value - printed| within half a unit of the last printed digit.
void ExpectPrinted(double value, const std::string& printed, const std::string& what) {
  const size_t dot = printed.find('.');
  const int decimals = dot == std::string::npos ? 0 : static_cast<int>(printed.size() - dot - 1);
  const double half_unit = 0.5 * std::pow(10.0, -decimals);
  EXPECT_NEAR(value, std::stod(printed), half_unit + 1e-12) << what << " printed " << printed;
}

class Table1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::is_directory(kData)) << kData << " is absent";
  }

  std::vector<model::ModelRecord> LoadSeries(const Row& row) {
    results::AccuracyOptions ao;
    ao.column = "top1_err";
    ao.series = row.series;
    auto acc = results::ReadAccuracyFile(kData + "/accuracies.csv", ao);
    EXPECT_TRUE(acc.ok()) << acc.status();
    if (!acc.ok()) return {};
    EXPECT_TRUE(acc->is_error);
    std::vector<model::ModelRecord> records;
    for (const results::AccuracyEntry& e : acc->entries) {
      auto r = results::ReadResultsFile(kData + "/summaries/" + row.zoo + "/" + e.model + ".txt");
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return {};
      EXPECT_EQ(r->size(), 1u);
      records.push_back(r->front());
    }
    const std::vector<std::string> missing = results::AttachTargets(*acc, records);
    EXPECT_TRUE(missing.empty()) << missing.front();
    return records;
  }
};

TEST_F(Table1Test, EveryCellOfTheFourCvSeries) {
  for (const Row& row : kTable1) {
    SCOPED_TRACE(row.series);
    const std::vector<model::ModelRecord> records = LoadSeries(row);
    ASSERT_EQ(records.size(), row.models);
    TrendOptions opt;
    opt.metrics = kMetrics;
    opt.target_is_error = true;
    const std::vector<SeriesTrend> trends = AnalyzeTrends(records, opt);
    ASSERT_EQ(trends.size(), 1u);
    ASSERT_EQ(trends[0].series, row.series);
    const auto rmse = Cells(row.rmse), r2 = Cells(row.r2), tau = Cells(row.tau);
    ASSERT_EQ(trends[0].metrics.size(), 4u);
    for (size_t m = 0; m < 4; ++m) {
      const MetricTrend& t = trends[0].metrics[m];
      ASSERT_EQ(t.metric, kMetrics[m]);
      ASSERT_TRUE(t.fit.has_value()) << t.error;
      EXPECT_EQ(t.fit->n, row.models);
      ExpectPrinted(t.fit->rmse, rmse[m], std::string(row.series) + " RMSE " + t.metric);
      ExpectPrinted(t.fit->r2, r2[m], std::string(row.series) + " R^2 " + t.metric);
      ExpectPrinted(t.kendall_tau, tau[m], std::string(row.series) + " tau " + t.metric);
    }
  }
}

// Table 1 uses the older ResNet-1K error list; the later one gives a different table, so
// the series filter really selects the rows it names.
TEST_F(Table1Test, LaterResNet1kErrorsGiveOtherNumbers) {
  Row later = kTable1[2];
  later.series = "ResNet-1K";
  const std::vector<model::ModelRecord> records = LoadSeries(later);
  ASSERT_EQ(records.size(), 19u);
  TrendOptions opt;
  opt.metrics = {"lognorm"};
  opt.target_is_error = true;
  const auto trends = AnalyzeTrends(records, opt);
  ASSERT_TRUE(trends[0].metrics[0].fit.has_value());
  EXPECT_GT(std::fabs(trends[0].metrics[0].fit->rmse - 2.43), 0.05);
}

// The per-layer CSVs of the same release average to the published summaries (slice rows,
// as weightwatcher 0.2.x averaged them) for the four metrics whose summary is a plain mean.
// (0.2.x computed the summary's spectral norm separately, so log_spectral_norm is left out.)
TEST_F(Table1Test, PerLayerCsvsAverageToTheSummaries) {
  for (const char* model : {"vgg11", "resnet50", "densenet169", "gpt2_small"}) {
    SCOPED_TRACE(model);
    const std::string base = kData + "/";
    auto layers = results::ReadResultsFile(base + "layers/torchvision/" + model + ".csv");
    auto summary = results::ReadResultsFile(base + "summaries/torchvision/" + model + ".txt");
    ASSERT_TRUE(layers.ok()) << layers.status();
    ASSERT_TRUE(summary.ok()) << summary.status();
    ASSERT_EQ(layers->size(), 1u);
    EXPECT_TRUE(layers->front().has_layers);
    EXPECT_EQ(layers->front().kind, "ww-csv");
    for (const char* m : {"log_norm", "alpha", "alpha_weighted", "log_alpha_norm"}) {
      const auto a = layers->front().Metric(m), b = summary->front().Metric(m);
      ASSERT_TRUE(a && b) << m;
      EXPECT_NEAR(*a, *b, 1e-6 * std::max(1.0, std::fabs(*b))) << m;
    }
  }
}

}  // namespace
}  // namespace htsr::trends
