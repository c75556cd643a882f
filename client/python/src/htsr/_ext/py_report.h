// One analysed model as Python sees it: rows as columns (the reference's names and order,
// from output/result_columns.h), the summary, and the CLI's CSV text.
#ifndef HTSR_PYTHON_PY_REPORT_H_
#define HTSR_PYTHON_PY_REPORT_H_

#include <pybind11/pybind11.h>

#include "model/model_report.h"

namespace htsr::python {

void BindReport(pybind11::module_& m);
// check_policy (py_policy.cc).
void BindPolicy(pybind11::module_& m);

}  // namespace htsr::python

#endif  // HTSR_PYTHON_PY_REPORT_H_
