// Per-layer agreement with the reference tool (weightwatcher 0.7.7) on the golden fixtures
// in tests/data/synthetic: every column of its CSV, compared by layer name, and the pooled
// eigenvalues of its *_evals.npz against docs/spec.md §2's bound.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "htsr/engine.h"
#include "htsr/powerlaw_fit.h"
#include "readers/checkpoint_reader.h"

namespace htsr {
namespace {

const std::string kData = HTSR_TEST_DATA_DIR "/synthetic/";

struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

Csv ReadCsv(const std::string& path) {
  Csv csv;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return csv;
  csv.header = absl::StrSplit(line, ',');
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, ',');
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < csv.header.size() && i < f.size(); ++i) row[csv.header[i]] = f[i];
    csv.rows.push_back(std::move(row));
  }
  return csv;
}

double Parse(const std::string& s) {
  if (s.empty() || s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::stod(s);
}

// Numeric columns and how to read them from our result.
std::map<std::string, double> Columns(const LayerResult& r) {
  std::map<std::string, double> c = {
      {"D", r.D},
      {"M", static_cast<double>(r.plan.M)},
      {"N", static_cast<double>(r.plan.N)},
      {"Q", r.Q},
      {"alpha", r.alpha},
      {"alpha_weighted", r.alpha_weighted},
      {"entropy", r.entropy},
      {"lambda_max", r.spectral_norm},
      {"log_alpha_norm", r.log_alpha_norm},
      {"log_norm", r.log_norm},
      {"log_spectral_norm", r.log_spectral_norm},
      {"matrix_rank", static_cast<double>(r.matrix_rank)},
      {"norm", r.norm},
      {"num_evals", static_cast<double>(r.plan.num_evals)},
      {"num_pl_spikes", static_cast<double>(r.num_pl_spikes)},
      {"rank_loss", static_cast<double>(r.rank_loss)},
      {"rf", static_cast<double>(r.plan.rf)},
      {"sigma", r.sigma},
      {"spectral_norm", r.spectral_norm},
      {"stable_rank", r.stable_rank},
      {"sv_max", r.sv_max},
      {"sv_min", r.sv_min},
      {"weak_rank_loss", static_cast<double>(r.weak_rank_loss)},
      {"xmax", r.xmax},
      {"xmin", r.xmin},
  };
  if (r.num_fingers) c["num_fingers"] = static_cast<double>(*r.num_fingers);
  if (r.raw_alpha) c["raw_alpha"] = *r.raw_alpha;
  if (r.num_spikes) c["num_spikes"] = static_cast<double>(*r.num_spikes);
  if (r.sigma_mp) c["sigma_mp"] = *r.sigma_mp;
  if (r.mp_softrank) c["mp_softrank"] = *r.mp_softrank;
  if (r.bulk_max) c["bulk_max"] = *r.bulk_max;
  if (r.bulk_min) c["bulk_min"] = *r.bulk_min;
  if (r.W_scale) c["W_scale"] = *r.W_scale;
  if (r.detX_num) c["detX_num"] = static_cast<double>(*r.detX_num);
  if (r.detX_val) c["detX_val"] = *r.detX_val;
  if (r.detX_val_unrescaled) c["detX_val_unrescaled"] = *r.detX_val_unrescaled;
  if (r.num_ERG_spikes) c["num_ERG_spikes"] = static_cast<double>(*r.num_ERG_spikes);
  if (r.ERG_gap) c["ERG_gap"] = *r.ERG_gap;
  return c;
}

double RelErr(double got, double want) {
  if (std::isnan(got) && std::isnan(want)) return 0;
  if (std::isinf(got) || std::isinf(want)) return got == want ? 0 : INFINITY;
  const double scale = std::max(std::fabs(got), std::fabs(want));
  return scale == 0 ? 0 : std::fabs(got - want) / scale;
}

struct Case {
  std::string fixture;   // under fixtures/
  std::string expected;  // stem under expected/
  AnalysisOptions options;
  bool has_evals = true;        // expected/STEM_evals.npz exists
  std::string evals_stem = "";  // else: the evals of this stem (same fixture, default run)
  // Layers analysed by htsr only / by the reference only: documented deviations
  // (docs/compatibility.md). Any other difference in the analysed set fails.
  std::set<std::string> htsr_only = {}, reference_only = {};
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.expected; }

std::vector<LayerResult> Analyze(const std::string& path, const AnalysisOptions& options) {
  auto reader = OpenCheckpoint(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  EngineConfig config;
  config.options = options;
  config.threads = 2;
  config.keep_evals = true;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok());
  TensorSource source;
  source.tensors = (*reader)->Tensors();
  const CheckpointReader* r = reader->get();
  source.load = [r](size_t i) { return r->Load(i); };
  return AnalyzeModel(**engine, source);
}

// Reference quirks we deliberately do not reproduce (docs/compatibility.md).
// `swapped`: the reference reports N and M exchanged (conv2d, out < in with even kh*kw).
bool SkipColumn(bool swapped, const std::string& column) {
  // The MP fit depends on Q, so its columns differ there as well.
  return swapped && (column == "N" || column == "M" || column == "Q" || column == "sigma_mp" ||
                     column == "bulk_max" || column == "bulk_min" || column == "mp_softrank" ||
                     column == "num_spikes");
}
bool SkipLayer(const std::string& layer) {
  // 'channels first' guess (out + in < kh + kw) slices along other axes: other spectrum.
  return layer == "conv.k5_small_ch";
}
// Solver-dependent fits: eigenvalues that are equal up to rounding (hadamard64: all 1;
// special.dup_kron: each value 4x) make the top candidates' alpha = k / (rounding noise),
// so D there depends on the last bits of the solver. Their spectra are checked against the
// docs/spec.md §2 bound, and FitOnReferenceEigenvaluesMatches checks our fit on the reference's
// own eigenvalues; the engine-path comparison skips the fit columns for them.
bool FitIsSolverDependent(const std::string& layer) {
  return layer == "hadamard64" || layer == "special.dup_kron";
}
bool IsFitColumn(const std::string& column) {
  static const char* const kFit[] = {"D",         "alpha",  "alpha_weighted", "log_alpha_norm",
                                     "sigma",     "xmin",   "num_pl_spikes",  "num_fingers",
                                     "raw_alpha", "ERG_gap"};
  for (const char* c : kFit) {
    if (column == c) return true;
  }
  return false;
}

class ReferenceAgreementTest : public testing::TestWithParam<Case> {};

TEST_P(ReferenceAgreementTest, PerLayerColumnsMatch) {
  const Case& c = GetParam();
  const Csv csv = ReadCsv(kData + "expected/" + c.expected + ".csv");
  ASSERT_FALSE(csv.rows.empty()) << c.expected;
  const std::vector<LayerResult> results = Analyze(kData + "fixtures/" + c.fixture, c.options);
  // Rows are keyed by name, plus "#slice" in the reference's no-pool mode.
  auto key = [](std::string name, std::optional<int64_t> slice) {
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0) {
      name.resize(name.size() - 7);
    }
    return slice ? name + "#" + std::to_string(*slice) : name;
  };
  std::map<std::string, const LayerResult*> by_name;
  for (const LayerResult& r : results) by_name[key(r.plan.name, r.slice_id)] = &r;

  // The set of analysed layers, both ways (the loop below checks reference -> htsr).
  std::set<std::string> reference_names;
  for (const auto& row : csv.rows) reference_names.insert(row.at("name"));
  for (const LayerResult& r : results) {
    const std::string name = key(r.plan.name, std::nullopt);
    if (r.status == LayerStatus::kSkipped || reference_names.count(name)) continue;
    EXPECT_TRUE(c.htsr_only.count(name))
        << "htsr analysed " << name << ", the reference has no row for it";
  }
  for (const std::string& name : c.htsr_only) {
    EXPECT_FALSE(reference_names.count(name)) << name << " is listed as htsr-only";
  }
  for (const std::string& name : c.reference_only) {
    auto it = by_name.find(name);
    EXPECT_TRUE(it == by_name.end() || it->second->status == LayerStatus::kSkipped)
        << name << " is listed as reference-only";
  }

  std::map<std::string, double> worst;
  for (const auto& row : csv.rows) {
    std::string name = row.at("name");
    if (SkipLayer(name) || c.reference_only.count(name)) continue;
    std::optional<int64_t> slice;
    if (row.count("slice_id")) slice = std::stoll(row.at("slice_id"));
    if (!c.options.pool && name == "conv.k2_out_lt_in") continue;  // see SkipColumn
    auto it = by_name.find(key(name, slice));
    ASSERT_NE(it, by_name.end()) << "no result for reference layer " << name;
    const LayerResult& r = *it->second;
    SCOPED_TRACE(key(name, slice));
    ASSERT_NE(r.status, LayerStatus::kSkipped) << r.reason;
    const bool ref_ok = row.at("status") == "success";
    EXPECT_EQ(r.status == LayerStatus::kSuccess, ref_ok) << r.reason;
    const bool solver_dependent = FitIsSolverDependent(name);
    if (ref_ok && !solver_dependent) {
      EXPECT_EQ(LayerWarningName(r.warning), row.at("warning"));
    }
    EXPECT_EQ(LayerTypeName(r.plan.type), row.at("layer_type"));
    const bool swapped = r.plan.type == LayerType::kConv2d && r.plan.N != r.plan.M &&
                         Parse(row.at("N")) == static_cast<double>(r.plan.M) &&
                         Parse(row.at("M")) == static_cast<double>(r.plan.N);
    if (swapped) {
      EXPECT_EQ(ReferenceConv2dShape(r.plan.rows, r.plan.cols, 1, r.plan.rf).N,
                static_cast<int64_t>(Parse(row.at("N"))))
          << "N/M exchanged where ReferenceConv2dShape does not predict it";
    }
    for (const auto& [column, got] : Columns(r)) {
      auto f = row.find(column);
      if (f == row.end() || SkipColumn(swapped, column)) continue;
      if (solver_dependent && IsFitColumn(column)) continue;
      if (!ref_ok && column == "xmax") continue;  // reference: empty (None)
      const double want = Parse(f->second);
      // log10 columns near 0 (lambda_max ~ 1) are compared in absolute terms: their
      // relative error is meaningless there.
      const bool is_log = column.rfind("log_", 0) == 0;
      const double err = is_log && std::isfinite(want) && std::isfinite(got)
                             ? std::fabs(got - want) / std::max(1.0, std::fabs(want))
                             : RelErr(got, want);
      worst[column] = std::max(worst[column], err);
      // 1e-9 relative (docs/spec.md §3); sv_min of rank-deficient layers is rounding noise on
      // both sides, compared in absolute terms against sv_max.
      if (column == "sv_min" && want < 1e-6 * r.sv_max) {
        EXPECT_LE(std::fabs(got - want), 1e-6 * r.sv_max) << column;
      } else if (column.rfind("detX_val", 0) == 0 && want < 1e-12 * r.spectral_norm) {
        // detX landing on an eigenvalue of a rank-deficient layer's null space (rank30:
        // ~2e-15): rounding noise whose last digits depend on the LAPACK kernel the CPU
        // selects (1.008e-9 relative apart on one EPYC host). Same value to 1e-6.
        EXPECT_LE(err, 1e-6) << column << " got " << got << " want " << f->second;
      } else {
        EXPECT_LE(err, 1e-9) << column << " got " << got << " want " << f->second;
      }
    }
  }
  std::cout << "[" << c.expected << "] max relative error per column:";
  for (const auto& [column, e] : worst) std::cout << " " << column << "=" << e;
  std::cout << "\n";
}

TEST_P(ReferenceAgreementTest, EigenvaluesWithinSpecBound) {
  const Case& c = GetParam();
  if (!c.has_evals) GTEST_SKIP() << "no evals file for this case";
  auto evals_reader = OpenCheckpoint(kData + "expected/" + c.expected + "_evals.npz");
  ASSERT_TRUE(evals_reader.ok()) << evals_reader.status();
  const std::vector<LayerResult> results = Analyze(kData + "fixtures/" + c.fixture, c.options);
  std::map<std::string, const LayerResult*> by_name;
  for (const LayerResult& r : results) by_name[r.plan.name] = &r;
  double worst_rel = 0;
  const auto& tensors = (*evals_reader)->Tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string key = tensors[i].name;  // "layer_id:name"
    const std::string name = key.substr(key.find(':') + 1);
    if (SkipLayer(name) || c.reference_only.count(name)) continue;
    auto it = by_name.find(name);
    if (it == by_name.end()) it = by_name.find(name + ".weight");
    ASSERT_NE(it, by_name.end()) << name;
    auto view = (*evals_reader)->Load(i);
    ASSERT_TRUE(view.ok());
    ASSERT_EQ(view->info.dtype, DType::kF64);
    std::vector<double> want(view->bytes.size() / 8);
    std::memcpy(want.data(), view->bytes.data(), want.size() * 8);
    const std::vector<double>& got = it->second->evals;
    ASSERT_EQ(got.size(), want.size()) << name;
    const double lmax = want.back();
    if (lmax == 0) {  // zero matrix: exact zeros on both sides
      for (size_t j = 0; j < want.size(); ++j) EXPECT_EQ(got[j], 0.0) << name;
      continue;
    }
    for (size_t j = 0; j < want.size(); ++j) {
      if (want[j] >= 1e-10 * lmax) {
        const double rel = std::fabs(got[j] - want[j]) / want[j];
        worst_rel = std::max(worst_rel, rel);
        EXPECT_LE(rel, 1e-9) << name << " [" << j << "]";
      } else {
        EXPECT_LE(std::fabs(got[j] - want[j]), 1e-12 * lmax) << name << " [" << j << "]";
      }
    }
  }
  std::cout << "[" << c.expected << "] eigenvalues: max relative error " << worst_rel << "\n";
}

// docs/spec.md §3: alpha, D, xmin to 1e-9 relative on the SAME eigenvalues: run our fit driver on
// the reference's pooled eigenvalues and compare with its CSV row.
TEST_P(ReferenceAgreementTest, FitOnReferenceEigenvaluesMatches) {
  const Case& c = GetParam();
  const std::string stem = c.has_evals ? c.expected : c.evals_stem;
  if (stem.empty()) GTEST_SKIP() << "no evals file for this case";
  auto evals_reader = OpenCheckpoint(kData + "expected/" + stem + "_evals.npz");
  ASSERT_TRUE(evals_reader.ok()) << evals_reader.status();
  const Csv csv = ReadCsv(kData + "expected/" + c.expected + ".csv");
  std::map<std::string, const std::map<std::string, std::string>*> rows;
  for (const auto& row : csv.rows) rows[row.at("name")] = &row;
  std::unique_ptr<Backend> backend = CreateCpuBackend(2);
  const auto& tensors = (*evals_reader)->Tensors();
  double worst = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string& key = tensors[i].name;
    const std::string name = key.substr(key.find(':') + 1);
    if (name == "hadamard64") continue;  // alpha ~ 1/rounding noise: not a meaningful number
    ASSERT_TRUE(rows.count(name)) << name;
    const auto& row = *rows[name];
    auto view = (*evals_reader)->Load(i);
    ASSERT_TRUE(view.ok());
    std::vector<double> evals(view->bytes.size() / 8);
    std::memcpy(evals.data(), view->bytes.data(), evals.size() * 8);
    const PowerLawFit fit = FitPowerLaw(evals, c.options, *backend);
    SCOPED_TRACE(name);
    EXPECT_EQ(fit.ok, row.at("status") == "success");
    for (const auto& [column, got] :
         std::map<std::string, double>{{"alpha", fit.alpha},
                                       {"D", fit.D},
                                       {"xmin", fit.xmin},
                                       {"sigma", fit.sigma},
                                       {"num_pl_spikes", static_cast<double>(fit.num_pl_spikes)}}) {
      const double err = RelErr(got, Parse(row.at(column)));
      worst = std::max(worst, err);
      EXPECT_LE(err, 1e-9) << column << " got " << got << " want " << row.at(column);
    }
  }
  std::cout << "[" << c.expected << "] fit on reference eigenvalues: max relative error " << worst
            << "\n";
}

// randomize: the reference shuffles with numpy's global RNG, we with our own seeded one,
// so only the distribution matches. Shuffled i.i.d.-like weights give a spectrum close to
// the original's bulk; we check that our randomized columns are within a loose band of
// the reference's on every layer (deterministic here: our seed is fixed).
TEST(ReferenceRandomizeTest, StatisticallyClose) {
  const Csv csv = ReadCsv(kData + "expected/mixed.opt-randomize_seed0.csv");
  ASSERT_FALSE(csv.rows.empty());
  AnalysisOptions opt;
  opt.randomize = true;
  opt.seed = 0;
  const std::vector<LayerResult> results = Analyze(kData + "fixtures/mixed.safetensors", opt);
  std::map<std::string, const LayerResult*> by_name;
  for (const LayerResult& r : results) by_name[r.plan.name] = &r;
  int compared = 0;
  for (const auto& row : csv.rows) {
    const std::string& name = row.at("name");
    if (row.at("status") != "success" || SkipLayer(name)) continue;
    auto it = by_name.find(name);
    if (it == by_name.end()) it = by_name.find(name + ".weight");
    ASSERT_NE(it, by_name.end()) << name;
    const LayerResult& r = *it->second;
    SCOPED_TRACE(name);
    ASSERT_TRUE(r.max_rand_eval.has_value());
    const double want_max = Parse(row.at("max_rand_eval"));
    const double want_soft = Parse(row.at("ww_softrank"));
    const double want_dist = Parse(row.at("rand_distance"));
    std::cout << name << ": max_rand_eval " << *r.max_rand_eval << " vs " << want_max
              << ", ww_softrank " << *r.ww_softrank << " vs " << want_soft << ", rand_distance "
              << *r.rand_distance << " vs " << want_dist << ", rand_num_spikes "
              << *r.rand_num_spikes << " vs " << row.at("rand_num_spikes") << "\n";
    EXPECT_NEAR(*r.max_rand_eval, want_max, 0.35 * want_max);
    EXPECT_NEAR(*r.ww_softrank, want_soft, 0.35 * want_soft);
    EXPECT_NEAR(*r.rand_distance, want_dist, 0.1 + 0.5 * want_dist);
    ++compared;
  }
  EXPECT_GT(compared, 15);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  AnalysisOptions def;
  cases.push_back({"mixed.safetensors", "mixed", def});
  cases.push_back({"degenerate.safetensors", "degenerate", def});
  cases.push_back({"state_dict.pt", "state_dict", def});
  cases.push_back({"nested_state_dict.pt", "nested_state_dict", def});
  cases.push_back({"legacy_state_dict.pt", "legacy_state_dict", def});
  cases.push_back({"named_arrays.npz", "named_arrays", def});
  cases.push_back({"single_npy_as.npz", "single_npy", def});
  cases.push_back({"single.npy", "single_npy", def});
  AnalysisOptions clip = def;
  clip.fix_fingers = FixFingers::kClipXmax;
  cases.push_back({"mixed.safetensors", "mixed.opt-clip_xmax", clip, false, "mixed"});
  AnalysisOptions xmax = def;
  xmax.xmax_drop = 3;
  cases.push_back({"mixed.safetensors", "mixed.opt-xmax-3", xmax, false, "mixed"});
  AnalysisOptions detx = def;
  detx.detx = true;
  cases.push_back({"mixed.safetensors", "mixed.opt-detX", detx, false, "mixed"});
  // pool = false: one row per conv slice. conv.k2_out_lt_in is skipped: with its N and M
  // swapped the reference filters on M = 24 and analyses 8-value slices; we filter on the
  // real M = 8 < min_evals.
  AnalysisOptions no_pool = def;
  no_pool.pool = false;
  cases.push_back({"mixed.safetensors", "mixed.opt-no_pool", no_pool, false});
  AnalysisOptions mp = def;
  mp.mp_fit = true;
  cases.push_back({"mixed.safetensors", "mixed.opt-mp_fit", mp, false, "mixed"});
  // The analysed set with the defaults differs where docs/compatibility.md says; with
  // reference_layer_set it is the reference's.
  cases.push_back({"layer_set.safetensors",
                   "layer_set",
                   def,
                   true,
                   "",
                   {"conv.k1x2_wide", "conv1d.k3"},
                   {"conv.k1x2_small"}});
  AnalysisOptions ref_set = def;
  ref_set.reference_layer_set = true;
  cases.push_back({"layer_set.safetensors", "layer_set", ref_set});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Goldens, ReferenceAgreementTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string s = info.param.expected;
                           if (info.param.fixture == "single.npy") s += "_from_npy";
                           if (info.param.options.reference_layer_set) s += "_reference_set";
                           for (char& ch : s) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return s;
                         });

}  // namespace
}  // namespace htsr
