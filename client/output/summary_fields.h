// The model summary as an ordered list of named values, shared by every writer.
#ifndef HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_
#define HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "htsr/summary.h"

#ifndef HTSR_VERSION_STRING
#define HTSR_VERSION_STRING "0.1.0"
#endif

namespace htsr::output {

struct SummaryField {
  std::string_view name;
  double value;  // NaN for a mean of a model with no analysed layer (written null/empty/-)
  bool is_count;
};

// Means first (the reference's get_summary() keys), then our counts. A model in which no
// layer was analysed has no means: their values are NaN, never 0 (a 0 would rank an empty
// model as the best one; README "Empty models").
std::vector<SummaryField> SummaryFields(const ModelSummary& s);

// Whether the summary has values: at least one layer was analysed.
inline bool HasSummaryValues(const ModelSummary& s) { return s.num_analyzed > 0; }

// "ok", or "empty" when no layer was analysed (the writers' and scan's status).
std::string_view SummaryStatus(const ModelSummary& s);

// Why a summary is empty, in words: "no layer analysed (2 skipped, 1 failed)", or
// "no layer analysed (the model has no layer)". "" when it is not empty.
std::string EmptySummaryReason(const ModelSummary& s);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_SUMMARY_FIELDS_H_
