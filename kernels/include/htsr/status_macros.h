// Propagation helpers for absl::Status / absl::StatusOr (TensorStore style).
#ifndef HTSR_STATUS_MACROS_H_
#define HTSR_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HTSR_CONCAT_INNER_(a, b) a##b
#define HTSR_CONCAT_(a, b) HTSR_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` yields a non-OK status.
#define HTSR_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status htsr_status_ = (expr);        \
    if (!htsr_status_.ok()) return htsr_status_; \
  } while (false)

// `HTSR_ASSIGN_OR_RETURN(auto x, F())` binds the value of a StatusOr or returns its error.
#define HTSR_ASSIGN_OR_RETURN(lhs, expr) \
  HTSR_ASSIGN_OR_RETURN_IMPL_(HTSR_CONCAT_(htsr_statusor_, __LINE__), lhs, expr)

#define HTSR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = *std::move(tmp)

#endif  // HTSR_STATUS_MACROS_H_
