// libFuzzer target for the onnx reader (see reader_fuzz_body.h).
#include <cstdio>
#include <cstdlib>

#include "reader_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string broken = htsr::readers::fuzz::ExerciseReader("onnx", data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
