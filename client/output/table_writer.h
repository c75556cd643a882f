// Human-readable terminal table: the columns a person scans first, then the summary and
// the reasons for skipped or failed layers.
#ifndef HTSR_CLIENT_OUTPUT_TABLE_WRITER_H_
#define HTSR_CLIENT_OUTPUT_TABLE_WRITER_H_

#include <ostream>
#include <vector>

#include "model/model_report.h"

namespace htsr::output {

void WriteTable(const model::ModelReport& model, std::ostream& out);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_TABLE_WRITER_H_
