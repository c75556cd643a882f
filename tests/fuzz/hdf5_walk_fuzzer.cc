// libFuzzer target for the HDF5 walker itself (client/readers/hdf5_file.cc), in process. The
// Keras reader runs the walker in child processes (hdf5_sandbox.h), where fuzz_keras sees
// neither its coverage nor its crashes; this target keeps it fuzzed. Crashes inside libhdf5
// (known_hdf5_issues/) stop it like any crash: run it with -fork=1 -ignore_crashes=1 and sort
// the crash files by stack (H5* frames only: HDF5's own bug, contained by the sandbox).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hdf5_sanitizer_hooks.h"
#include "readers/hdf5_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using htsr::readers::Hdf5File;
  const std::span<const std::byte> bytes = std::as_bytes(std::span<const uint8_t>(data, size));
  auto file = Hdf5File::Open("fuzz.h5", bytes, nullptr);
  if (!file.ok()) return 0;
  auto walk = (*file)->Walk({"layer_names", "weight_names", "model_config"});
  if (!walk.ok()) return 0;
  for (size_t i = 0; i < walk->datasets.size(); ++i) {
    const htsr::readers::Hdf5Dataset& d = walk->datasets[i];
    if (!d.unreadable.empty() || d.bytes > (uint64_t{64} << 20)) continue;
    std::vector<std::byte> buf(d.bytes);
    (void)(*file)->ReadInto(i, buf);
  }
  return 0;
}
