// Analysing checkpoints on a pool of htsr-server processes (`--server`). The checkpoint is
// read here and its tensors streamed; gRPC's round_robin spreads calls over every address
// of the pool (see pool_target.h). A call that fails because a server went away (stream
// broken, unavailable, deadline) is retried, with exponential backoff, and lands on another
// server; an error that is the checkpoint's own (unreadable, refused as invalid) is not.
// Built only with HTSR_SERVER (HTSR_HAVE_REMOTE defined); no gRPC types here.
#ifndef HTSR_CLIENT_ANALYSIS_REMOTE_POOL_H_
#define HTSR_CLIENT_ANALYSIS_REMOTE_POOL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/layer_filter.h"
#include "htsr/options.h"

namespace htsr::analysis {

struct RemotePoolOptions {
  std::string server;  // --server: address, comma list or DNS name
  std::string tls_ca_file, tls_cert_file, tls_key_file, tls_server_name;
  std::string token;
  double deadline_seconds = 0;   // per call; 0 = none
  int max_attempts = 4;          // calls per checkpoint, first included
  double backoff_seconds = 0.2;  // before the 2nd attempt; doubles, capped at 5 s
  int streams = 1;               // --streams: calls one model is split over
  bool keep_evals = false;       // return each layer's spectrum (analyze --save-esd, --plot)
};

// True for the gRPC codes a retry on another server can cure.
bool IsRetryable(const absl::Status& status);

#ifdef HTSR_HAVE_REMOTE
absl::StatusOr<CheckpointAnalyzer> MakeRemoteAnalyzer(const RemotePoolOptions& pool,
                                                      const AnalysisOptions& options,
                                                      analysis::LayerFilter filter);
// analyze --base / a manifest's base column on the pool (remote_pool_analyzer.cc says how).
absl::StatusOr<BaseCheckpointAnalyzer> MakeRemoteBaseAnalyzer(const RemotePoolOptions& pool,
                                                              const AnalysisOptions& options,
                                                              analysis::LayerFilter filter);
#endif

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_REMOTE_POOL_H_
