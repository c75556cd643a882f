// One Analyze call: a gRPC callback reactor that only moves bytes. It validates the
// stream, assembles requested tensors into buffers reserved from the MemoryBudget, hands
// them to the WorkQueue and streams results back as workers finish them.
//
// Concurrency: reactions (reads, writes, cancel) and worker deliveries run on different
// threads; all state is under mu_. gRPC operations (StartRead/StartWrite/Finish) and
// budget calls that may run other reactors' callbacks are made with mu_ released, so two
// reactors can never wait on each other. Writes and Finish are serialised by one "writing"
// token: Finish is only issued when no write is in flight.
//
// Hostile clients: a header above --max-tensors-per-call is refused before anything is
// built from it, and its estimated footprint is reserved in the metadata budget first;
// the CallWatchdog's timers end calls that go quiet (--idle-seconds, --stall-seconds) or
// run too long (--max-call-seconds).
#ifndef HTSR_SERVER_ANALYZE_REACTOR_H_
#define HTSR_SERVER_ANALYZE_REACTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "htsr/engine.h"
#include "htsr/v1/analysis.pb.h"
#include "server/call_watchdog.h"
#include "server/engine_cache.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/server_config.h"
#include "server/tenants.h"
#include "server/tensor_buffer_pool.h"
#include "server/work_queue.h"

namespace htsr::server {

// What all calls share; owned by the server, outlives every reactor's use of it through
// the calls' lifetimes (the server shuts gRPC down before destroying it).
struct CallEnvironment {
  const ServerConfig* config = nullptr;
  MemoryBudget* budget = nullptr;
  MemoryBudget* metadata = nullptr;  // what headers build (--metadata-bytes)
  CallWatchdog* watchdog = nullptr;  // timers: --idle-seconds, --stall-seconds, ...
  WorkQueue* queue = nullptr;
  EngineCache* engines = nullptr;
  TensorBufferPool* buffers = nullptr;
  std::atomic<uint32_t>* active_calls = nullptr;  // decremented when a call is done
  ServerMetrics* metrics = nullptr;               // null = none (unit tests)
  std::shared_ptr<Tenant> tenant;                 // this call's; its slot is released when done
};

class AnalyzeReactor final
    : public grpc::ServerBidiReactor<v1::AnalyzeRequest, v1::AnalyzeResponse>,
      public LayerSink,
      public CallWatchdog::Watched,
      public std::enable_shared_from_this<AnalyzeReactor> {
 public:
  // Creates the reactor and issues the first read. The reactor keeps itself alive until
  // OnDone (and then as long as queued work still references it).
  static AnalyzeReactor* Start(grpc::CallbackServerContext* context, CallEnvironment env,
                               uint64_t call_id);

  ~AnalyzeReactor() override;

  // LayerSink (worker threads).
  const Engine& engine() const override { return *engine_; }
  bool Abandoned() const override { return abandoned_.load(std::memory_order_acquire); }
  void OnLayerDone(std::vector<LayerResult> rows) override;

  // CallWatchdog (its thread): ends the call when a time limit has passed.
  void CheckTimers(absl::Time now) override ABSL_LOCKS_EXCLUDED(mu_);

  // Bytes charged to --metadata-bytes for a header: an upper estimate of what the reactor
  // builds from it (tensors, plans, rows and their messages).
  static uint64_t HeaderCharge(const v1::AnalyzeHeader& header);

  // gRPC reactions.
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  enum class ReadAction { kContinue, kWait, kStop };
  enum class TensorState : uint8_t { kNotRequested, kRequested, kReceiving, kReceived };

  // The tensor being assembled (chunks of one tensor arrive consecutively).
  struct Assembly {
    bool active = false;
    size_t index = 0;
    uint64_t expected = 0;
    uint64_t received = 0;
    uint64_t reserved = 0;  // bytes held in the budget for `buffer`
    std::shared_ptr<std::byte[]> buffer;
  };

  AnalyzeReactor(grpc::CallbackServerContext* context, CallEnvironment env, uint64_t call_id);

  ReadAction HandleRequestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status HandleHeaderLocked(const v1::AnalyzeHeader& header)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ReadAction> HandleChunkLocked(const v1::TensorChunk& chunk)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AppendLocked(const v1::TensorChunk& chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The budget granted `reserved` bytes for the tensor being assembled: takes its buffer
  // (out of memory is RESOURCE_EXHAUSTED, not a crash) and appends its first chunk.
  absl::Status StartBufferLocked(const v1::TensorChunk& first_chunk, uint64_t reserved)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubmitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnBytesGranted(uint64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);
  // The header in request_: refused over --max-tensors-per-call, else its charge reserved
  // (or waited for) in the metadata budget before anything is built from it.
  ReadAction AdmitHeaderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ReadAction BuildHeaderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnMetadataGranted(uint64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);
  // A read is issued (reading_ and the idle clock) with mu_ held, started without it.
  void NoteReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status of a call gRPC reports cancelled: DEADLINE_EXCEEDED past the client's
  // deadline, else CANCELLED (client cancel, dropped connection, server shutdown).
  absl::Status CancelStatus() const;

  // The rows of one planned layer; the summary follows the last layer.
  void AddLayerLocked(std::vector<LayerResult> rows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  LayerResult FailedRowLocked(const LayerPlan& plan, std::string reason) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnqueueLocked(v1::AnalyzeResponse response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the call with `status` (first one wins); frees every byte the call holds.
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseResourcesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckDurationLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // With mu_ released: budget releases/withdrawals collected under the lock.
  void FlushBudget() ABSL_LOCKS_EXCLUDED(mu_);
  // With mu_ released: starts the next write, or Finish once nothing is left to write.
  void Pump() ABSL_LOCKS_EXCLUDED(mu_);

  grpc::CallbackServerContext* const context_;
  const CallEnvironment env_;
  const uint64_t call_id_;
  const absl::Time start_time_;
  std::string peer_;
  std::shared_ptr<AnalyzeReactor> self_;  // released in OnDone
  std::atomic<bool> abandoned_{false};

  absl::Mutex mu_;
  // Not guarded: gRPC owns each between StartRead/StartWrite and its reaction.
  v1::AnalyzeRequest request_;  // target of the single outstanding read
  v1::AnalyzeResponse write_;   // target of the single outstanding write
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_issued_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_for_bytes_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_for_metadata_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;       // a read is outstanding
  absl::Time last_read_time_ ABSL_GUARDED_BY(mu_);  // last message, or the read's start
  // finish_status_ came from the stream ending early; a cancel seen later replaces it
  // (a read fails before OnCancel when the client cancels or its deadline passes).
  bool ended_by_stream_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t metadata_reserved_ ABSL_GUARDED_BY(mu_) = 0;
  bool trim_on_done_ ABSL_GUARDED_BY(mu_) = false;  // malloc_trim after a large header
  uint64_t metadata_release_pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancel_metadata_wait_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::AnalyzeResponse> outbox_ ABSL_GUARDED_BY(mu_);

  bool header_seen_ ABSL_GUARDED_BY(mu_) = false;
  std::string model_name_ ABSL_GUARDED_BY(mu_);
  // Set once under mu_ by the header, before any work item exists; workers read it after
  // the queue hand-off (engine()), so it is not guarded.
  std::shared_ptr<const Engine> engine_;
  std::vector<TensorInfo> tensors_ ABSL_GUARDED_BY(mu_);
  std::vector<TensorState> tensor_state_ ABSL_GUARDED_BY(mu_);
  std::vector<LayerPlan> plan_of_tensor_
      ABSL_GUARDED_BY(mu_);  // indexed by tensor, valid where requested
  size_t layers_expected_ ABSL_GUARDED_BY(mu_) = 0;
  size_t small_layers_ ABSL_GUARDED_BY(mu_) =
      0;  // plans that are not SolvesAlone (RunsWithAllThreads)
  size_t tensors_outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // requested, not yet fully received
  Assembly assembly_ ABSL_GUARDED_BY(mu_);
  size_t layers_done_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<LayerResult> results_ ABSL_GUARDED_BY(mu_);  // rows, for the summary (evals dropped)

  uint64_t release_pending_ ABSL_GUARDED_BY(mu_) =
      0;  // bytes to give back to the budget outside mu_
  bool cancel_wait_pending_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t bytes_received_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t tensors_received_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> first_chunk_time_
      ABSL_GUARDED_BY(mu_);  // for the call log's receive_seconds
  absl::Time last_tensor_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_ANALYZE_REACTOR_H_
