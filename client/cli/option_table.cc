// Every option of every command, once, with the commands that take it. --format is not
// here: each command's table entry lists its formats (cli/command_table.cc).
#include "cli/command.h"

namespace htsr::cli {
namespace {

// Commands that analyse checkpoints, and those that also select layers (describe).
constexpr uint32_t kAnalysing = kAnalyze | kScan | kCheck | kReport | kRank;
constexpr uint32_t kSelecting = kAnalysing | kDescribe;
constexpr uint32_t kRemote = kAnalyze | kScan | kCheck | kRank;
constexpr uint32_t kTrends = kCompare | kReport;
constexpr uint32_t kTargets = kTrends | kRank;  // where accuracies come from

constexpr OptionSpec kOptions[] = {
    // Where the output goes and how much is said on the way.
    {"out", "FILE", "write the output to FILE instead of stdout", "",
     kAnalyze | kCompare | kExport | kRank},
    {"out", "FILE|DIR", "the HTML file, or the directory for --format svg",
     "report.html, or report_svg/", kReport},
    {"save-esd", "DIR",
     "also write each analysed layer's eigenvalues (float64 .npy, ascending) and a JSON index "
     "per model into DIR",
     "", kAnalyze},
    {"plot", "DIR",
     "also write each analysed layer's ESD as an SVG into DIR (log-log with the fit and xmin; "
     "with --mp-fit a linear one with the Marchenko-Pastur bulk)",
     "", kAnalyze},
    {"quiet", "", "no progress bar and no notes on stderr", "",
     kAnalyze | kCheck | kReport | kRank},
    {"quiet", "", "no progress bar and no per-checkpoint failure lines", "", kScan},

    // Deltas against a base model (analyze; scan takes a manifest's base column).
    {"base", "FILE",
     "analyse W - W_base for every layer also in FILE (same name and shape), with distances "
     "and the change of alpha, log_norm and log_spectral_norm; for a LoRA adapter, its updates "
     "with the merged W + s*B*A compared against FILE's weights",
     "", kAnalyze},

    // scan and export: the database.
    {"db", "FILE", "the SQLite database (created when missing)", "scan.sqlite", kScan},
    {"db", "FILE", "the scan database", "scan.sqlite", kExport},
    {"manifest", "FILE", "checkpoints to scan, one per line (tab/comma columns)", "", kScan},
    {"jobs", "N", "checkpoints analysed at once", "1 embedded, 4 with --server", kScan},
    {"force", "", "re-analyse checkpoints already done", "", kScan},
    {"table", "checkpoints|layers", "the table CSV writes", "checkpoints", kExport},

    // check: the gate's rules (they override --policy's).
    {"policy", "FILE", "policy file (.json, .yaml)", "", kCheck},
    {"max-alpha", "X", "every analysed layer's alpha <= X (6: under-trained above)", "", kCheck},
    {"min-alpha", "X", "every analysed layer's alpha >= X (2: over-trained below)", "", kCheck},
    {"max-log-spectral-norm", "X", "every analysed layer's log10 lambda_max <= X", "", kCheck},
    {"max-failed-layers", "N", "layers the engine could not analyse", "", kCheck},
    {"max-under-trained-layers", "N", "layers with alpha > 6", "", kCheck},
    {"max-over-trained-layers", "N", "layers with alpha < 2", "", kCheck},
    {"min-analyzed-layers", "N", "at least N layers analysed (guards empty models)", "", kCheck},
    {"max-mean-alpha", "X", "mean alpha over analysed layers <= X", "", kCheck},
    {"min-mean-alpha", "X", "mean alpha over analysed layers >= X", "", kCheck},
    {"max-mean-log-spectral-norm", "X", "mean log10 lambda_max <= X", "", kCheck},
    {"ignore-layers", "PATTERNS",
     "comma list of layer-name globs or substrings exempt from the rules", "", kCheck},

    // report.
    {"title", "TEXT", "the report's title", "htsr report", kReport},
    {"esd-layers", "LIST", "layer ids or names whose ESD to draw (comma separated)", "the worst",
     kReport},
    {"esd-count", "N", "how many of the worst layers per model get an ESD", "4", kReport},

    // Trends: where accuracies come from, which series and metrics (compare, report).
    {"accuracy", "FILE",
     "accuracies or errors per model: CSV with a model column and a value column (and "
     "optionally series), or bare 'model,value' lines",
     "", kTargets},
    {"accuracy-column", "NAME", "the value column of --accuracy",
     "accuracy, top1_acc, acc, top1_err, error, ...", kTargets},
    {"series", "NAME", "only this series of the --accuracy file", "", kTargets},
    {"target", "accuracy|error", "what the values are", "error when the column says err", kTargets},
    {"target-column", "NAME",
     "use this per-model column of the inputs as the target (summary CSVs that carry "
     "accuracies)",
     "", kTargets},
    {"metrics", "LIST", "model-level metrics to regress on (comma separated; any summary key)",
     "log_norm,log_spectral_norm,alpha_weighted,log_alpha_norm,alpha", kTrends},
    {"outlier-threshold", "Z", "flag models whose studentized residual exceeds Z", "2", kTrends},

    // rank.
    {"by", "METRIC", "order by this model-level metric, lower is better (any summary key)",
     "alpha_weighted", kRank},
    {"group-by", "RULE",
     "series for inputs without one: 'dir' (the input's directory) or a regular expression on "
     "the model name (its first group)",
     "", kRank},

    // Layer selection and the size filter (also describe).
    {"layers", "SPEC",
     "layers to analyse: ids (3), ranges (2-5), types (dense, conv1d, conv2d), names "
     "(substring or glob); prefix '!' to exclude, e.g. --layers 'conv2d,!downsample'",
     "all", kSelecting},
    {"all-tensors", "", "analyse every floating tensor of rank >= 2, not only *.weight", "",
     kSelecting},
    {"min-evals", "N", "skip layers with fewer eigenvalues (M*rf)", "8", kSelecting},
    {"max-evals", "N", "skip layers with more eigenvalues (M*rf)", "15000", kSelecting},
    {"max-n", "N", "skip layers whose larger side N exceeds this", "50000", kSelecting},
    {"reference-layer-set", "",
     "skip exactly the layers weightwatcher 0.7.7 skips (its conv2d N/M exchange in the size "
     "filter, no 3-D tensors); N, M and spectra stay htsr's",
     "", kSelecting},

    // The fit and analysis options, and the engine.
    {"fit", "pl|tpl|e_tpl",
     "tail fit: power law, truncated power law (adds Lambda, tpl_R, tpl_p), or E_TPL (TPL with "
     "xmin near the ESD's peak)",
     "pl", kAnalysing},
    {"fix-fingers", "clip_xmax", "refit without the largest eigenvalues when they distort the fit",
     "off", kAnalysing},
    {"xmax", "-K", "drop the K largest eigenvalues before fitting", "", kAnalysing},
    {"mp-fit", "", "fit the Marchenko-Pastur bulk (num_spikes, sigma_mp, mp_softrank)", "",
     kAnalysing},
    {"randomize", "",
     "compare with the spectrum of the shuffled weights (rand_distance, correlation traps)", "",
     kAnalysing},
    {"seed", "N", "seed for --randomize", "0", kAnalysing},
    {"detx", "", "detX: where the product of the largest (rescaled) eigenvalues drops below 1", "",
     kAnalysing},
    {"normalize", "", "divide eigenvalues by N (the paper's X = W^T W / N)", "", kAnalysing},
    {"no-pool", "", "do not pool conv slices into one spectrum", "", kAnalysing},
    {"precision", "f64|f32", "eigensolver precision; f32 is faster, alpha to ~1e-4", "f64",
     kAnalysing},
    {"device", "auto|cpu|cuda|cuda:N",
     "compute device; auto uses a GPU when one is visible; cuda:N picks GPU N", "cpu", kAnalysing},
    {"cuda-lanes", "N", "layers in flight on the GPU at once (1-8)", "HTSR_CUDA_LANES, else 2",
     kAnalysing},
    {"threads", "N", "worker threads", "all cores", kAnalysing},

    // Remote mode: the same analysis on htsr-server (a pool of them).
    {"server", "ADDR",
     "analyse on htsr-server instead of in-process: host:port, a comma list of IP:port, or a "
     "DNS name resolving to many servers (round_robin over all)",
     "", kRemote},
    {"tls-ca", "FILE", "PEM CA bundle to verify the servers (enables TLS)", "", kRemote},
    {"tls-cert", "FILE", "client certificate (PEM) for mTLS", "", kRemote},
    {"tls-key", "FILE", "client key (PEM) for mTLS", "", kRemote},
    {"tls-server-name", "NAME", "name to check the server certificate against", "", kRemote},
    {"token-file", "FILE", "file whose first line is the bearer token", "", kRemote},
    {"deadline", "SECONDS", "deadline of one remote call", "120 + 1 s per MiB sent", kRemote},
    {"retries", "N", "retries of a checkpoint whose server failed", "3", kRemote},
    {"streams", "N",
     "concurrent calls (connections) one model's layers are split over: faster transfer of a "
     "large model; same results",
     "1", kRemote},
};

}  // namespace

std::span<const OptionSpec> AllOptions() { return kOptions; }

}  // namespace htsr::cli
