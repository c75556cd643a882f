#include "readers/npy_format.h"

#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "readers/byte_reader.h"
#include "readers/strided_copy.h"

namespace htsr::readers {
namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";

// A cursor over the header's Python literal: {'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }. Only strings, True/False and tuples of integers occur.
class DictParser {
 public:
  explicit DictParser(absl::string_view s) : s_(s) {}

  size_t pos() const { return pos_; }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool PeekIs(char c) {
    SkipSpace();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  std::optional<std::string> String() {
    SkipSpace();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return std::nullopt;
    const char q = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\') return std::nullopt;  // never needed by numpy's own headers
      ++pos_;
    }
    if (pos_ >= s_.size()) return std::nullopt;
    return std::string(s_.substr(start, pos_++ - start));
  }
  std::optional<bool> Bool() {
    SkipSpace();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    return std::nullopt;
  }
  std::optional<int64_t> Int() {
    SkipSpace();
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (s_.substr(pos_, 1) == "L") ++pos_;  // Python 2 longs
    int64_t v;
    const absl::string_view digits = s_.substr(start, pos_ - start);
    if (digits.empty() || !absl::SimpleAtoi(digits.substr(0, digits.find('L')), &v)) {
      return std::nullopt;
    }
    return v;
  }
  // "(3, 4)", "(3,)" or "()".
  std::optional<std::vector<int64_t>> Tuple() {
    if (!Eat('(')) return std::nullopt;
    std::vector<int64_t> out;
    if (Eat(')')) return out;
    while (true) {
      auto v = Int();
      if (!v || out.size() >= 64) return std::nullopt;
      out.push_back(*v);
      if (Eat(')')) return out;
      if (!Eat(',')) return std::nullopt;
      if (Eat(')')) return out;
    }
  }

 private:
  absl::string_view s_;
  size_t pos_ = 0;
};

struct DescrInfo {
  DType dtype;
  bool big_endian;
};

std::optional<DescrInfo> ParseDescr(absl::string_view d) {
  if (d.size() < 2) return std::nullopt;
  const char order = d[0];
  const absl::string_view code = d.substr(1);
  std::optional<DType> t;
  if (code == "f8") t = DType::kF64;
  if (code == "f4") t = DType::kF32;
  if (code == "f2") t = DType::kF16;
  if (code == "i8") t = DType::kI64;
  if (code == "i4") t = DType::kI32;
  if (code == "i2") t = DType::kI16;
  if (code == "i1") t = DType::kI8;
  if (code == "u1") t = DType::kU8;
  if (code == "b1") t = DType::kBool;
  if (!t) return std::nullopt;
  // '|' (no order) is valid only for one-byte types, '=' means native (little here).
  if (order == '<' || order == '=') return DescrInfo{*t, false};
  if (order == '>') return DescrInfo{*t, DTypeSize(*t) > 1};
  if (order == '|' && DTypeSize(*t) == 1) return DescrInfo{*t, false};
  return std::nullopt;
}

}  // namespace

bool LooksLikeNpy(std::span<const std::byte> bytes) {
  return bytes.size() >= kMagic.size() &&
         std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) == 0;
}

absl::StatusOr<NpyHeader> ParseNpyHeader(std::span<const std::byte> bytes,
                                         const std::string& where) {
  auto bad = [&](size_t offset, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": npy: ", what, " (at byte ", offset, ")"));
  };
  if (!LooksLikeNpy(bytes)) return bad(0, "missing \\x93NUMPY magic");
  ByteReader r(bytes);
  r.Skip(kMagic.size());
  uint8_t major, minor;
  if (!r.Read(&major) || !r.Read(&minor)) return bad(r.offset(), "truncated version");
  uint32_t header_len = 0;
  if (major == 1) {
    uint16_t len16;
    if (!r.Read(&len16)) return bad(r.offset(), "truncated header length");
    header_len = len16;
  } else if (major == 2 || major == 3) {
    if (!r.Read(&header_len)) return bad(r.offset(), "truncated header length");
  } else {
    return bad(6, absl::StrCat("unsupported format version ", major, ".", minor));
  }
  if (header_len > kMaxNpyHeaderBytes) {
    return bad(8, absl::StrCat("header length ", header_len, " exceeds the limit of ",
                               kMaxNpyHeaderBytes));
  }
  const size_t header_start = r.offset();
  std::span<const std::byte> raw;
  if (!r.ReadBytes(header_len, &raw)) {
    return absl::OutOfRangeError(absl::StrCat(where, ": npy: header of ", header_len,
                                              " bytes from byte ", header_start,
                                              " runs past the end (", bytes.size(), " bytes)"));
  }
  const absl::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
  DictParser p(text);
  auto perr = [&](absl::string_view what) { return bad(header_start + p.pos(), what); };
  NpyHeader h;
  bool have_descr = false, have_order = false, have_shape = false;
  if (!p.Eat('{')) return perr("header is not a dict");
  while (!p.Eat('}')) {
    auto key = p.String();
    if (!key) return perr("expected a quoted key");
    if (!p.Eat(':')) return perr("expected ':'");
    if (*key == "descr") {
      if (p.PeekIs('[')) return perr("structured dtypes are not supported");
      auto d = p.String();
      if (!d) return perr("'descr' is not a string");
      if (*d == "|O" || *d == "O" || *d == "<O" || *d == ">O") {
        return perr("object arrays are refused (loading them would unpickle code)");
      }
      auto info = ParseDescr(*d);
      if (!info) return perr(absl::StrCat("unsupported dtype '", *d, "'"));
      h.dtype = info->dtype;
      h.big_endian = info->big_endian;
      have_descr = true;
    } else if (*key == "fortran_order") {
      auto b = p.Bool();
      if (!b) return perr("'fortran_order' is not True or False");
      h.fortran_order = *b;
      have_order = true;
    } else if (*key == "shape") {
      auto t = p.Tuple();
      if (!t) return perr("'shape' is not a tuple of integers");
      h.shape = std::move(*t);
      have_shape = true;
    } else {
      return perr(absl::StrCat("unexpected key '", *key, "'"));
    }
    if (!p.Eat(',')) {
      if (!p.Eat('}')) return perr("expected ',' or '}'");
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape) {
    return bad(header_start, "header lacks 'descr', 'fortran_order' or 'shape'");
  }
  const std::optional<uint64_t> nbytes = CheckedByteSize(h.shape, DTypeSize(h.dtype));
  if (!nbytes) return bad(header_start, "shape " + ShapeString(h.shape) + " overflows");
  h.data_bytes = *nbytes;
  h.data_offset = r.offset();
  return h;
}

absl::StatusOr<TensorView> NpyTensor(const NpyHeader& h, std::span<const std::byte> bytes,
                                     std::shared_ptr<const void> owner, TensorInfo info,
                                     const std::string& where) {
  if (h.data_offset > bytes.size() || h.data_bytes > bytes.size() - h.data_offset) {
    return absl::OutOfRangeError(absl::StrCat(
        where, ": npy: array of shape ", ShapeString(h.shape), " needs ", h.data_bytes,
        " bytes from byte ", h.data_offset, " but the data has ", bytes.size(), " bytes"));
  }
  const auto data =
      bytes.subspan(static_cast<size_t>(h.data_offset), static_cast<size_t>(h.data_bytes));
  TensorView view;
  view.info = std::move(info);
  if (!h.fortran_order && !h.big_endian) {
    view.bytes = data;
    view.owner = std::move(owner);
    return view;
  }
  // Fortran order is column-major: element (i0, ..., ik) sits at i0 + i1*d0 + ...
  std::vector<int64_t> strides(h.shape.size());
  int64_t s = 1;
  if (h.fortran_order) {
    for (size_t k = 0; k < h.shape.size(); ++k) {
      strides[k] = s;
      s *= h.shape[k];  // the byte size was overflow-checked above
    }
  } else {
    for (size_t k = h.shape.size(); k-- > 0;) {
      strides[k] = s;
      s *= h.shape[k];
    }
  }
  auto copy = std::make_shared<std::vector<std::byte>>(static_cast<size_t>(h.data_bytes));
  CopyStrided(data, h.shape, strides, 0, DTypeSize(h.dtype), h.big_endian, copy->data());
  view.bytes = std::span<const std::byte>(copy->data(), copy->size());
  view.owner = std::move(copy);
  return view;
}

}  // namespace htsr::readers
