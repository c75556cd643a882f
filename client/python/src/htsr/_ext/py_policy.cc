// htsr._htsr.check_policy(report, path): a policy file (`htsr check`'s) against a Report.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "policy/policy.h"
#include "policy/policy_eval.h"
#include "py_report.h"
#include "py_status.h"

namespace py = pybind11;

namespace htsr::python {

void BindPolicy(py::module_& m) {
  m.def(
      "check_policy",
      [](const model::ModelReport& report, const std::string& path) {
        absl::StatusOr<policy::Policy> p = policy::ReadPolicyFile(path);
        ThrowIfError(p.status());
        py::list out;
        for (const policy::Violation& v : policy::Evaluate(*p, report)) {
          out.append(py::make_tuple(v.rule, v.limit, v.value, v.message));
        }
        return out;
      },
      py::arg("report"), py::arg("policy_path"),
      "[(rule, limit, value, message)] for each rule of the policy file the model breaks");
}

}  // namespace htsr::python
