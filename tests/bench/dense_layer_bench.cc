// Times one dense Gaussian layer end to end through the engine (f64 and f32), and
// optionally each eigen path of the CPU backend with its accuracy against dgesdd.
//
//   dense_layer_bench [--dim 4096] [--seed 1] [--threads 0] [--repeat 1] [--save-npy FILE]
//                     [--methods]
//
// With --repeat R each end-to-end time is the minimum of R runs (the machine may be shared).
//
// Prints the device with every number (docs/architecture.md rule 10). --save-npy writes the same
// float32 matrix so that tests/bench/dense_4096.sh can time the reference tool on it.
#include <sys/resource.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "htsr/cpu_backend.h"
#include "htsr/engine.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Process CPU time (all threads, user + system): on a shared, oversubscribed machine it is
// steadier than wall time.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// NumPy .npy v1.0, little-endian float32, C order.
bool SaveNpy(const std::string& path, const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  const char magic[] = "\x93NUMPY\x01\x00";
  out.write(magic, 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(w.data()),
            static_cast<std::streamsize>(w.size() * sizeof(float)));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t dim = 4096;
  uint64_t seed = 1;
  int threads = 0;
  bool methods = false;
  int repeat = 1;
  std::string save;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dim" && i + 1 < argc) {
      dim = std::atoll(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--save-npy" && i + 1 < argc) {
      save = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--methods") {
      methods = true;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--dim N] [--seed S] [--threads T] [--repeat R] [--save-npy F] [--methods]\n",
          argv[0]);
      return 2;
    }
  }
  std::vector<float> w(static_cast<size_t>(dim * dim));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f / std::sqrt(static_cast<float>(dim)));
  for (float& v : w) v = g(rng);
  if (!save.empty() && !SaveNpy(save, w, dim, dim)) {
    std::fprintf(stderr, "cannot write %s\n", save.c_str());
    return 1;
  }

  htsr::TensorView view;
  view.info = htsr::TensorInfo{"dense.weight", htsr::DType::kF32, {dim, dim}};
  view.bytes = std::as_bytes(std::span<const float>(w));

  for (htsr::Precision p : {htsr::Precision::kF64, htsr::Precision::kF32}) {
    htsr::EngineConfig config;
    config.threads = threads;
    config.options.precision = p;
    auto engine = htsr::Engine::Create(config);
    if (!engine.ok()) {
      std::fprintf(stderr, "%s\n", std::string(engine.status().message()).c_str());
      return 1;
    }
    if (p == htsr::Precision::kF64) {
      std::printf("device: %s\n", (*engine)->backend().Description().c_str());
    }
    const htsr::LayerPlan plan = htsr::PlanLayer(view.info, 1, config.options);
    double t = 1e300, cpu = 1e300;
    htsr::LayerResult r;
    for (int rep = 0; rep < repeat; ++rep) {
      const auto t0 = Clock::now();
      const double c0 = CpuSeconds();
      r = (*engine)->AnalyzeLayer(plan, view);
      t = std::min(t, Seconds(t0));
      cpu = std::min(cpu, CpuSeconds() - c0);
    }
    std::printf(
        "htsr %s %lldx%lld end-to-end: %.3f s  cpu %.3f s  status=%s alpha=%.12g "
        "D=%.12g xmin=%.12g lambda_max=%.12g\n",
        p == htsr::Precision::kF64 ? "f64" : "f32", static_cast<long long>(dim),
        static_cast<long long>(dim), t, cpu, std::string(htsr::LayerStatusName(r.status)).c_str(),
        r.alpha, r.D, r.xmin, r.spectral_norm);
  }

  if (methods) {
    using htsr::cpu::EigenMethod;
    htsr::cpu::SetBlasThreads(threads);
    struct M {
      const char* name;
      EigenMethod method;
    };
    const M all[] = {{"dgesdd (reference path)", EigenMethod::kGesdd},
                     {"gram+dsyevd", EigenMethod::kGramSyevd},
                     {"gram+dsyevr", EigenMethod::kGramSyevr},
                     {"gram+dsytrd/dsterf+refine (default f64)", EigenMethod::kGramRefined},
                     {"f32 ssyrk+ssyevd", EigenMethod::kF32Syevd}};
    std::vector<double> ref(static_cast<size_t>(dim));
    for (const M& m : all) {
      std::vector<double> out(static_cast<size_t>(dim));
      const auto t0 = Clock::now();
      const absl::Status st =
          htsr::cpu::SquaredSingularValues(w.data(), dim, dim, 1.0, m.method, out);
      const double t = Seconds(t0);
      if (!st.ok()) {
        std::printf("%-42s failed: %s\n", m.name, std::string(st.message()).c_str());
        continue;
      }
      if (m.method == EigenMethod::kGesdd) ref = out;
      const double lmax = ref.back();
      double rel = 0, abs_small = 0;
      for (size_t i = 0; i < out.size(); ++i) {
        if (ref[i] >= 1e-10 * lmax) {
          rel = std::max(rel, std::fabs(out[i] - ref[i]) / ref[i]);
        } else {
          abs_small = std::max(abs_small, std::fabs(out[i] - ref[i]) / lmax);
        }
      }
      std::printf(
          "%-42s %8.3f s  max rel err (>=1e-10 lmax) %.3g  abs/lmax below %.3g  "
          "lambda_min/lambda_max %.3g\n",
          m.name, t, rel, abs_small, ref.front() / lmax);
    }
  }
  return 0;
}
