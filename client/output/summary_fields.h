// The model summary as an ordered list of named values, shared by every writer.
#ifndef HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_
#define HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_

#include <string_view>
#include <vector>

#include "htsr/summary.h"

#ifndef HTSR_VERSION_STRING
#define HTSR_VERSION_STRING "0.1.0"
#endif

namespace htsr::output {

struct SummaryField {
  std::string_view name;
  double value;
  bool is_count;
};

// Means first (the reference's get_summary() keys), then our counts.
std::vector<SummaryField> SummaryFields(const ModelSummary& s);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_
