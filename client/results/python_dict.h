// Reads the numbers of a Python dict literal, the form in which weightwatcher users keep
// get_summary() results ("{'alpha': 2.57, 'lognorm': 1.25, ...}", also the paper's
// published summaries). Only what repr() of such a dict contains is accepted: string keys,
// numbers, nan/inf, True/False/None, strings, and numpy scalar wrappers such as
// np.float64(1.5). Nothing is evaluated.
#ifndef HTSR_CLIENT_RESULTS_PYTHON_DICT_H_
#define HTSR_CLIENT_RESULTS_PYTHON_DICT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace htsr::results {

// The numeric entries in file order (True/False as 1/0; None and strings left out).
// Errors name `source` and the byte offset.
absl::StatusOr<std::vector<std::pair<std::string, double>>> ParsePythonDictNumbers(
    absl::string_view text, absl::string_view source);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_PYTHON_DICT_H_
