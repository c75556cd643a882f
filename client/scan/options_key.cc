#include "scan/options_key.h"

#include "absl/strings/str_cat.h"
#include "output/result_columns.h"

namespace htsr::scan {

std::string OptionsKey(const AnalysisOptions& o, const std::string& layers_spec) {
  // Versioned: a change of format reads as "other options", never as a false match.
  return absl::StrCat(
      "v1;min_evals=", o.min_evals, ";max_evals=", o.max_evals, ";max_n=", o.max_n,
      ";pool=", o.pool, ";all_tensors=", o.all_tensors,
      ";fix_fingers=", o.fix_fingers == FixFingers::kClipXmax ? "clip_xmax" : "none",
      ";finger_thresh=", output::FormatDouble(o.finger_thresh), ";max_fingers=", o.max_fingers,
      ";xmax_drop=", o.xmax_drop, ";mp_fit=", o.mp_fit, ";randomize=", o.randomize,
      ";seed=", o.seed, ";detx=", o.detx, ";normalize=", o.normalize,
      ";precision=", o.precision == Precision::kF32 ? "f32" : "f64",
      // Added later: only when not the default, so that earlier keys stay valid.
      o.reference_layer_set ? ";reference_layer_set=1" : "",
      o.fit == FitType::kTruncatedPowerLaw ? ";fit=tpl"
      : o.fit == FitType::kExtendedTpl     ? ";fit=e_tpl"
                                           : "",
      ";layers=", layers_spec);
}

}  // namespace htsr::scan
