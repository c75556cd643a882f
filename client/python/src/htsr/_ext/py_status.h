// absl::Status -> Python exceptions (docs/architecture.md: user errors are statuses, and
// in Python they are exceptions with the same message; nothing aborts the interpreter).
#ifndef HTSR_PYTHON_PY_STATUS_H_
#define HTSR_PYTHON_PY_STATUS_H_

#include <pybind11/pybind11.h>

#include "absl/status/status.h"

namespace htsr::python {

// Throws: kInvalidArgument / kOutOfRange -> ValueError, kNotFound -> FileNotFoundError,
// kUnimplemented -> NotImplementedError, anything else -> RuntimeError. OK returns.
inline void ThrowIfError(const absl::Status& s) {
  if (s.ok()) return;
  PyObject* type = PyExc_RuntimeError;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      type = PyExc_ValueError;
      break;
    case absl::StatusCode::kNotFound:
      type = PyExc_FileNotFoundError;
      break;
    case absl::StatusCode::kUnimplemented:
      type = PyExc_NotImplementedError;
      break;
    default:
      break;
  }
  PyErr_SetString(type, std::string(s.message()).c_str());
  throw pybind11::error_already_set();
}

}  // namespace htsr::python

#endif  // HTSR_PYTHON_PY_STATUS_H_
