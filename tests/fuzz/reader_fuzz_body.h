// What every reader fuzz target does with one input, shared with the unit test that
// replays tests/fuzz/regressions/: parse the bytes with one reader, Load every tensor and
// check the invariants the engine relies on. Crashes are found by the sanitizers; a
// broken invariant is reported through the return value.
#ifndef HTSR_TESTS_FUZZ_READER_FUZZ_BODY_H_
#define HTSR_TESTS_FUZZ_READER_FUZZ_BODY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "hdf5_sanitizer_hooks.h"
#include "htsr/base/checked_math.h"
#include "readers/format_readers.h"
#include "readers/json_parser.h"
#include "readers/mapped_file.h"
#include "readers/pickle_unpickler.h"
#include "readers/zip_archive.h"

namespace htsr::readers::fuzz {

// Readers by the name of their regression folder.
inline constexpr const char* kReaders[] = {"safetensors", "npy", "npz",  "pytorch", "pickle",
                                           "json",        "zip", "gguf", "any",     "keras",
#ifdef HTSR_HAVE_ONNX
                                           "onnx"
#endif
};

// Returns "" when every invariant holds, else what broke.
inline std::string CheckReader(const CheckpointReader& r) {
  uint64_t total = 0;
  for (size_t i = 0; i < r.Tensors().size(); ++i) {
    const TensorInfo& info = r.Tensors()[i];
    const auto bytes = CheckedByteSize(info.shape, DTypeSize(info.dtype));
    if (!bytes) return absl::StrCat("tensor ", i, " has an overflowing shape");
    total += *bytes;
    auto view = r.Load(i);
    if (!view.ok()) continue;  // errors are fine; wrong sizes are not
    if (view->bytes.size() != *bytes) {
      return absl::StrCat("tensor ", i, " loaded ", view->bytes.size(), " bytes, expected ",
                          *bytes);
    }
    // Touch every byte so the sanitizers see any out-of-bounds view.
    volatile uint8_t sink = 0;
    for (std::byte b : view->bytes) sink = sink ^ static_cast<uint8_t>(b);
    (void)sink;
  }
  if (total != r.TotalBytes()) return "TotalBytes disagrees with the tensor list";
  return "";
}

inline std::string ExerciseReader(const std::string& reader, const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  FileBytes file = BufferBytes("fuzz-input", std::move(bytes));
  absl::StatusOr<std::unique_ptr<CheckpointReader>> r =
      absl::InvalidArgumentError("not a checkpoint reader");
  if (reader == "safetensors") {
    r = OpenSafetensors(file);
  } else if (reader == "npy") {
    r = OpenNpy(file);
  } else if (reader == "npz") {
    r = OpenNpz(file);
  } else if (reader == "pytorch") {
    r = OpenPytorch(file);
  } else if (reader == "gguf") {
    r = OpenGguf(file);
  } else if (reader == "keras") {
    // .keras archives and HDF5 files, as the dispatch routes them.
    r = LooksLikeZip(file.bytes) ? OpenKeras(file) : OpenHdf5(file);
#ifdef HTSR_HAVE_ONNX
  } else if (reader == "onnx") {
    r = OpenOnnx(file);
#endif
  } else if (reader == "any") {
    r = OpenFileBytes(file, /*allow_index=*/false);
  } else if (reader == "pickle") {
    pickle::Unpickler u(file.bytes, "fuzz-input");
    (void)u.Run();
    return "";
  } else if (reader == "json") {
    const std::string_view text(reinterpret_cast<const char*>(file.bytes.data()),
                                file.bytes.size());
    (void)ParseJson(absl::string_view(text.data(), text.size()));
    return "";
  } else if (reader == "zip") {
    auto zip = ZipArchive::Open(file);
    if (!zip.ok()) return "";
    for (const ZipEntry& e : zip->entries()) {
      auto b = zip->Read(e);
      if (b.ok() && b->bytes.size() != e.uncompressed_size) return "zip entry size mismatch";
      (void)zip->ReadPrefix(e, 100);
    }
    return "";
  }
  if (!r.ok()) return "";
  return CheckReader(**r);
}

}  // namespace htsr::readers::fuzz

#endif  // HTSR_TESTS_FUZZ_READER_FUZZ_BODY_H_
