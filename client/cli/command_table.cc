// Every command, once: its usage, help text, positional arguments and output formats.
#include "cli/command.h"

namespace htsr::cli {
namespace {

constexpr CommandSpec kCommands[] = {
    {"analyze", kAnalyze, "PATH... [options]",
     "per-layer alpha, norms and diagnostics, and the model summary",
     "Computes heavy-tailed self-regularization metrics for every layer of each model:\n"
     "the eigenvalues of W^T W, a power-law fit of their tail (alpha, by maximum\n"
     "likelihood with xmin at the smallest KS distance), norm metrics, and a model\n"
     "summary. PATH is a .safetensors, .pt/.pth/.bin, .npy, .npz or .gguf file (the\n"
     "format is read from its bytes), a Hugging Face style directory (sharded checkpoints\n"
     "via their *.index.json), or any other directory: every checkpoint under it, one\n"
     "summary each. Runs in-process; no server or GPU needed.\n\n"
     "Exit status: 0 ok; 1 some layers failed (listed on stderr); 2 usage error or\n"
     "unreadable input.",
     "PATH", 1, -1, "table|csv|json", RunAnalyze},
    {"describe", kDescribe, "PATH... [options]",
     "the layers analyze would analyse or skip, without computing",
     "Lists the layers that 'htsr analyze' would analyse, and those it would skip with\n"
     "the reason, from the checkpoint's metadata alone: no weight is read, nothing is\n"
     "computed.",
     "PATH", 1, -1, "table|csv|json", RunDescribe},
    {"scan", kScan, "INPUT... [--manifest FILE] [options]",
     "many checkpoints into a resumable SQLite database (--server: a pool)",
     "Analyses many checkpoints (every epoch of a run, a model zoo) into a SQLite\n"
     "database: one row per checkpoint (path, content hash, status, timings, server,\n"
     "model summary) and one per layer, each checkpoint written in one transaction.\n"
     "Run it again with the same --db and it skips checkpoints already done (same\n"
     "content hash and options) and retries failed ones, so Ctrl-C, a crash or a\n"
     "killed server lose nothing. INPUT is a checkpoint file, a quoted glob, or a\n"
     "directory (searched for checkpoints). A manifest lists one checkpoint per line\n"
     "with optional extra columns (model name, accuracy, ...) kept with the results.\n"
     "'htsr export --db FILE' writes the tables as CSV or JSON.\n\n"
     "Exit status: 0 all ok; 1 some checkpoints failed (listed on stderr); 2 usage or\n"
     "database error; 130 interrupted (re-run to resume).",
     "INPUT", 0, -1, "", RunScan},
    {"check", kCheck, "MODEL... [--policy FILE] [--max-alpha X ...] [options]",
     "exit 1 when a policy (--policy FILE, --max-alpha ...) is violated",
     "Analyses each MODEL (embedded, or on --server) and checks it against a policy:\n"
     "rules from --policy FILE (JSON, or YAML 'key: value' lines and lists) and from\n"
     "the rule flags below, which override the file. For registry upload hooks and CI\n"
     "gates (see deploy/hooks/).\n\n"
     "Exit status: 0 every model passes; 1 some rule is violated (one line per\n"
     "violated rule on stdout); 2 usage error or a model that cannot be read.",
     "MODEL", 1, -1, "text|json", RunCheck},
    {"export", kExport, "--db FILE [--format csv|json] [--table checkpoints|layers]",
     "a scan database as CSV or JSON",
     "Writes the tables of an 'htsr scan' database. CSV writes one table: checkpoints\n"
     "(one row each: path, hash, status, error, timings, server, model summary and the\n"
     "manifest's extra columns) or layers (one row per layer, led by the checkpoint\n"
     "path, the reference tool's column names). JSON nests layers in checkpoints.",
     "", 0, 0, "csv|json", RunExport},
    {"compare", kCompare, "FILE... [options]",
     "accuracy vs model metrics within a series (RMSE, R^2, Kendall tau)",
     "Regresses accuracy (or error) on model-level metrics within each model series,\n"
     "as in Martin, Peng & Mahoney (2021), Table 1: least squares with RMSE, R^2 and\n"
     "Kendall tau, models that disagree with their series' trend, layers whose alpha is\n"
     "outside [2, 6], and scale collapse between comparable models. FILE is htsr analyze\n"
     "output (--format json|csv), an htsr scan database (.sqlite/.db; its manifest's extra\n"
     "columns model, series, accuracy are used), a weightwatcher per-layer CSV or summary\n"
     "dict (get_summary() as text), or a CSV of one row per model (a model column and\n"
     "metric columns). Accuracies come from --accuracy FILE, --target-column, or else a\n"
     "column named accuracy/top1_acc/acc/top1_err/error in the inputs. Series come from a\n"
     "series column of the accuracy file or of the inputs.\n\n"
     "Exit status: 0 ok; 2 usage error or unreadable input.",
     "FILE", 1, -1, "table|csv|json", RunCompare},
    {"rank", kRank, "INPUT... [--by METRIC] [--layers SPEC] [--group-by RULE] [options]",
     "models ordered by predicted quality, without any data (alpha_weighted, ...)",
     "Ranks models by their model-level HT-SR metrics, as the paper does without training\n"
     "or test data: one row per model with mean log_norm, log_spectral_norm, alpha,\n"
     "alpha_weighted and log_alpha_norm, the layers analysed/skipped/failed, and its\n"
     "diagnostics (layers with alpha outside [2, 6], scale collapse against comparable\n"
     "models of its series), ordered best first by --by (lower is better). Models are\n"
     "grouped by series: a series column of the inputs or of --accuracy, or --group-by.\n"
     "INPUT is a checkpoint (analysed here, or on --server), htsr analyze JSON/CSV, a scan\n"
     "database, a weightwatcher per-layer CSV (0.2.x LEVEL.SLICE/LEVEL.LAYER rows too) or\n"
     "summary dict, or a CSV of one row per model. --layers applies to every input with\n"
     "per-layer rows (e.g. --layers '!1' leaves out a language model's token embedding).\n"
     "Where accuracies are known (--accuracy, or a column of the inputs), each series\n"
     "also gets the Kendall tau of the predicted order against the actual one. Models in\n"
     "which no layer was analysed have no values and are left out, with a note.\n\n"
     "Exit status: 0 ok; 2 usage error, unreadable input, or no model to rank.",
     "INPUT", 1, -1, "table|csv|json", RunRank},
    {"report", kReport, "MODEL|RESULTS... [--out report.html] [options]",
     "a self-contained HTML report with charts (--format svg)",
     "Writes one self-contained HTML file (inline SVG, no network): each model's summary\n"
     "and diagnostics in plain words, a sortable per-layer table, correlation flow (alpha\n"
     "by depth with the 2..6 band), log spectral norm and alpha_weighted by depth, and the\n"
     "ESD of chosen layers (default: the worst ones) with the fitted power law and the MP\n"
     "bulk (--mp-fit). Several models are overlaid; with --accuracy the trend table and\n"
     "scatter plots of 'htsr compare' are added. MODEL is a checkpoint (analysed here, as\n"
     "by 'htsr analyze'); RESULTS is a .json/.csv/.txt result file (no spectra: those are\n"
     "not stored in results). --format svg writes each chart as DIR/NAME.svg instead.\n\n"
     "Exit status: 0 ok; 1 some layers failed; 2 usage error or unreadable input.",
     "MODEL or RESULTS", 1, -1, "html|svg", RunReport},
};

}  // namespace

std::span<const CommandSpec> AllCommands() { return kCommands; }

}  // namespace htsr::cli
