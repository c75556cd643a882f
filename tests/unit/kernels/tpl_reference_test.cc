// The truncated power-law fits against the reference (weightwatcher 0.7.7, fit='TPL' /
// 'E_TPL', pl_package='powerlaw') on real layers of all-MiniLM-L6-v2: its eigenvalues
// (tests/data/real/all-MiniLM-L6-v2_evals.npz) and its per-layer rows
// (all-MiniLM-L6-v2.fit-{TPL,E_TPL}.csv, tests/tools/make_tpl_goldens.py). No oracle needed.
//
// The reference maximises the likelihood with Nelder-Mead (xtol = ftol = 1e-4) on an
// objective evaluated with mpmath at 15 digits, which is noisy near alpha = 1 (the shape
// 1 - alpha of its incomplete gamma is near 0 there); htsr computes the exact maximum. So:
//  * where both pick the same xmin, alpha and Lambda agree to 1e-3 (alpha absolutely, as it
//    sits on the alpha = 1 border for most of these layers);
//  * at the reference's xmin, htsr's optimum has a log-likelihood >= the reference's
//    (alpha, Lambda) by htsr's accurate formula (the better optimum);
//  * a few layers pick another xmin (their D differs by the optimisers' differences); they
//    are listed with that reason (docs/compatibility.md).
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "htsr/tpl_fit.h"
#include "npz_spectra.h"
#include "readers/checkpoint_reader.h"

namespace htsr {
namespace {

const std::string kReal = HTSR_TEST_DATA_DIR "/real/";

std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return rows;
  const std::vector<std::string> header = absl::StrSplit(line, ',');
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> f = absl::StrSplit(line, ',');
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// Keyed by layer name (the file's keys without "layer_id:").
std::map<std::string, std::vector<double>> ReadEvals() {
  std::map<std::string, std::vector<double>> out;
  for (auto& [key, v] : test_data::ReadNpzSpectra(kReal + "all-MiniLM-L6-v2_evals.npz")) {
    out[key.substr(key.find(':') + 1)] = std::move(v);
  }
  return out;
}

struct Case {
  std::string tag;  // TPL | E_TPL
  FitType fit;
  std::set<std::string> other_xmin;  // layers where htsr's scan picks another xmin
};

class TplReferenceTest : public testing::TestWithParam<Case> {};

TEST_P(TplReferenceTest, AgreesWithReference) {
  const Case& c = GetParam();
  const auto rows = ReadCsv(kReal + "all-MiniLM-L6-v2.fit-" + c.tag + ".csv");
  if (rows.empty()) GTEST_SKIP() << "no golden for " << c.tag;
  const auto evals = ReadEvals();
  AnalysisOptions opt;
  opt.fit = c.fit;
  int same_xmin = 0;
  for (const auto& row : rows) {
    const std::string& name = row.at("name");
    SCOPED_TRACE(name);
    ASSERT_TRUE(evals.count(name));
    const std::vector<double>& e = evals.at(name);
    const TplFit f = FitTruncatedPowerLaw(e, opt);
    ASSERT_EQ(f.ok, row.at("status") == "success") << f.failure;
    if (!f.ok) continue;
    const double ref_alpha = std::stod(row.at("alpha")), ref_lambda = std::stod(row.at("Lambda"));
    const double ref_xmin = std::stod(row.at("xmin"));
    // At the reference's xmin: our optimum is at least as likely as its parameters.
    std::vector<double> tail;
    for (double v : e) {
      if (v >= ref_xmin) tail.push_back(v);
    }
    const TplTailFit at_ref = FitTplTail(tail);
    EXPECT_GE(at_ref.loglik, TplLogLikelihood(tail, ref_alpha, ref_lambda) - 1e-7)
        << "alpha " << at_ref.alpha << " Lambda " << at_ref.Lambda;
    // The eigenvalues of the npz and of the golden run differ in the last bits (two hosts'
    // LAPACK kernels): xmin is compared to 1e-12.
    const bool xmin_agrees = std::fabs(f.xmin - ref_xmin) <= 1e-12 * ref_xmin;
    if (c.other_xmin.count(name)) {
      EXPECT_FALSE(xmin_agrees) << "listed as picking another xmin, but it agrees now";
      continue;
    }
    ++same_xmin;
    EXPECT_TRUE(xmin_agrees) << f.xmin << " vs " << ref_xmin;
    EXPECT_NEAR(f.alpha, ref_alpha, 1e-3 * std::max(1.0, ref_alpha));
    EXPECT_NEAR(f.Lambda, ref_lambda, 1e-3 * ref_lambda);
    EXPECT_NEAR(f.D, std::stod(row.at("D")), 2e-3 * std::stod(row.at("D")));
    EXPECT_EQ(f.num_pl_spikes, std::stoll(row.at("num_pl_spikes")));
    // The likelihood-ratio test at the same xmin: R to 1e-2, p to 1e-2 absolute.
    EXPECT_NEAR(f.R, std::stod(row.at("tpl_R")), 1e-2 * std::max(1.0, std::fabs(f.R)));
    EXPECT_NEAR(f.p, std::stod(row.at("tpl_p")), 1e-2);
  }
  EXPECT_GE(same_xmin, static_cast<int>(rows.size()) - static_cast<int>(c.other_xmin.size()));
}

INSTANTIATE_TEST_SUITE_P(MiniLM, TplReferenceTest,
                         testing::Values(Case{"TPL",
                                              FitType::kTruncatedPowerLaw,
                                              {"encoder.layer.0.output.dense",
                                               "encoder.layer.2.attention.output.dense",
                                               "pooler.dense"}},
                                         Case{"E_TPL",
                                              FitType::kExtendedTpl,
                                              {"encoder.layer.0.output.dense", "pooler.dense"}}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.tag == "TPL" ? std::string("TPL")
                                                          : std::string("E_TPL");
                         });

}  // namespace
}  // namespace htsr
