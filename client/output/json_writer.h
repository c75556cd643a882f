// JSON output: {"htsr_version", "models": [{path, format, backend, seconds, summary,
// layers: [{column: value}]}]}. Non-finite numbers become null (JSON has no inf/nan).
#ifndef HTSR_CLIENT_OUTPUT_JSON_WRITER_H_
#define HTSR_CLIENT_OUTPUT_JSON_WRITER_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "htsr/base/text_escape.h"
#include "model/model_report.h"

namespace htsr::output {

void WriteJson(const std::vector<model::ModelReport>& models, std::ostream& out);

// JSON string literal with escapes (the product's one escaper, htsr/base/text_escape.h).
using ::htsr::JsonString;
// A JSON number, or null where the value is not finite.
std::string JsonNumber(double v);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_JSON_WRITER_H_
