// Builders for checkpoint bytes written by the tests themselves (safetensors, npy, zip,
// pickles), so hostile variants can be made byte by byte.
#ifndef HTSR_TESTS_UNIT_CLIENT_READERS_READER_TEST_UTIL_H_
#define HTSR_TESTS_UNIT_CLIENT_READERS_READER_TEST_UTIL_H_

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "readers/checkpoint_reader.h"

// Expects `text` (anything convertible to a string) to contain `needle`, printing both.
#define EXPECT_HAS(text, needle)                                 \
  do {                                                           \
    const std::string htsr_text_(text);                          \
    EXPECT_NE(htsr_text_.find(needle), std::string::npos)        \
        << "expected \"" << (needle) << "\" in: " << htsr_text_; \
  } while (false)

namespace htsr::readers::testing {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string DataPath(const std::string& rel) {
  return std::string(HTSR_TEST_DATA_DIR) + "/" + rel;
}

template <typename T>
std::string LE(T v) {
  std::string s(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) {
    s[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  }
  return s;
}

inline std::string FloatBytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());  // data() may be null when empty
  return s;
}

inline std::string Safetensors(const std::string& header, const std::string& data) {
  return LE<uint64_t>(header.size()) + header + data;
}

// `layers` float32 matrices side x side named l0.weight, l1.weight, ... in file order, with
// pseudo-random entries in [-0.5, 0.5); `*data_start` is the file offset of the first.
inline std::string DenseSafetensors(int layers, int side, size_t* data_start) {
  std::string header = "{";
  std::string data;
  uint32_t state = 12345;
  for (int l = 0; l < layers; ++l) {
    std::vector<float> w(static_cast<size_t>(side) * side);
    for (float& x : w) {
      state = state * 1664525u + 1013904223u;
      x = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
    }
    const size_t begin = data.size();
    data += FloatBytes(w);
    absl::StrAppend(&header, l ? "," : "", "\"l", l, ".weight\":{\"dtype\":\"F32\",\"shape\":[",
                    side, ",", side, "],\"data_offsets\":[", begin, ",", data.size(), "]}");
  }
  header += "}";
  *data_start = 8 + header.size();
  return Safetensors(header, data);
}

inline std::string Npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  out += major == 1 ? LE<uint16_t>(header.size()) : LE<uint32_t>(header.size());
  return out + header + data;
}

inline std::string RawDeflate(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A minimal zip writer: stored or deflated members, optional ZIP64 records.
class ZipWriter {
 public:
  void Add(const std::string& name, const std::string& data, bool deflate = false) {
    Member m = MakeMember(name, data, deflate, out_.size());
    out_ += LocalRecord(m);
    members_.push_back(m);
  }
  // A central directory entry only, for a local record already written at `offset`
  // (hostile archives: entries that share or overlap another's bytes).
  void AddEntryAt(const std::string& name, const std::string& data, bool deflate, uint64_t offset) {
    members_.push_back(MakeMember(name, data, deflate, offset));
  }
  // The local header and data that Add writes for this member at any offset.
  static std::string LocalRecord(const std::string& name, const std::string& data,
                                 bool deflate = false) {
    return LocalRecord(MakeMember(name, data, deflate, 0));
  }
  // A local record with no central directory entry (AddEntryAt may point at it).
  void AddLocalOnly(const std::string& name, const std::string& data) {
    out_ += LocalRecord(name, data);
  }
  size_t size() const { return out_.size(); }
  // `zip64` saturates the 32-bit fields and writes ZIP64 extra fields and end records.
  std::string Finish(bool zip64 = false) {
    const uint64_t cd_offset = out_.size();
    std::string cd;
    for (const Member& m : members_) {
      std::string extra;
      if (zip64) {
        extra = LE<uint16_t>(1) + LE<uint16_t>(24) + LE<uint64_t>(m.usize) +
                LE<uint64_t>(m.data.size()) + LE<uint64_t>(m.offset);
      }
      cd += LE<uint32_t>(0x02014b50) + LE<uint16_t>(45) + LE<uint16_t>(45) + LE<uint16_t>(0) +
            LE<uint16_t>(m.method) + LE<uint32_t>(0) + LE<uint32_t>(m.crc) +
            LE<uint32_t>(zip64 ? 0xffffffffu : m.data.size()) +
            LE<uint32_t>(zip64 ? 0xffffffffu : m.usize) + LE<uint16_t>(m.name.size()) +
            LE<uint16_t>(extra.size()) + LE<uint16_t>(0) + LE<uint16_t>(0) + LE<uint16_t>(0) +
            LE<uint32_t>(0) + LE<uint32_t>(zip64 ? 0xffffffffu : m.offset) + m.name + extra;
    }
    std::string out = out_ + cd;
    if (zip64) {
      const uint64_t rec = out.size();
      out += LE<uint32_t>(0x06064b50) + LE<uint64_t>(44) + LE<uint16_t>(45) + LE<uint16_t>(45) +
             LE<uint32_t>(0) + LE<uint32_t>(0) + LE<uint64_t>(members_.size()) +
             LE<uint64_t>(members_.size()) + LE<uint64_t>(cd.size()) + LE<uint64_t>(cd_offset);
      out += LE<uint32_t>(0x07064b50) + LE<uint32_t>(0) + LE<uint64_t>(rec) + LE<uint32_t>(1);
    }
    out += LE<uint32_t>(0x06054b50) + LE<uint16_t>(0) + LE<uint16_t>(0) +
           LE<uint16_t>(zip64 ? 0xffff : members_.size()) +
           LE<uint16_t>(zip64 ? 0xffff : members_.size()) +
           LE<uint32_t>(zip64 ? 0xffffffffu : cd.size()) +
           LE<uint32_t>(zip64 ? 0xffffffffu : cd_offset) + LE<uint16_t>(0);
    return out;
  }

 private:
  struct Member {
    std::string name, data;
    uint16_t method = 0;
    uint64_t usize = 0, offset = 0;
    uint32_t crc = 0;
  };
  static Member MakeMember(const std::string& name, const std::string& data, bool deflate,
                           uint64_t offset) {
    Member m;
    m.name = name;
    m.data = deflate ? RawDeflate(data) : data;
    m.method = deflate ? 8 : 0;
    m.usize = data.size();
    m.crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    m.offset = offset;
    return m;
  }
  static std::string LocalRecord(const Member& m) {
    return LE<uint32_t>(0x04034b50) + LE<uint16_t>(20) + LE<uint16_t>(0) + LE<uint16_t>(m.method) +
           LE<uint32_t>(0) + LE<uint32_t>(m.crc) + LE<uint32_t>(m.data.size()) +
           LE<uint32_t>(m.usize) + LE<uint16_t>(m.name.size()) + LE<uint16_t>(0) + m.name + m.data;
  }
  std::string out_;
  std::vector<Member> members_;
};

// Pickle opcodes as torch.save (protocol 2) writes them.
namespace pk {
inline std::string Proto() { return std::string("\x80\x02", 2); }
inline std::string Global(const std::string& mod, const std::string& name) {
  return absl::StrCat("c", mod, "\n", name, "\n");
}
inline std::string Str(const std::string& s) {
  return absl::StrCat("X", LE<uint32_t>(s.size()), s);
}
inline std::string Int(int32_t v) { return absl::StrCat("J", LE<int32_t>(v)); }
inline std::string Tuple(const std::vector<std::string>& items) {
  std::string s = "(";
  for (const auto& i : items) s += i;
  return s + "t";
}
inline std::string OrderedDict() {
  return absl::StrCat(Global("collections", "OrderedDict"), ")R");
}
inline std::string Storage(const std::string& type, const std::string& key, int32_t numel) {
  return absl::StrCat(
      Tuple({Str("storage"), Global("torch", type), Str(key), Str("cpu"), Int(numel)}), "Q");
}
// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
inline std::string Tensor(const std::string& type, const std::string& key, int32_t numel,
                          int32_t offset, const std::vector<int32_t>& size,
                          const std::vector<int32_t>& stride) {
  std::vector<std::string> sz, st;
  for (int32_t d : size) sz.push_back(Int(d));
  for (int32_t d : stride) st.push_back(Int(d));
  return absl::StrCat(Global("torch._utils", "_rebuild_tensor_v2"), "(", Storage(type, key, numel),
                      Int(offset), Tuple(sz), Tuple(st), "\x89", OrderedDict(), "tR");
}
}  // namespace pk

// A torch.save zip: archive/data.pkl, archive/data/<key>, archive/byteorder.
inline std::string TorchZip(const std::string& pickle,
                            const std::vector<std::pair<std::string, std::string>>& storages) {
  ZipWriter z;
  z.Add("archive/data.pkl", pickle);
  z.Add("archive/byteorder", "little");
  for (const auto& [key, bytes] : storages) z.Add("archive/data/" + key, bytes);
  z.Add("archive/version", "3\n");
  return z.Finish();
}

inline std::string TensorBytes(const CheckpointReader& r, size_t i) {
  auto v = r.Load(i);
  if (!v.ok()) return "<error: " + std::string(v.status().message()) + ">";
  return std::string(reinterpret_cast<const char*>(v->bytes.data()), v->bytes.size());
}

inline size_t IndexOf(const CheckpointReader& r, const std::string& name) {
  for (size_t i = 0; i < r.Tensors().size(); ++i) {
    if (r.Tensors()[i].name == name) return i;
  }
  return SIZE_MAX;
}

}  // namespace htsr::readers::testing

#endif  // HTSR_TESTS_UNIT_CLIENT_READERS_READER_TEST_UTIL_H_
