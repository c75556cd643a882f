// Turns what the user typed after `htsr scan` into the list of checkpoints to scan.
//
// Each input is a checkpoint file, a glob (quoted, so the shell leaves it to us), or a
// directory. A directory that is itself a Hugging Face checkpoint (model.safetensors,
// *.index.json, pytorch_model.bin) is one checkpoint; any other directory is searched
// recursively for checkpoint files (.safetensors .pt .pth .bin .ckpt .npz .npy .gguf) and
// Hugging Face checkpoint directories. The result is sorted and free of duplicates, so the
// same inputs always give the same scan.
#ifndef HTSR_CLIENT_SCAN_SCAN_INPUTS_H_
#define HTSR_CLIENT_SCAN_SCAN_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scan/scan_item.h"

namespace htsr::scan {

// True when `dir` holds a checkpoint OpenCheckpoint opens as a directory.
bool IsCheckpointDirectory(const std::string& dir);

// Fails when an input matches nothing (a typo should not become an empty scan).
absl::StatusOr<std::vector<ScanItem>> ExpandInputs(const std::vector<std::string>& inputs);

// The models named on a command line (analyze, describe, check): a file or a checkpoint
// directory is one model; any other directory stands for every checkpoint under it, as
// ExpandInputs finds them (an error when it holds none). Other inputs are kept as given, so
// a missing file is reported by the reader that opens it.
absl::StatusOr<std::vector<std::string>> ExpandModelPaths(const std::vector<std::string>& inputs);

// Items from both sources, first occurrence of a path kept (manifest extras win when they
// come first), in the order given.
std::vector<ScanItem> MergeItems(std::vector<ScanItem> a, std::vector<ScanItem> b);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_INPUTS_H_
