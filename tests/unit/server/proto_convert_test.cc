// The wire form carries every LayerResult field losslessly: each field gets a distinct
// value, goes through ToProto/FromProto, and must come back identical.
#include "convert/proto_convert.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "convert/grpc_status.h"

namespace htsr {
namespace {

// Fails when LayerResult grows: add the new field to analysis.proto, proto_convert.cc and
// FullResult() below, then update the size (x86-64 / libstdc++). Exception: the seven --base
// columns (delta_*, dist_*) are filled by the client after its calls, from the deltas it
// streamed and two more calls (client/analysis/base_delta.cc); a server never computes them,
// so they are deliberately not on the wire.
static_assert(sizeof(LayerResult) == 968,
              "LayerResult changed: extend proto_convert and this test");

LayerResult FullResult() {
  LayerResult r;
  r.plan.layer_id = 7;
  r.plan.name = "blocks.3.attn.qkv";
  r.plan.type = LayerType::kConv2d;
  r.plan.rows = 64;
  r.plan.cols = 32;
  r.plan.N = 64;
  r.plan.M = 32;
  r.plan.rf = 9;
  r.plan.num_evals = 288;
  r.plan.analyse = true;
  r.plan.skip_reason = "none";
  r.status = LayerStatus::kFailed;
  r.warning = LayerWarning::kUnderTrained;
  r.reason = "why";
  double v = 0.125;
  for (double* d : {&r.Q, &r.norm, &r.log_norm, &r.spectral_norm, &r.log_spectral_norm, &r.alpha,
                    &r.alpha_weighted, &r.log_alpha_norm, &r.D, &r.sigma, &r.xmin, &r.xmax,
                    &r.stable_rank, &r.entropy, &r.sv_max, &r.sv_min, &r.seconds}) {
    *d = (v += 1.0 / 3.0);
  }
  r.num_pl_spikes = 11;
  r.matrix_rank = 12;
  r.rank_loss = 13;
  r.weak_rank_loss = 14;
  r.has_esd = true;
  r.num_fingers = 15;
  r.raw_alpha = 16.5;
  r.num_spikes = 17;
  r.sigma_mp = 18.5;
  r.mp_softrank = 19.5;
  r.bulk_min = 20.5;
  r.bulk_max = 21.5;
  r.W_scale = 22.5;
  r.max_rand_eval = 23.5;
  r.rand_distance = 24.5;
  r.ww_softrank = 25.5;
  r.ww_maxdist = 26.5;
  r.rand_num_spikes = 27;
  r.num_traps = 28;
  r.rand_sigma_mp = 29.5;
  r.rand_mp_softrank = 30.5;
  r.rand_bulk_max = 31.5;
  r.rand_bulk_min = 32.5;
  r.rand_W_scale = 33.5;
  r.detX_num = 34;
  r.detX_val = 35.5;
  r.detX_val_unrescaled = 36.5;
  r.num_ERG_spikes = 37;
  r.ERG_gap = 38.5;
  r.Lambda = 39.5;
  r.tpl_R = -40.5;
  r.tpl_p = 0.0625;
  r.evals = {1e-3, 0.5, 2.0, std::numeric_limits<double>::infinity()};
  r.slice_id = 4;
  return r;
}

TEST(ProtoConvert, LayerResultRoundTripsEveryField) {
  const LayerResult in = FullResult();
  v1::LayerResult p;
  ToProto(in, &p);
  auto out = FromProto(p);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->plan.layer_id, in.plan.layer_id);
  EXPECT_EQ(out->plan.name, in.plan.name);
  EXPECT_EQ(out->plan.type, in.plan.type);
  EXPECT_EQ(out->plan.rows, in.plan.rows);
  EXPECT_EQ(out->plan.cols, in.plan.cols);
  EXPECT_EQ(out->plan.N, in.plan.N);
  EXPECT_EQ(out->plan.M, in.plan.M);
  EXPECT_EQ(out->plan.rf, in.plan.rf);
  EXPECT_EQ(out->plan.num_evals, in.plan.num_evals);
  EXPECT_EQ(out->plan.analyse, in.plan.analyse);
  EXPECT_EQ(out->plan.skip_reason, in.plan.skip_reason);
  EXPECT_EQ(out->status, in.status);
  EXPECT_EQ(out->warning, in.warning);
  EXPECT_EQ(out->reason, in.reason);
#define HTSR_EXPECT_FIELD(f) EXPECT_EQ(out->f, in.f) << #f
  HTSR_EXPECT_FIELD(Q);
  HTSR_EXPECT_FIELD(norm);
  HTSR_EXPECT_FIELD(log_norm);
  HTSR_EXPECT_FIELD(spectral_norm);
  HTSR_EXPECT_FIELD(log_spectral_norm);
  HTSR_EXPECT_FIELD(alpha);
  HTSR_EXPECT_FIELD(alpha_weighted);
  HTSR_EXPECT_FIELD(log_alpha_norm);
  HTSR_EXPECT_FIELD(D);
  HTSR_EXPECT_FIELD(sigma);
  HTSR_EXPECT_FIELD(xmin);
  HTSR_EXPECT_FIELD(xmax);
  HTSR_EXPECT_FIELD(num_pl_spikes);
  HTSR_EXPECT_FIELD(stable_rank);
  HTSR_EXPECT_FIELD(Lambda);
  HTSR_EXPECT_FIELD(tpl_R);
  HTSR_EXPECT_FIELD(tpl_p);
  HTSR_EXPECT_FIELD(matrix_rank);
  HTSR_EXPECT_FIELD(entropy);
  HTSR_EXPECT_FIELD(sv_max);
  HTSR_EXPECT_FIELD(sv_min);
  HTSR_EXPECT_FIELD(rank_loss);
  HTSR_EXPECT_FIELD(weak_rank_loss);
  HTSR_EXPECT_FIELD(has_esd);
  HTSR_EXPECT_FIELD(num_fingers);
  HTSR_EXPECT_FIELD(raw_alpha);
  HTSR_EXPECT_FIELD(num_spikes);
  HTSR_EXPECT_FIELD(sigma_mp);
  HTSR_EXPECT_FIELD(mp_softrank);
  HTSR_EXPECT_FIELD(bulk_min);
  HTSR_EXPECT_FIELD(bulk_max);
  HTSR_EXPECT_FIELD(W_scale);
  HTSR_EXPECT_FIELD(max_rand_eval);
  HTSR_EXPECT_FIELD(rand_distance);
  HTSR_EXPECT_FIELD(ww_softrank);
  HTSR_EXPECT_FIELD(ww_maxdist);
  HTSR_EXPECT_FIELD(rand_num_spikes);
  HTSR_EXPECT_FIELD(num_traps);
  HTSR_EXPECT_FIELD(rand_sigma_mp);
  HTSR_EXPECT_FIELD(rand_mp_softrank);
  HTSR_EXPECT_FIELD(rand_bulk_max);
  HTSR_EXPECT_FIELD(rand_bulk_min);
  HTSR_EXPECT_FIELD(rand_W_scale);
  HTSR_EXPECT_FIELD(detX_num);
  HTSR_EXPECT_FIELD(detX_val);
  HTSR_EXPECT_FIELD(detX_val_unrescaled);
  HTSR_EXPECT_FIELD(num_ERG_spikes);
  HTSR_EXPECT_FIELD(ERG_gap);
  HTSR_EXPECT_FIELD(evals);
  HTSR_EXPECT_FIELD(slice_id);
  HTSR_EXPECT_FIELD(seconds);
#undef HTSR_EXPECT_FIELD
}

TEST(ProtoConvert, AbsentOptionalsStayAbsent) {
  LayerResult in;
  in.plan.type = LayerType::kDense;
  v1::LayerResult p;
  ToProto(in, &p);
  EXPECT_FALSE(p.has_sigma_mp());
  EXPECT_FALSE(p.has_slice_id());
  auto out = FromProto(p);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->sigma_mp.has_value());
  EXPECT_FALSE(out->num_fingers.has_value());
  EXPECT_FALSE(out->slice_id.has_value());
}

TEST(ProtoConvert, OptionsRoundTripAndAbsentMeansDefault) {
  AnalysisOptions o;
  o.min_evals = 3;
  o.max_evals = 99;
  o.max_n = 1234;
  o.pool = false;
  o.all_tensors = true;
  o.fix_fingers = FixFingers::kClipXmax;
  o.finger_thresh = 0.5;
  o.max_fingers = 4;
  o.xmax_drop = 2;
  o.mp_fit = true;
  o.randomize = true;
  o.seed = 77;
  o.detx = true;
  o.normalize = true;
  o.precision = Precision::kF32;
  auto back = FromProto(ToProto(o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->min_evals, 3);
  EXPECT_EQ(back->max_evals, 99);
  EXPECT_EQ(back->max_n, 1234);
  EXPECT_FALSE(back->pool);
  EXPECT_TRUE(back->all_tensors);
  EXPECT_EQ(back->fix_fingers, FixFingers::kClipXmax);
  EXPECT_EQ(back->finger_thresh, 0.5);
  EXPECT_EQ(back->max_fingers, 4);
  EXPECT_EQ(back->xmax_drop, 2);
  EXPECT_TRUE(back->mp_fit);
  EXPECT_TRUE(back->randomize);
  EXPECT_EQ(back->seed, 77u);
  EXPECT_TRUE(back->detx);
  EXPECT_TRUE(back->normalize);
  EXPECT_EQ(back->precision, Precision::kF32);

  // An empty message (an old or minimal client) means the reference defaults.
  auto defaults = FromProto(v1::AnalysisOptions{});
  ASSERT_TRUE(defaults.ok());
  const AnalysisOptions d;
  EXPECT_EQ(defaults->min_evals, d.min_evals);
  EXPECT_EQ(defaults->max_evals, d.max_evals);
  EXPECT_EQ(defaults->max_n, d.max_n);
  EXPECT_EQ(defaults->pool, d.pool);
  EXPECT_EQ(defaults->finger_thresh, d.finger_thresh);
  EXPECT_EQ(defaults->precision, d.precision);

  v1::AnalysisOptions bad;
  bad.set_min_evals(-1);
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  v1::AnalysisOptions unknown_enum;
  unknown_enum.set_precision(static_cast<v1::Precision>(42));
  EXPECT_EQ(FromProto(unknown_enum).status().code(), absl::StatusCode::kInvalidArgument);
}

// A LoRA update travels as its factors: low_rank, scale and fan_in_fan_out round-trip, its
// byte count is r * (out + in) * 4, and a header that lies about it is refused.
TEST(ProtoConvert, LowRankTensorMetaRoundTripsAndValidates) {
  TensorInfo info;
  info.name = "m.lora_BA.weight";
  info.dtype = DType::kF32;
  info.shape = {1536, 384};
  info.low_rank = 8;
  info.low_rank_scale = 2.0;
  info.low_rank_fan_in_fan_out = true;
  auto back = FromProto(ToProto(info));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->low_rank, 8);
  EXPECT_EQ(back->low_rank_scale, 2.0);
  EXPECT_TRUE(back->low_rank_fan_in_fan_out);
  EXPECT_EQ(back->DataBytes(), uint64_t{8} * (1536 + 384) * 4);
  TensorInfo dense = info;
  dense.low_rank = 0;
  EXPECT_EQ(FromProto(ToProto(dense))->low_rank, 0);
  EXPECT_EQ(dense.DataBytes(), uint64_t{1536} * 384 * 4);

  v1::TensorMeta bad = ToProto(info);
  bad.set_dtype(v1::DTYPE_BF16);
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(info);
  bad.add_shape(3);
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(info);
  bad.set_low_rank(-1);
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(info);
  bad.set_low_rank_scale(std::numeric_limits<double>::infinity());
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(info);
  bad.set_low_rank(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtoConvert, TensorMetaValidates) {
  TensorInfo info;
  info.name = "a.weight";
  info.dtype = DType::kBF16;
  info.shape = {3, 4, 5};
  auto back = FromProto(ToProto(info));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, info.name);
  EXPECT_EQ(back->dtype, info.dtype);
  EXPECT_EQ(back->shape, info.shape);

  v1::TensorMeta unknown = ToProto(info);
  unknown.set_dtype(static_cast<v1::DType>(99));
  auto st = FromProto(unknown).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("a.weight"), std::string::npos);
  v1::TensorMeta negative = ToProto(info);
  negative.set_shape(1, -4);
  EXPECT_EQ(FromProto(negative).status().code(), absl::StatusCode::kInvalidArgument);
  for (DType t :
       {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64, DType::kI32, DType::kI16,
        DType::kI8, DType::kU8, DType::kBool, DType::kF8E4M3, DType::kF8E5M2}) {
    auto r = FromProto(ToProto(t));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, t);
  }
}

TEST(ProtoConvert, SummaryRoundTrip) {
  ModelSummary s;
  s.num_layers = 1;
  s.num_analyzed = 2;
  s.num_skipped = 3;
  s.num_failed = 4;
  s.num_under_trained = 5;
  s.num_over_trained = 6;
  s.log_norm = 7.5;
  s.alpha = 8.5;
  s.alpha_weighted = 9.5;
  s.log_alpha_norm = 10.5;
  s.log_spectral_norm = 11.5;
  s.stable_rank = 12.5;
  s.mp_softrank = 13.5;
  v1::ModelSummary p;
  ToProto(s, &p);
  const ModelSummary b = FromProto(p);
  EXPECT_EQ(b.num_layers, 1);
  EXPECT_EQ(b.num_analyzed, 2);
  EXPECT_EQ(b.num_skipped, 3);
  EXPECT_EQ(b.num_failed, 4);
  EXPECT_EQ(b.num_under_trained, 5);
  EXPECT_EQ(b.num_over_trained, 6);
  EXPECT_EQ(b.log_norm, 7.5);
  EXPECT_EQ(b.alpha, 8.5);
  EXPECT_EQ(b.alpha_weighted, 9.5);
  EXPECT_EQ(b.log_alpha_norm, 10.5);
  EXPECT_EQ(b.log_spectral_norm, 11.5);
  EXPECT_EQ(b.stable_rank, 12.5);
  EXPECT_EQ(b.mp_softrank, 13.5);
}

TEST(GrpcStatus, CodesMapBothWays) {
  for (int c = 0; c <= 16; ++c) {
    const absl::Status s(static_cast<absl::StatusCode>(c), c == 0 ? "" : "msg");
    const grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
}

}  // namespace
}  // namespace htsr
