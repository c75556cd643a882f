#include "scan/scan_progress.h"

#include <gtest/gtest.h>

namespace htsr::scan {
namespace {

TEST(ScanProgressTest, LineCountsOutcomesRateAndEta) {
  ScanProgress p(/*enabled=*/false, 10);
  p.Finished(ScanProgress::Outcome::kDone, 2'000'000);
  p.Finished(ScanProgress::Outcome::kFailed, 0);
  p.Finished(ScanProgress::Outcome::kSkipped, 5'000'000);  // hashed, not analysed
  // 2 analysed in 4 s: 2 s each, 7 left -> 14 s; 2 MB analysed in 4 s -> 0.5 MB/s.
  const std::string line = p.Line(4.0);
  EXPECT_NE(line.find("3/10"), std::string::npos) << line;
  EXPECT_NE(line.find("ok 1  failed 1  skipped 1"), std::string::npos) << line;
  EXPECT_NE(line.find("500 kB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 14s"), std::string::npos) << line;
}

}  // namespace
}  // namespace htsr::scan
