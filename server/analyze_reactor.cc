#include "server/analyze_reactor.h"

#include <algorithm>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <new>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "convert/grpc_status.h"
#include "convert/proto_convert.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "htsr/summary.h"
#include "server/blas_threads.h"
#include "server/call_log.h"

namespace htsr::server {
namespace {

// Model names come from clients: bounded before they reach logs.
constexpr size_t kMaxModelNameLog = 512;

// What the reactor builds per tensor of a header, measured (Amplification test: ~2.3 KiB
// per tiny skipped tensor: TensorInfo, LayerPlan twice, the plan message, the row, its
// message, allocator overhead) with margin; names are counted again on top.
constexpr uint64_t kHeaderBytesPerTensor = 3072;
// Calls whose header charged this much give their memory back to the OS when they end.
constexpr uint64_t kTrimAfterBytes = uint64_t{16} << 20;

// Bytes of a tensor as declared (a LoRA update: its factors); nullopt on overflow (anything
// above int64 is over every --max-layer-bytes anyway).
std::optional<uint64_t> TensorBytes(const TensorInfo& info) { return info.DataBytes(); }

}  // namespace

AnalyzeReactor* AnalyzeReactor::Start(grpc::CallbackServerContext* context, CallEnvironment env,
                                      uint64_t call_id) {
  std::shared_ptr<AnalyzeReactor> reactor(new AnalyzeReactor(context, env, call_id));
  reactor->self_ = reactor;
  {
    absl::MutexLock lock(&reactor->mu_);
    reactor->NoteReadLocked();
  }
  if (env.watchdog != nullptr) env.watchdog->Add(call_id, reactor);
  reactor->StartRead(&reactor->request_);
  return reactor.get();
}

AnalyzeReactor::AnalyzeReactor(grpc::CallbackServerContext* context, CallEnvironment env,
                               uint64_t call_id)
    : context_(context),
      env_(env),
      call_id_(call_id),
      start_time_(absl::Now()),
      peer_(context->peer()) {}

AnalyzeReactor::~AnalyzeReactor() = default;

uint64_t AnalyzeReactor::HeaderCharge(const v1::AnalyzeHeader& header) {
  uint64_t names = 0;
  for (const v1::TensorMeta& meta : header.tensors()) names += meta.name().size();
  return static_cast<uint64_t>(header.tensors_size()) * kHeaderBytesPerTensor + 6 * names +
         header.ByteSizeLong();
}

void AnalyzeReactor::NoteReadLocked() {
  reading_ = true;
  last_read_time_ = absl::Now();
}

absl::Status AnalyzeReactor::CancelStatus() const {
  // The server's deadline is the client's timeout counted from when the call arrived, so
  // it lies a little after the client's: a cancel this close to it is the deadline's.
  if (context_->deadline() <= std::chrono::system_clock::now() + std::chrono::milliseconds(500)) {
    return absl::DeadlineExceededError("deadline exceeded");
  }
  return absl::CancelledError("call cancelled (by the client, a dropped connection or shutdown)");
}

// The row embedded AnalyzeModel reports for a layer it could not load.
LayerResult AnalyzeReactor::FailedRowLocked(const LayerPlan& plan, std::string reason) const {
  LayerResult r;
  r.plan = plan;
  r.status = LayerStatus::kFailed;
  r.warning = LayerWarning::kFailed;
  r.reason = std::move(reason);
  if (!engine_->config().options.pool) r.slice_id = 0;
  return r;
}

// ---------------------------------------------------------------------------------------
// Reading

void AnalyzeReactor::OnReadDone(bool ok) {
  ReadAction action = ReadAction::kStop;
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    last_read_time_ = absl::Now();
    if (!ok) {
      // Half-close (or a broken stream; OnCancel covers that case as well, and replaces
      // the status if it follows).
      if (!finish_status_.has_value()) {
        if (!header_seen_) {
          FailLocked(absl::InvalidArgumentError("stream ended before the header"));
        } else if (tensors_outstanding_ > 0) {
          std::string missing;
          int listed = 0;
          for (size_t i = 0; i < tensor_state_.size() && listed < 5; ++i) {
            if (tensor_state_[i] == TensorState::kRequested ||
                tensor_state_[i] == TensorState::kReceiving) {
              absl::StrAppend(&missing, listed++ ? ", " : "", "'", tensors_[i].name, "'");
            }
          }
          FailLocked(absl::InvalidArgumentError(absl::StrCat(
              "stream ended with ", tensors_outstanding_,
              " requested tensor(s) not (fully) sent: ", missing,
              assembly_.active
                  ? absl::StrCat(" (got ", assembly_.received, " of ", assembly_.expected,
                                 " bytes of '", tensors_[assembly_.index].name, "')")
                  : "")));
        }
        ended_by_stream_ = finish_status_.has_value();
      }
    } else if (!finish_status_.has_value()) {
      action = HandleRequestLocked();
    }
    if (action == ReadAction::kContinue) NoteReadLocked();
  }
  FlushBudget();
  Pump();
  if (action == ReadAction::kContinue) StartRead(&request_);
}

AnalyzeReactor::ReadAction AnalyzeReactor::HandleRequestLocked() {
  if (absl::Status st = CheckDurationLocked(); !st.ok()) {
    FailLocked(st);
    return ReadAction::kStop;
  }
  switch (request_.kind_case()) {
    case v1::AnalyzeRequest::kHeader:
      return AdmitHeaderLocked();
    case v1::AnalyzeRequest::kChunk: {
      absl::StatusOr<ReadAction> action = HandleChunkLocked(request_.chunk());
      if (!action.ok()) {
        FailLocked(action.status());
        return ReadAction::kStop;
      }
      // While waiting for bytes, request_ still holds the chunk that OnBytesGranted copies.
      if (*action != ReadAction::kWait) request_.Clear();
      return *action;
    }
    default:
      FailLocked(absl::InvalidArgumentError("empty or unknown AnalyzeRequest"));
      return ReadAction::kStop;
  }
}

AnalyzeReactor::ReadAction AnalyzeReactor::AdmitHeaderLocked() {
  const v1::AnalyzeHeader& header = request_.header();
  absl::Status refused;
  uint64_t charge = 0;
  if (header_seen_) {
    refused = absl::InvalidArgumentError("second header in one call");
  } else if (static_cast<uint64_t>(header.tensors_size()) > env_.config->max_tensors_per_call) {
    refused = absl::ResourceExhaustedError(absl::StrCat(
        "the header lists ", header.tensors_size(), " tensors; the server accepts at most ",
        env_.config->max_tensors_per_call, " per call (--max-tensors-per-call)"));
  } else if (charge = HeaderCharge(header); charge > env_.metadata->capacity()) {
    refused = absl::ResourceExhaustedError(
        absl::StrCat("the header of ", header.tensors_size(), " tensors needs about ", charge,
                     " bytes of server memory for its plan and rows; the server has ",
                     env_.metadata->capacity(), " for all calls (--metadata-bytes)"));
  }
  // Large headers leave many small freed blocks behind: trimmed when the call ends.
  trim_on_done_ = header.ByteSizeLong() >= kTrimAfterBytes / 16 || charge >= kTrimAfterBytes;
  if (!refused.ok()) {
    request_ = v1::AnalyzeRequest();  // frees the parsed header (Clear keeps its memory)
    FailLocked(refused);
    return ReadAction::kStop;
  }
  header_seen_ = true;
  std::weak_ptr<AnalyzeReactor> weak = weak_from_this();
  MemoryBudget* metadata = env_.metadata;
  if (!metadata->ReserveOrWait(charge, call_id_, [weak, charge, metadata] {
        if (auto self = weak.lock()) {
          self->OnMetadataGranted(charge);
        } else {
          metadata->Release(charge);
        }
      })) {
    waiting_for_metadata_ = true;  // no StartRead until granted
    return ReadAction::kWait;
  }
  metadata_reserved_ = charge;
  return BuildHeaderLocked();
}

AnalyzeReactor::ReadAction AnalyzeReactor::BuildHeaderLocked() {
  const absl::Status st = HandleHeaderLocked(request_.header());
  request_ = v1::AnalyzeRequest();  // frees the parsed header (Clear keeps its memory)
  if (!st.ok()) {
    FailLocked(st);
    return ReadAction::kStop;
  }
  return finish_status_.has_value() ? ReadAction::kStop : ReadAction::kContinue;
}

void AnalyzeReactor::OnMetadataGranted(uint64_t bytes) {
  ReadAction action = ReadAction::kStop;
  {
    absl::MutexLock lock(&mu_);
    waiting_for_metadata_ = false;
    if (finish_status_.has_value()) {
      metadata_release_pending_ += bytes;  // the call ended while waiting
    } else {
      metadata_reserved_ = bytes;
      action = BuildHeaderLocked();
      if (action == ReadAction::kContinue) NoteReadLocked();
    }
  }
  FlushBudget();
  Pump();
  if (action == ReadAction::kContinue) StartRead(&request_);
}

absl::Status AnalyzeReactor::HandleHeaderLocked(const v1::AnalyzeHeader& header) {
  model_name_ = header.model_name().substr(0, kMaxModelNameLog);

  tensors_.reserve(header.tensors_size());
  for (const v1::TensorMeta& meta : header.tensors()) {
    absl::StatusOr<TensorInfo> info = FromProto(meta);
    if (!info.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("header.tensors[", tensors_.size(), "]: ", info.status().message()));
    }
    tensors_.push_back(*std::move(info));
  }
  absl::StatusOr<AnalysisOptions> options = FromProto(header.options());
  if (!options.ok()) return options.status();
  HTSR_ASSIGN_OR_RETURN(engine_, env_.engines->Get(*options, header.keep_evals()));

  std::vector<size_t> all_index;
  const std::vector<LayerPlan> all_plans = PlanModel(tensors_, *options, &all_index);
  // --layers: unselected layers are left out entirely; ids stay those of the full plan.
  std::vector<LayerPlan> plans;
  std::vector<size_t> index;
  const std::set<int32_t> selected(header.layer_ids().begin(), header.layer_ids().end());
  for (size_t k = 0; k < all_plans.size(); ++k) {
    if (selected.empty() || selected.count(all_plans[k].layer_id)) {
      plans.push_back(all_plans[k]);
      index.push_back(all_index[k]);
    }
  }
  layers_expected_ = plans.size();
  for (const LayerPlan& plan : plans) small_layers_ += SolvesAlone(*engine_, plan) ? 0 : 1;
  tensor_state_.assign(tensors_.size(), TensorState::kNotRequested);
  plan_of_tensor_.assign(tensors_.size(), LayerPlan{});

  v1::AnalyzeResponse plan_msg;
  v1::ModelPlan* model_plan = plan_msg.mutable_plan();
  std::vector<std::vector<LayerResult>> immediate;
  for (size_t k = 0; k < plans.size(); ++k) {
    const LayerPlan& plan = plans[k];
    const size_t t = index[k];
    v1::LayerPlan* p = model_plan->add_layers();
    ToProto(plan, p);
    p->set_tensor_index(static_cast<uint32_t>(t));
    if (!plan.analyse) {
      immediate.push_back(engine_->AnalyzeLayerRows(plan, TensorView{}));
      continue;
    }
    const std::optional<uint64_t> bytes = TensorBytes(tensors_[t]);
    if (!bytes.has_value() || *bytes > env_.config->max_layer_bytes) {
      immediate.push_back({FailedRowLocked(
          plan, absl::StrCat("tensor ", tensors_[t].name, " ", ShapeString(tensors_[t].shape),
                             " is above the server's limit of ", env_.config->max_layer_bytes,
                             " bytes per layer (--max-layer-bytes)"))});
      continue;
    }
    tensor_state_[t] = TensorState::kRequested;
    plan_of_tensor_[t] = plan;
    model_plan->add_requested_tensors(static_cast<uint32_t>(t));
    ++tensors_outstanding_;
  }
  EnqueueLocked(std::move(plan_msg));
  for (std::vector<LayerResult>& rows : immediate) AddLayerLocked(std::move(rows));
  if (layers_expected_ == 0) AddLayerLocked({});  // only emits the summary
  return absl::OkStatus();
}

absl::StatusOr<AnalyzeReactor::ReadAction> AnalyzeReactor::HandleChunkLocked(
    const v1::TensorChunk& chunk) {
  if (!header_seen_) return absl::InvalidArgumentError("first message must be the header");
  if (!first_chunk_time_.has_value()) first_chunk_time_ = absl::Now();
  const uint64_t t = chunk.tensor_index();
  if (t >= tensors_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk for tensor_index ", t, ": the header lists ", tensors_.size()));
  }
  const TensorInfo& info = tensors_[t];
  // Redundant metadata, when the client sends it, must agree with the header.
  if (!chunk.name().empty() && chunk.name() != info.name) {
    return absl::InvalidArgumentError(absl::StrCat("chunk for tensor_index ", t, " names '",
                                                   chunk.name(), "', header says '", info.name,
                                                   "'"));
  }
  if (chunk.dtype() != v1::DTYPE_UNSPECIFIED && chunk.dtype() != ToProto(info.dtype)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", info.name, "': chunk dtype differs from the header"));
  }
  if (chunk.shape_size() > 0 && !std::equal(chunk.shape().begin(), chunk.shape().end(),
                                            info.shape.begin(), info.shape.end())) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", info.name, "': chunk shape ",
                     ShapeString(std::vector<int64_t>(chunk.shape().begin(), chunk.shape().end())),
                     " differs from the header's ", ShapeString(info.shape)));
  }

  if (assembly_.active) {
    if (t != assembly_.index) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunk for '", info.name, "' while '", tensors_[assembly_.index].name,
          "' is incomplete (", assembly_.received, " of ", assembly_.expected, " bytes)"));
    }
    HTSR_RETURN_IF_ERROR(AppendLocked(chunk));
    return ReadAction::kContinue;
  }

  if (tensor_state_[t] != TensorState::kRequested) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", info.name, "' was ",
        tensor_state_[t] == TensorState::kReceived ? "already sent" : "not requested"));
  }
  if (chunk.offset() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", info.name, "': first chunk has offset ", chunk.offset(), ", expected 0"));
  }
  if (!chunk.client_error().empty()) {
    // The client could not read it: the same failed row embedded mode would report.
    tensor_state_[t] = TensorState::kReceived;
    --tensors_outstanding_;
    last_tensor_time_ = absl::Now();
    AddLayerLocked({FailedRowLocked(plan_of_tensor_[t], chunk.client_error())});
    return ReadAction::kContinue;
  }

  tensor_state_[t] = TensorState::kReceiving;
  assembly_ = Assembly{};
  assembly_.active = true;
  assembly_.index = t;
  assembly_.expected = *TensorBytes(info);  // checked against max_layer_bytes in the header
  std::weak_ptr<AnalyzeReactor> weak = weak_from_this();
  const uint64_t want = assembly_.expected;
  MemoryBudget* budget = env_.budget;
  if (!env_.budget->ReserveOrWait(want, call_id_, [weak, want, budget] {
        if (auto self = weak.lock()) {
          self->OnBytesGranted(want);
        } else {
          budget->Release(want);  // the call is gone: give the grant back
        }
      })) {
    // Backpressure: no StartRead until the budget grants the bytes.
    waiting_for_bytes_ = true;
    return ReadAction::kWait;
  }
  HTSR_RETURN_IF_ERROR(StartBufferLocked(chunk, want));
  return ReadAction::kContinue;
}

absl::Status AnalyzeReactor::StartBufferLocked(const v1::TensorChunk& first_chunk,
                                               uint64_t reserved) {
  assembly_.reserved = reserved;
  try {
    assembly_.buffer = env_.buffers->Acquire(assembly_.expected);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("server out of memory for a tensor buffer of ",
                                                     assembly_.expected, " bytes ('",
                                                     tensors_[assembly_.index].name, "')"));
  }
  return AppendLocked(first_chunk);
}

void AnalyzeReactor::OnBytesGranted(uint64_t bytes) {
  bool resume = false;
  {
    absl::MutexLock lock(&mu_);
    waiting_for_bytes_ = false;
    if (finish_status_.has_value() || !assembly_.active) {
      release_pending_ += bytes;  // the call ended while waiting
    } else {
      const absl::Status st = StartBufferLocked(request_.chunk(), bytes);
      request_.Clear();
      if (st.ok()) {
        resume = !finish_status_.has_value();
        if (resume) NoteReadLocked();
      } else {
        FailLocked(st);
      }
    }
  }
  FlushBudget();
  Pump();
  if (resume) StartRead(&request_);
}

absl::Status AnalyzeReactor::AppendLocked(const v1::TensorChunk& chunk) {
  const TensorInfo& info = tensors_[assembly_.index];
  const std::string& data = chunk.data();
  if (data.size() > env_.config->max_chunk_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", info.name, "': chunk of ",
                                                   data.size(), " bytes exceeds the limit of ",
                                                   env_.config->max_chunk_bytes));
  }
  if (chunk.offset() != assembly_.received) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", info.name, "': chunk offset ",
                                                   chunk.offset(), ", expected ",
                                                   assembly_.received));
  }
  if (data.size() > assembly_.expected - assembly_.received) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", info.name, "': bytes beyond its declared size (",
        std::string(DTypeName(info.dtype)), " ", ShapeString(info.shape), " = ", assembly_.expected,
        " bytes; chunk at offset ", chunk.offset(), " has ", data.size(), ")"));
  }
  std::memcpy(assembly_.buffer.get() + assembly_.received, data.data(), data.size());
  assembly_.received += data.size();
  bytes_received_ += data.size();
  if (assembly_.received == assembly_.expected) SubmitLocked();
  return absl::OkStatus();
}

void AnalyzeReactor::SubmitLocked() {
  const size_t t = assembly_.index;
  WorkItem item;
  item.call_id = call_id_;
  item.sink = shared_from_this();
  item.plan = plan_of_tensor_[t];
  item.tensor.info = tensors_[t];
  item.tensor.bytes = std::span<const std::byte>(assembly_.buffer.get(), assembly_.expected);
  item.tensor.owner = std::move(assembly_.buffer);
  item.bytes = assembly_.reserved;
  item.budget = env_.budget;  // the tenant's, in front of the server's
  item.all_blas_threads = RunsWithAllThreads(*engine_, item.plan, small_layers_);
  assembly_ = Assembly{};
  tensor_state_[t] = TensorState::kReceived;
  --tensors_outstanding_;
  ++tensors_received_;
  last_tensor_time_ = absl::Now();
  env_.queue->Push(std::move(item));
}

// ---------------------------------------------------------------------------------------
// Results and writing

void AnalyzeReactor::OnLayerDone(std::vector<LayerResult> rows) {
  {
    absl::MutexLock lock(&mu_);
    if (finish_status_.has_value()) return;
    AddLayerLocked(std::move(rows));
  }
  Pump();
}

void AnalyzeReactor::AddLayerLocked(std::vector<LayerResult> rows) {
  for (LayerResult& row : rows) {
    v1::AnalyzeResponse msg;
    ToProto(row, msg.mutable_layer());
    EnqueueLocked(std::move(msg));
    row.evals.clear();
    row.evals.shrink_to_fit();
    results_.push_back(std::move(row));
  }
  if (layers_expected_ > 0) ++layers_done_;
  if (layers_done_ == layers_expected_) {
    v1::AnalyzeResponse msg;
    v1::ModelSummary* summary = msg.mutable_summary();
    SortInLayerOrder(results_);
    ToProto(Summarize(results_), summary);
    summary->set_model_name(model_name_);
    EnqueueLocked(std::move(msg));
    finish_status_ = grpc::Status::OK;
  }
}

void AnalyzeReactor::EnqueueLocked(v1::AnalyzeResponse response) {
  outbox_.push_back(std::move(response));
}

void AnalyzeReactor::Pump() {
  absl::ReleasableMutexLock lock(&mu_);
  if (writing_ || finish_issued_ || done_) return;
  if (!outbox_.empty()) {
    write_ = std::move(outbox_.front());
    outbox_.pop_front();
    writing_ = true;
    lock.Release();
    StartWrite(&write_);
    return;
  }
  if (finish_status_.has_value()) {
    finish_issued_ = true;
    const grpc::Status status = *finish_status_;
    lock.Release();
    Finish(status);
  }
}

void AnalyzeReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) FailLocked(absl::CancelledError("client stopped receiving"));
  }
  FlushBudget();
  Pump();
}

// ---------------------------------------------------------------------------------------
// Ending

absl::Status AnalyzeReactor::CheckDurationLocked() const {
  const absl::Duration limit = env_.config->max_call_duration;
  if (limit > absl::ZeroDuration() && absl::Now() - start_time_ > limit) {
    return absl::DeadlineExceededError("call exceeded the server's --max-call-seconds");
  }
  return absl::OkStatus();
}

void AnalyzeReactor::FailLocked(const absl::Status& status) {
  // The first final status wins (a completed call that is then cancelled stays OK).
  if (!finish_status_.has_value()) finish_status_ = ToGrpcStatus(status);
  // Results not yet written are pointless now; free everything at once.
  outbox_.clear();
  abandoned_.store(true, std::memory_order_release);
  ReleaseResourcesLocked();
}

void AnalyzeReactor::ReleaseResourcesLocked() {
  if (assembly_.active || assembly_.buffer) {
    release_pending_ += assembly_.reserved;
    assembly_ = Assembly{};
  }
  if (waiting_for_bytes_) {
    cancel_wait_pending_ = true;
    waiting_for_bytes_ = false;
  }
  if (waiting_for_metadata_) {
    cancel_metadata_wait_pending_ = true;
    waiting_for_metadata_ = false;
  }
  for (WorkItem& item : env_.queue->RemoveCall(call_id_)) {
    release_pending_ += item.bytes;
    item.tensor.owner.reset();
  }
}

void AnalyzeReactor::FlushBudget() {
  uint64_t release = 0;
  bool cancel_wait = false;
  uint64_t metadata_release = 0;
  bool cancel_metadata_wait = false;
  {
    absl::MutexLock lock(&mu_);
    release = std::exchange(release_pending_, 0);
    cancel_wait = std::exchange(cancel_wait_pending_, false);
    metadata_release = std::exchange(metadata_release_pending_, 0);
    cancel_metadata_wait = std::exchange(cancel_metadata_wait_pending_, false);
  }
  // CancelWait false = granted meanwhile: OnBytesGranted sees the ended call and releases.
  if (cancel_wait) env_.budget->CancelWait(call_id_);
  if (release > 0) env_.budget->Release(release);
  if (cancel_metadata_wait) env_.metadata->CancelWait(call_id_);
  if (metadata_release > 0) env_.metadata->Release(metadata_release);
}

void AnalyzeReactor::CheckTimers(absl::Time now) {
  const ServerConfig& c = *env_.config;
  const bool others_wait = env_.budget->waiters() > 0;
  {
    absl::MutexLock lock(&mu_);
    if (finish_status_.has_value() || done_) return;
    // Only while the server waits on the client: not while it holds the client back
    // (budget), nor while it computes the rows of tensors already sent.
    const bool awaiting_client = reading_ && (!header_seen_ || tensors_outstanding_ > 0);
    const absl::Duration quiet = now - last_read_time_;
    if (c.max_call_duration > absl::ZeroDuration() && now - start_time_ > c.max_call_duration) {
      FailLocked(absl::DeadlineExceededError(
          absl::StrCat("call exceeded the server's --max-call-seconds (",
                       absl::ToDoubleSeconds(c.max_call_duration), " s)")));
    } else if (awaiting_client && c.idle_duration > absl::ZeroDuration() &&
               quiet > c.idle_duration) {
      FailLocked(absl::DeadlineExceededError(absl::StrCat("no data for ",
                                                          absl::ToDoubleSeconds(c.idle_duration),
                                                          " s (the server's --idle-seconds)")));
    } else if (awaiting_client && others_wait && c.stall_duration > absl::ZeroDuration() &&
               assembly_.active && assembly_.reserved > 0 && quiet > c.stall_duration) {
      FailLocked(absl::DeadlineExceededError(
          absl::StrCat("no data for ", absl::ToDoubleSeconds(c.stall_duration), " s while holding ",
                       assembly_.reserved,
                       " bytes of the budget that other calls wait for (the server's "
                       "--stall-seconds)")));
    } else {
      return;
    }
  }
  FlushBudget();
  Pump();
}

void AnalyzeReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    // A read fails before OnCancel when the client cancels or its deadline passes: the
    // cancel, not "stream ended early", is what happened.
    if (ended_by_stream_) {
      finish_status_.reset();
      ended_by_stream_ = false;
    }
    FailLocked(CancelStatus());
  }
  FlushBudget();
  Pump();
}

void AnalyzeReactor::OnDone() {
  CallRecord record;
  bool trim = false;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    abandoned_.store(true, std::memory_order_release);
    ReleaseResourcesLocked();
    record.call_id = call_id_;
    record.method = "Analyze";
    record.peer = peer_;
    record.model = model_name_;
    if (env_.tenant) record.tenant = env_.tenant->name;
    record.layers = static_cast<int64_t>(results_.size());
    record.tensors = tensors_received_;
    record.bytes = bytes_received_;
    record.seconds = absl::ToDoubleSeconds(absl::Now() - start_time_);
    if (first_chunk_time_.has_value() && last_tensor_time_ > *first_chunk_time_) {
      record.receive_seconds = absl::ToDoubleSeconds(last_tensor_time_ - *first_chunk_time_);
    }
    const grpc::Status st = finish_status_.value_or(grpc::Status::OK);
    record.code = GrpcCodeName(static_cast<int>(st.error_code()));
    record.message = st.error_message();
    // Everything the header built goes now (the object may live on while queued work
    // holds it), then its charge.
    std::vector<LayerResult>().swap(results_);
    std::deque<v1::AnalyzeResponse>().swap(outbox_);
    std::vector<TensorInfo>().swap(tensors_);
    std::vector<TensorState>().swap(tensor_state_);
    std::vector<LayerPlan>().swap(plan_of_tensor_);
    trim = trim_on_done_;
    metadata_release_pending_ += std::exchange(metadata_reserved_, 0);
  }
#if defined(__GLIBC__)
  // Many small blocks freed at once stay in malloc's heaps otherwise (measured: RSS stayed
  // 2.7 GB after four amplification headers).
  if (trim) malloc_trim(0);
#endif
  if (env_.watchdog != nullptr) env_.watchdog->Remove(call_id_);
  FlushBudget();
  if (env_.config->log_calls) LogCall(record);
  if (env_.metrics) env_.metrics->CallFinished(record.tenant, record, /*admitted=*/true);
  if (env_.tenant) TenantRegistry::Release(*env_.tenant);
  env_.active_calls->fetch_sub(1);
  // Queued work may still hold references; the object goes when the last one does
  // (possibly right here, at the end of this scope).
  std::shared_ptr<AnalyzeReactor> last = std::move(self_);
}

}  // namespace htsr::server
