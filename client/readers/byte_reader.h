// A bounds-checked little-endian cursor over a span. Every read first checks the bytes
// that remain, so a hostile length can never move the cursor past the end; reads that do
// not fit return false and leave the cursor where it was.
#ifndef HTSR_CLIENT_READERS_BYTE_READER_H_
#define HTSR_CLIENT_READERS_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace htsr::readers {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }

  bool Seek(size_t pos) {
    if (pos > data_.size()) return false;
    pos_ = pos;
    return true;
  }
  bool Skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool Peek(uint8_t* v) const {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_]);
    return true;
  }

  // Unsigned or signed integers of 1, 2, 4 or 8 bytes, little-endian on disk.
  template <typename T>
  bool Read(T* v) {
    static_assert(std::is_integral_v<T>);
    if (remaining() < sizeof(T)) return false;
    std::make_unsigned_t<T> u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      u |= static_cast<std::make_unsigned_t<T>>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    *v = static_cast<T>(u);
    pos_ += sizeof(T);
    return true;
  }

  bool ReadBytes(size_t n, std::span<const std::byte>* out) {
    if (n > remaining()) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const std::byte> data_;
  size_t pos_ = 0;
};

// Little-endian loads at a fixed position of a span the caller has bounds-checked.
template <typename T>
T LoadLE(std::span<const std::byte> data, size_t pos) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    u |= static_cast<std::make_unsigned_t<T>>(static_cast<uint8_t>(data[pos + i])) << (8 * i);
  }
  return static_cast<T>(u);
}

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_BYTE_READER_H_
