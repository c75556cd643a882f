// `htsr compare` output: a terminal table, CSV (one row per series and metric) or JSON.
#ifndef HTSR_CLIENT_TRENDS_TREND_WRITER_H_
#define HTSR_CLIENT_TRENDS_TREND_WRITER_H_

#include <ostream>
#include <vector>

#include "model/diagnostics.h"
#include "trends/trend_analysis.h"

namespace htsr::trends {

void WriteTrendTable(const std::vector<SeriesTrend>& trends, const TrendOptions& options,
                     const std::vector<model::ScaleCollapse>& collapse, std::ostream& out);
void WriteTrendCsv(const std::vector<SeriesTrend>& trends, std::ostream& out);
void WriteTrendJson(const std::vector<SeriesTrend>& trends, const TrendOptions& options,
                    const std::vector<model::ScaleCollapse>& collapse, std::ostream& out);

}  // namespace htsr::trends

#endif  // HTSR_CLIENT_TRENDS_TREND_WRITER_H_
