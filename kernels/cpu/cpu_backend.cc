// The CPU backend: LAPACK eigen solver per matrix, the threaded KS scan and the host TPL scan.
#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "htsr/cpu_backend.h"
#include "htsr/tpl_fit.h"
#include "lapack_decls.h"

namespace htsr::cpu {

int HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void SetBlasThreads(int n) { openblas_set_num_threads(n <= 0 ? HardwareThreads() : n); }

int BlasThreads() { return openblas_get_num_threads(); }

namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads <= 0 ? HardwareThreads() : threads) {}

  std::string_view Name() const override { return "cpu"; }
  std::string Description() const override {
    return absl::StrCat(CpuModel(), ", ", threads_, " threads, OpenBLAS/LAPACK");
  }

  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    const int64_t m = std::min(batch.rows, batch.cols);
    if (batch.count < 0 || m <= 0 || static_cast<int64_t>(out.size()) < batch.count * m) {
      return absl::InvalidArgumentError("bad matrix batch");
    }
    const EigenMethod method =
        precision == Precision::kF32 ? EigenMethod::kF32Syevd : EigenMethod::kGramRefined;
    const int64_t stride = batch.rows * batch.cols;
    for (int64_t b = 0; b < batch.count; ++b) {
      absl::Status st = cpu::SquaredSingularValues(batch.data + b * stride, batch.rows, batch.cols,
                                                   scale, method, out.subspan(b * m, m));
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    if (sorted.size() < 2) return absl::InvalidArgumentError("KS scan needs >= 2 values");
    return cpu::ScanPowerLaw(sorted, threads_);
  }

  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    if (absl::Status st = CheckTplScanInput(sorted, candidates); !st.ok()) return st;
    return ScanTruncatedPowerLawHost(sorted, candidates);
  }

 private:
  int threads_;
};

}  // namespace

std::unique_ptr<Backend> NewCpuBackend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace htsr::cpu
