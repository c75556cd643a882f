// SHA-256 (FIPS 180-4), streaming. Used for checkpoint content hashes: the scan store skips
// a checkpoint whose bytes it has already analysed, whatever its path or mtime says.
#ifndef HTSR_CLIENT_SCAN_SHA256_H_
#define HTSR_CLIENT_SCAN_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace htsr::scan {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  // Lower-case hex of Digest().
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SHA256_H_
