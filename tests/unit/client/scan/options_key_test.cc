#include "scan/options_key.h"

#include <gtest/gtest.h>

namespace htsr::scan {
namespace {

TEST(OptionsKeyTest, EveryResultChangingOptionChangesTheKey) {
  const AnalysisOptions base;
  const std::string k = OptionsKey(base, "");
  EXPECT_EQ(OptionsKey(AnalysisOptions{}, ""), k);  // deterministic
  EXPECT_NE(OptionsKey(base, "dense"), k);
  std::vector<AnalysisOptions> variants(10, base);
  variants[0].min_evals = 11;
  variants[1].max_evals = 100;
  variants[2].max_n = 7;
  variants[3].pool = false;
  variants[4].all_tensors = true;
  variants[5].fix_fingers = FixFingers::kClipXmax;
  variants[6].xmax_drop = 2;
  variants[7].mp_fit = true;
  variants[8].randomize = true;
  variants[9].precision = Precision::kF32;
  for (size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(OptionsKey(variants[i], ""), k) << "variant " << i;
  }
  AnalysisOptions seeded = base;
  seeded.seed = 5;
  EXPECT_NE(OptionsKey(seeded, ""), k);
  AnalysisOptions detx = base, norm = base;
  detx.detx = true;
  norm.normalize = true;
  EXPECT_NE(OptionsKey(detx, ""), k);
  EXPECT_NE(OptionsKey(norm, ""), k);
}

}  // namespace
}  // namespace htsr::scan
