#include "scan/sha256.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace htsr::scan {
namespace {

std::string Hex(const std::string& s) {
  Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

// FIPS 180-2 appendix B test vectors.
TEST(Sha256Test, NistVectors) {
  EXPECT_EQ(Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Any split of the input into Update calls gives the same digest (block-boundary cases).
TEST(Sha256Test, StreamingMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const std::string whole = Hex(data);
  for (size_t step : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 127u, 999u}) {
    Sha256 h;
    for (size_t off = 0; off < data.size(); off += step) {
      h.Update(data.data() + off, std::min(step, data.size() - off));
    }
    EXPECT_EQ(h.HexDigest(), whole) << "step " << step;
  }
}

// Lengths around the padding boundary (55/56/64 bytes) against vectors computed by
// coreutils sha256sum.
TEST(Sha256Test, PaddingBoundaries) {
  EXPECT_EQ(Hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

}  // namespace
}  // namespace htsr::scan
