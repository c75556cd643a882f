// Analysis options: the reference tool's analyze() flags plus ours.
#ifndef HTSR_OPTIONS_H_
#define HTSR_OPTIONS_H_

#include <cstdint>
#include <string>

namespace htsr {

enum class FixFingers : uint8_t { kNone, kClipXmax };
enum class Precision : uint8_t { kF64, kF32 };
// The tail fit (reference `fit=`): PL (default), TPL (truncated power law, xmin scanned
// with the TPL's own KS distance) or E_TPL (TPL with the reference's xmin window around the
// ESD's peak). docs/spec.md §3a.
enum class FitType : uint8_t { kPowerLaw, kTruncatedPowerLaw, kExtendedTpl };

struct AnalysisOptions {
  // Size filter (reference defaults; min_evals is weightwatcher 0.7.7's DEFAULT_MIN_EVALS).
  // A layer outside it is reported as skipped.
  int64_t min_evals = 8;
  int64_t max_evals = 15000;
  int64_t max_n = 50000;

  // Pool conv2d slices into one spectrum (reference default `pool=True`).
  bool pool = true;
  // Analyse every floating tensor of rank >= 2, not only names ending in ".weight".
  bool all_tensors = false;
  // Reproduce the reference's set of analysed layers (docs/compatibility.md): its size filter
  // on conv2d uses its exchanged N/M (out < in with an even kh*kw, or its "channels first"
  // guess), and it leaves 3-D tensors and tensors whose first dimension is < 2 unanalysed.
  // The reported N, M and spectra stay htsr's; only which layers are skipped changes.
  bool reference_layer_set = false;

  FitType fit = FitType::kPowerLaw;
  FixFingers fix_fingers = FixFingers::kNone;
  // Reference `fix_fingers` defaults.
  double finger_thresh = 1.0;
  int max_fingers = 10;
  // Drop the top `xmax_drop` eigenvalues before fitting (`--xmax -k`); 0 = none.
  int64_t xmax_drop = 0;

  bool mp_fit = false;
  bool randomize = false;
  uint64_t seed = 0;
  bool detx = false;

  // Divide eigenvalues by N (the paper's X = W^T W / N); the reference does not.
  bool normalize = false;
  Precision precision = Precision::kF64;
};

}  // namespace htsr

#endif  // HTSR_OPTIONS_H_
