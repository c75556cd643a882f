// The options of htsr.analyze() (a dict made by the Python side) -> the engine's config.
#ifndef HTSR_PYTHON_PY_OPTIONS_H_
#define HTSR_PYTHON_PY_OPTIONS_H_

#include <pybind11/pybind11.h>

#include "absl/status/statusor.h"
#include "htsr/engine.h"

namespace htsr::python {

// Keys as the CLI's flags with '_' (min_evals, fix_fingers, ...). Unknown keys are an error
// (the Python side names the options it supports); values are checked as the CLI does.
absl::StatusOr<EngineConfig> EngineConfigFromDict(const pybind11::dict& options);

}  // namespace htsr::python

#endif  // HTSR_PYTHON_PY_OPTIONS_H_
