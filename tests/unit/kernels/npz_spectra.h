// Spectra the reference saved (tests/data/real/*_evals.npz: float64 arrays keyed
// "layer_id:name"), read through htsr's own npz reader, for tests on real eigenvalues.
#ifndef HTSR_TESTS_UNIT_KERNELS_NPZ_SPECTRA_H_
#define HTSR_TESTS_UNIT_KERNELS_NPZ_SPECTRA_H_

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/ks_math.h"
#include "readers/checkpoint_reader.h"

namespace htsr::test_data {

// Every array of the file as stored, keyed by its name.
inline std::map<std::string, std::vector<double>> ReadNpzSpectra(const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  auto reader = OpenCheckpoint(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  const auto& tensors = (*reader)->Tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto view = (*reader)->Load(i);
    EXPECT_TRUE(view.ok()) << view.status();
    if (!view.ok()) continue;
    std::vector<double> v(view->bytes.size() / sizeof(double));
    std::memcpy(v.data(), view->bytes.data(), v.size() * sizeof(double));
    out[tensors[i].name] = std::move(v);
  }
  return out;
}

// Each spectrum ascending, with only the values a fit sees (above ks::kFitThreshold).
inline std::map<std::string, std::vector<double>> FitRanges(
    std::map<std::string, std::vector<double>> spectra) {
  for (auto& [name, v] : spectra) {
    std::sort(v.begin(), v.end());
    v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), ks::kFitThreshold));
  }
  return spectra;
}

}  // namespace htsr::test_data

#endif  // HTSR_TESTS_UNIT_KERNELS_NPZ_SPECTRA_H_
