// Single-core throughput of the GGUF dequantisers (client/readers/gguf_dequant.cc), in GB/s of
// float32 written: by default Q4_K on one 4096 x 11008 tensor (ne[0] = 4096, the shape of a
// 7B llama FFN weight) dequantised --repeat times; --all times every type htsr dequantises.
// Target: >= 1 GB/s per core for Q4_K.
//
//   gguf_dequant_bench [--rows 11008] [--cols 4096] [--repeat 5] [--all]
//
// One thread, as the reader runs one Load per engine worker. The numbers are the best and
// median of the repeats, with the CPU model and the load average (the machine may be shared).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "readers/gguf_dequant.h"

namespace {

using htsr::readers::gguf::Dequantize;
using htsr::readers::gguf::FindGgmlType;
using htsr::readers::gguf::GgmlRead;
using htsr::readers::gguf::GgmlType;
using htsr::readers::gguf::GgmlTypeInfo;

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Random blocks whose f16 scales are ordinary small numbers (as real files have; a random
// f16 could be NaN, inf or subnormal), so the timing is that of real data.
std::vector<std::byte> RandomBlocks(const GgmlTypeInfo& t, size_t n_blocks) {
  std::mt19937_64 rng(42);
  std::vector<std::byte> data(n_blocks * t.type_size);
  for (auto& b : data) b = static_cast<std::byte>(rng() & 0xff);
  // Byte offsets of the f16 scales in each block.
  std::vector<size_t> halves;
  switch (t.type) {
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
      halves = {0, 2};
      break;
    case GgmlType::kQ2_K:
      halves = {80, 82};
      break;
    case GgmlType::kQ3_K:
      halves = {108};
      break;
    case GgmlType::kQ6_K:
      halves = {208};
      break;
    default:
      halves = {0};
  }
  for (size_t i = 0; i < n_blocks; ++i) {
    for (size_t h : halves) {
      const uint16_t v = static_cast<uint16_t>(0x1c00 + (rng() % 0x0800));  // ~0.004 .. 0.03
      data[i * t.type_size + h] = static_cast<std::byte>(v & 0xff);
      data[i * t.type_size + h + 1] = static_cast<std::byte>(v >> 8);
    }
  }
  return data;
}

void Bench(const GgmlTypeInfo& t, size_t rows, size_t cols, int repeat) {
  const size_t n_blocks = rows * cols / t.block_size;
  const std::vector<std::byte> in = RandomBlocks(t, n_blocks);
  std::vector<float> out(n_blocks * t.block_size);
  std::vector<double> gbps;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    Dequantize(t.type, in.data(), n_blocks, out.data());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gbps.push_back(static_cast<double>(out.size() * sizeof(float)) / s / 1e9);
  }
  double check = 0;
  for (size_t i = 0; i < out.size(); i += 4099) check += out[i];
  std::sort(gbps.begin(), gbps.end());
  std::printf(
      "%-5s %zux%zu  in %7.1f MB  out %7.1f MB  best %5.2f GB/s  median %5.2f GB/s"
      "  (%.3g)\n",
      t.name, rows, cols, static_cast<double>(in.size()) / 1e6,
      static_cast<double>(out.size() * 4) / 1e6, gbps.back(), gbps[gbps.size() / 2], check);
}

}  // namespace

int main(int argc, char** argv) {
  size_t rows = 11008, cols = 4096;
  int repeat = 5;
  bool all = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) {
      rows = std::stoul(argv[++i]);
    } else if (a == "--cols" && i + 1 < argc) {
      cols = std::stoul(argv[++i]);
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::stoi(argv[++i]));
    } else if (a == "--all") {
      all = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--rows N] [--cols N (multiple of 256)] [--repeat N] [--all]\n",
                   argv[0]);
      return 2;
    }
  }
  if (cols % 256 != 0) {
    std::fprintf(stderr, "--cols must be a multiple of 256\n");
    return 2;
  }
  std::printf("gguf_dequant_bench: 1 thread on %s (load average %s); GB/s of float32 output\n",
              CpuModel().c_str(), LoadAverage().c_str());
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeInfo* t = FindGgmlType(id);
    if (t == nullptr || t->read != GgmlRead::kDequant) continue;
    if (!all && t->type != GgmlType::kQ4_K) continue;
    Bench(*t, rows, cols, repeat);
  }
  return 0;
}
