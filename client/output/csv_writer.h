// CSV output: the reference tool's column names; one row per layer. With several models a
// leading "model" column says which file a row belongs to.
#ifndef HTSR_CLIENT_OUTPUT_CSV_WRITER_H_
#define HTSR_CLIENT_OUTPUT_CSV_WRITER_H_

#include <ostream>
#include <vector>

#include "model/model_report.h"

namespace htsr::output {

void WriteCsv(const std::vector<model::ModelReport>& models, std::ostream& out);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_CSV_WRITER_H_
