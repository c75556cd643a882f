// The one place that maps engine types (kernels/include/htsr) to the htsr.v1 wire messages
// and back. Server and remote client both use it, so a field added to LayerResult needs one
// edit here and the round-trip test (tests/unit/server/proto_convert_test.cc) catches a miss.
#ifndef HTSR_PROTO_CONVERT_PROTO_CONVERT_H_
#define HTSR_PROTO_CONVERT_PROTO_CONVERT_H_

#include "absl/status/statusor.h"
#include "htsr/dtype.h"
#include "htsr/layer.h"
#include "htsr/options.h"
#include "htsr/summary.h"
#include "htsr/tensor.h"
#include "htsr/v1/analysis.pb.h"

namespace htsr {

v1::DType ToProto(DType t);
// InvalidArgument for DTYPE_UNSPECIFIED and numbers this build does not know.
absl::StatusOr<DType> FromProto(v1::DType t);

v1::LayerType ToProto(LayerType t);
v1::LayerStatus ToProto(LayerStatus s);
v1::LayerWarning ToProto(LayerWarning w);

// Every option is written explicitly, so a server with other defaults computes the same.
v1::AnalysisOptions ToProto(const AnalysisOptions& options);
// Absent fields keep AnalysisOptions' defaults. InvalidArgument for out-of-range values.
absl::StatusOr<AnalysisOptions> FromProto(const v1::AnalysisOptions& proto);

v1::TensorMeta ToProto(const TensorInfo& info);
// InvalidArgument naming the tensor for an unknown dtype or a negative dimension.
absl::StatusOr<TensorInfo> FromProto(const v1::TensorMeta& proto);

void ToProto(const LayerPlan& plan, v1::LayerPlan* out);
absl::StatusOr<LayerPlan> FromProto(const v1::LayerPlan& proto);

void ToProto(const LayerResult& result, v1::LayerResult* out);
absl::StatusOr<LayerResult> FromProto(const v1::LayerResult& proto);

void ToProto(const ModelSummary& summary, v1::ModelSummary* out);
ModelSummary FromProto(const v1::ModelSummary& proto);

}  // namespace htsr

#endif  // HTSR_PROTO_CONVERT_PROTO_CONVERT_H_
