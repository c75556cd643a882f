#include "py_options.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace py = pybind11;

namespace htsr::python {
namespace {

absl::StatusOr<int64_t> GetInt(const py::handle& v, const std::string& key, int64_t lo,
                               int64_t hi) {
  if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v)) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be an integer"));
  }
  int64_t x = 0;
  try {
    x = v.cast<int64_t>();
  } catch (const py::cast_error&) {
    return absl::InvalidArgumentError(absl::StrCat(key, " is out of range"));
  }
  if (x < lo || x > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " must be in [", lo, ", ", hi, "], got ", x));
  }
  return x;
}

absl::StatusOr<std::string> GetStr(const py::handle& v, const std::string& key) {
  if (!py::isinstance<py::str>(v)) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be a string"));
  }
  return v.cast<std::string>();
}

absl::StatusOr<bool> GetBool(const py::handle& v, const std::string& key) {
  if (!py::isinstance<py::bool_>(v)) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be True or False"));
  }
  return v.cast<bool>();
}

}  // namespace

absl::StatusOr<EngineConfig> EngineConfigFromDict(const py::dict& options) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  EngineConfig c;
  AnalysisOptions& o = c.options;
  for (const auto& [k, v] : options) {
    const std::string key = py::str(k).cast<std::string>();
    if (v.is_none()) continue;  // the default
    absl::Status bad;
    auto int_opt = [&](int64_t& dst, int64_t lo, int64_t hi) {
      absl::StatusOr<int64_t> x = GetInt(v, key, lo, hi);
      if (x.ok())
        dst = *x;
      else
        bad = x.status();
    };
    auto bool_opt = [&](bool& dst) {
      absl::StatusOr<bool> x = GetBool(v, key);
      if (x.ok())
        dst = *x;
      else
        bad = x.status();
    };
    if (key == "min_evals") {
      int_opt(o.min_evals, 0, kMax);
    } else if (key == "max_evals") {
      int_opt(o.max_evals, 0, kMax);
    } else if (key == "max_n") {
      int_opt(o.max_n, 0, kMax);
    } else if (key == "pool") {
      bool_opt(o.pool);
    } else if (key == "all_tensors") {
      bool_opt(o.all_tensors);
    } else if (key == "reference_layer_set") {
      bool_opt(o.reference_layer_set);
    } else if (key == "mp_fit") {
      bool_opt(o.mp_fit);
    } else if (key == "randomize") {
      bool_opt(o.randomize);
    } else if (key == "detx") {
      bool_opt(o.detx);
    } else if (key == "normalize") {
      bool_opt(o.normalize);
    } else if (key == "keep_evals") {
      bool_opt(c.keep_evals);
    } else if (key == "seed") {
      int64_t seed = 0;
      int_opt(seed, 0, std::numeric_limits<int64_t>::max());
      o.seed = static_cast<uint64_t>(seed);
    } else if (key == "max_fingers") {
      int64_t n = o.max_fingers;
      int_opt(n, 0, kMax);
      o.max_fingers = static_cast<int>(n);
    } else if (key == "finger_thresh") {
      if (!py::isinstance<py::float_>(v) && !py::isinstance<py::int_>(v)) {
        return absl::InvalidArgumentError("finger_thresh must be a number");
      }
      o.finger_thresh = v.cast<double>();
    } else if (key == "xmax_drop") {
      int_opt(o.xmax_drop, 0, kMax);
    } else if (key == "threads") {
      int64_t t = 0;
      int_opt(t, 0, 4096);
      c.threads = static_cast<int>(t);
    } else if (key == "fix_fingers") {
      absl::StatusOr<std::string> s = GetStr(v, key);
      if (!s.ok()) return s.status();
      if (*s != "clip_xmax") {
        return absl::InvalidArgumentError(
            absl::StrCat("fix_fingers supports 'clip_xmax' (or None), got '", *s, "'"));
      }
      o.fix_fingers = FixFingers::kClipXmax;
    } else if (key == "fit") {
      absl::StatusOr<std::string> s = GetStr(v, key);
      if (!s.ok()) return s.status();
      if (*s == "pl" || *s == "PL" || *s == "power_law") {
        o.fit = FitType::kPowerLaw;
      } else if (*s == "tpl" || *s == "TPL") {
        o.fit = FitType::kTruncatedPowerLaw;
      } else if (*s == "e_tpl" || *s == "E_TPL") {
        o.fit = FitType::kExtendedTpl;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("fit is 'PL', 'TPL' or 'E_TPL', got '", *s, "'"));
      }
    } else if (key == "precision") {
      absl::StatusOr<std::string> s = GetStr(v, key);
      if (!s.ok()) return s.status();
      if (*s == "f64") {
        o.precision = Precision::kF64;
      } else if (*s == "f32") {
        o.precision = Precision::kF32;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("precision is 'f64' or 'f32', got '", *s, "'"));
      }
    } else if (key == "device") {
      absl::StatusOr<std::string> s = GetStr(v, key);
      if (!s.ok()) return s.status();
      absl::StatusOr<Device> d = ParseDevice(*s);
      if (!d.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("device is 'auto', 'cpu', 'cuda' or 'cuda:N', got '", *s, "'"));
      }
      c.device = *d;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", key, "'"));
    }
    if (!bad.ok()) return bad;
  }
  if (o.min_evals > o.max_evals) {
    return absl::InvalidArgumentError("min_evals is larger than max_evals: nothing to analyse");
  }
  if (o.fit != FitType::kPowerLaw && o.fix_fingers != FixFingers::kNone) {
    return absl::InvalidArgumentError("fix_fingers works with fit='PL' only");
  }
  return c;
}

}  // namespace htsr::python
