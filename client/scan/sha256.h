// SHA-256, streaming, computed by OpenSSL's libcrypto (EVP). Used for checkpoint content
// hashes: the scan store skips a checkpoint whose bytes it has already analysed, whatever
// its path or mtime says.
#ifndef HTSR_CLIENT_SCAN_SHA256_H_
#define HTSR_CLIENT_SCAN_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// OpenSSL's EVP_MD_CTX, declared here so that no OpenSSL header leaks into the client.
struct evp_md_ctx_st;

namespace htsr::scan {

class Sha256 {
 public:
  // Throws std::bad_alloc when libcrypto cannot allocate its context.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  // Lower-case hex of Digest().
  std::string HexDigest();

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SHA256_H_
