#include "readers/onnx_format.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "htsr/status_macros.h"

namespace htsr::readers::onnx {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// One field of a message: its number, wire type, value, and where its encoding (tag
// included) lies in the message.
struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t varint = 0;
  std::span<const std::byte> payload;   // kLen only
  std::span<const std::byte> encoding;  // tag to end
  uint64_t offset = 0;                  // of the tag, in the file
};

bool ReadVarint(std::span<const std::byte> b, size_t* pos, uint64_t* v) {
  uint64_t out = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= b.size()) return false;
    const auto byte = static_cast<uint8_t>(b[(*pos)++]);
    if (i == 9 && byte > 1) return false;  // more than 64 bits
    out |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *v = out;
      return true;
    }
  }
  return false;
}

// The fields of one message, in order; every length is checked against what remains.
class Fields {
 public:
  Fields(std::span<const std::byte> msg, uint64_t base, absl::string_view file, std::string what)
      : msg_(msg), base_(base), file_(file), what_(std::move(what)) {}

  // Ok(true) with the next field, Ok(false) at the end, an error when malformed.
  absl::StatusOr<bool> Next(Field* f) {
    if (pos_ == msg_.size()) return false;
    const size_t start = pos_;
    f->offset = base_ + start;
    uint64_t tag;
    if (!ReadVarint(msg_, &pos_, &tag) || tag > UINT32_MAX || (tag >> 3) == 0) {
      return Error(base_ + start, "bad field tag");
    }
    f->number = static_cast<uint32_t>(tag >> 3);
    f->wire = static_cast<uint32_t>(tag & 7);
    f->payload = {};
    switch (f->wire) {
      case kVarint:
        if (!ReadVarint(msg_, &pos_, &f->varint)) return Truncated(start, f->number);
        break;
      case kFixed64:
      case kFixed32: {
        const size_t n = f->wire == kFixed64 ? 8 : 4;
        if (msg_.size() - pos_ < n) return Truncated(start, f->number);
        pos_ += n;
        break;
      }
      case kLen: {
        uint64_t len;
        if (!ReadVarint(msg_, &pos_, &len)) return Truncated(start, f->number);
        if (len > msg_.size() - pos_) {
          return absl::OutOfRangeError(absl::StrCat(
              file_, ": ", what_, ": field ", f->number, " at byte ", base_ + start, " declares ",
              len, " bytes but only ", msg_.size() - pos_, " remain (truncated file?)"));
        }
        f->payload = msg_.subspan(pos_, static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        break;
      }
      default:
        return Error(base_ + start, absl::StrCat("field ", f->number, " has wire type ", f->wire,
                                                 " (groups and unknown wire types are not ONNX)"));
    }
    f->encoding = msg_.subspan(start, pos_ - start);
    return true;
  }

  uint64_t OffsetOf(std::span<const std::byte> inner) const {
    return base_ + static_cast<uint64_t>(inner.data() - msg_.data());
  }
  // `at`: a file offset.
  absl::Status Error(uint64_t at, absl::string_view detail) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ": ", what_, ": malformed protobuf at byte ", at, ": ", detail));
  }
  absl::Status WireTypeError(const Field& f, absl::string_view expected) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", what_, ": field ", f.number,
                                                   " at byte ", f.offset, " has wire type ", f.wire,
                                                   ", expected ", expected));
  }

 private:
  absl::Status Truncated(size_t at, uint32_t number) const {
    return absl::OutOfRangeError(absl::StrCat(file_, ": ", what_, ": field ", number, " at byte ",
                                              base_ + at, " is cut off (truncated file?)"));
  }

  std::span<const std::byte> msg_;
  uint64_t base_;
  absl::string_view file_;
  std::string what_;
  size_t pos_ = 0;
};

void Append(std::string* out, std::span<const std::byte> encoding) {
  out->append(reinterpret_cast<const char*>(encoding.data()), encoding.size());
}

absl::string_view Text(std::span<const std::byte> b) {
  return absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Elements of a packed varint payload: one per byte without the continuation bit; the last
// byte must end an element.
bool CountPackedVarints(std::span<const std::byte> payload, uint64_t* n) {
  uint64_t count = 0;
  for (std::byte b : payload) count += (static_cast<uint8_t>(b) & 0x80) == 0;
  if (!payload.empty() && (static_cast<uint8_t>(payload.back()) & 0x80) != 0) return false;
  *n = count;
  return true;
}

class Walker {
 public:
  Walker(std::span<const std::byte> file, absl::string_view name, const WireVisitor& visitor,
         WireModel* model)
      : file_(file), name_(name), visitor_(visitor), model_(model) {}

  absl::Status Model() {
    Fields fields(file_, 0, name_, "ModelProto");
    Field f;
    bool has_graph = false;
    while (true) {
      HTSR_ASSIGN_OR_RETURN(bool more, fields.Next(&f));
      if (!more) break;
      if (f.number != 7) continue;  // graph; ir_version, opset_import, metadata: not needed
      if (f.wire != kLen) return fields.WireTypeError(f, "a GraphProto");
      HTSR_RETURN_IF_ERROR(Graph(f.payload, fields.OffsetOf(f.payload)));
      has_graph = true;
    }
    if (!has_graph) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": ONNX ModelProto of ", file_.size(),
                       " bytes has no graph (not an ONNX model, or a truncated one)"));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Graph(std::span<const std::byte> msg, uint64_t base) {
    Fields fields(msg, base, name_, "graph");
    Field f;
    while (true) {
      HTSR_ASSIGN_OR_RETURN(bool more, fields.Next(&f));
      if (!more) break;
      if (f.number != 1 && f.number != 5 && f.number != 15) continue;
      if (f.wire != kLen) return fields.WireTypeError(f, "a message");
      const uint64_t at = fields.OffsetOf(f.payload);
      if (f.number == 1) {
        if (++nodes_ > kMaxNodes) return Limit("nodes", kMaxNodes, f.offset);
        HTSR_RETURN_IF_ERROR(Node(f.payload, at));
      } else if (f.number == 5) {
        if (initializers_ >= kMaxInitializers) {
          return Limit("initializers", kMaxInitializers, f.offset);
        }
        HTSR_RETURN_IF_ERROR(Tensor(f.payload, at));
      } else {
        ++model_->sparse_initializers;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Limit(absl::string_view what, size_t limit, uint64_t at) const {
    return absl::ResourceExhaustedError(
        absl::StrCat(name_, ": graph has more than ", limit, " ", what, " (at byte ", at, ")"));
  }

  absl::Status Node(std::span<const std::byte> msg, uint64_t base) {
    WireNode node;
    node.offset = base;
    Fields fields(msg, base, name_, absl::StrCat("node at byte ", base));
    Field f;
    int inputs = 0;
    while (true) {
      HTSR_ASSIGN_OR_RETURN(bool more, fields.Next(&f));
      if (!more) break;
      if (f.number == 1 || f.number == 3 || f.number == 4 || f.number == 5 || f.number == 7) {
        if (f.wire != kLen) return fields.WireTypeError(f, "length-delimited");
      }
      if ((f.number == 1 && inputs++ < 2) || f.number == 3 || f.number == 4 || f.number == 7) {
        Append(&node.encoding, f.encoding);
      } else if (f.number == 5) {
        HTSR_ASSIGN_OR_RETURN(bool trans_b, IsTransB(f.payload, fields.OffsetOf(f.payload)));
        if (trans_b) Append(&node.encoding, f.encoding);
      }
    }
    return visitor_.node(std::move(node));
  }

  // Whether an AttributeProto is named "transB" (only Gemm's transB is ever decoded).
  absl::StatusOr<bool> IsTransB(std::span<const std::byte> msg, uint64_t base) {
    Fields fields(msg, base, name_, absl::StrCat("node attribute at byte ", base));
    Field f;
    bool found = false;
    while (true) {
      HTSR_ASSIGN_OR_RETURN(bool more, fields.Next(&f));
      if (!more) break;
      if (f.number == 1) {
        if (f.wire != kLen) return fields.WireTypeError(f, "a string");
        found = Text(f.payload) == "transB";
      }
    }
    return found;
  }

  absl::Status Tensor(std::span<const std::byte> msg, uint64_t base) {
    WireTensor t;
    t.offset = base;
    t.index = initializers_++;
    const std::string what = absl::StrCat("initializer #", t.index, " at byte ", base);
    Fields fields(msg, base, name_, what);
    Field f;
    uint64_t dims = 0;
    size_t external = 0;
    size_t runs = 0;
    while (true) {
      HTSR_ASSIGN_OR_RETURN(bool more, fields.Next(&f));
      if (!more) break;
      switch (f.number) {
        case 1: {  // dims: packed or not
          uint64_t n = 1;
          if (f.wire == kLen) {
            if (!CountPackedVarints(f.payload, &n)) {
              return fields.Error(f.offset, "packed dims end inside a varint");
            }
          } else if (f.wire != kVarint) {
            return fields.WireTypeError(f, "varints");
          }
          dims += n;
          if (dims > kMaxDims) {
            return absl::InvalidArgumentError(absl::StrCat(
                name_, ": ", what, ": more than ", kMaxDims, " dims (at byte ", f.offset, ")"));
          }
          Append(&t.header, f.encoding);
          break;
        }
        case 2:
        case 14:
          if (f.wire != kVarint) return fields.WireTypeError(f, "a varint");
          Append(&t.header, f.encoding);
          break;
        case 3:
        case 8:
          if (f.wire != kLen) return fields.WireTypeError(f, "length-delimited");
          Append(&t.header, f.encoding);
          break;
        case 13:
          if (f.wire != kLen) return fields.WireTypeError(f, "a message");
          if (++external > kMaxExternalEntries) {
            return absl::InvalidArgumentError(
                absl::StrCat(name_, ": ", what, ": more than ", kMaxExternalEntries,
                             " external_data entries (at byte ", f.offset, ")"));
          }
          Append(&t.header, f.encoding);
          break;
        case kRawData:
          if (f.wire != kLen) return fields.WireTypeError(f, "bytes");
          t.has_raw_data = true;
          t.raw_data = f.payload;
          t.raw_data_offset = fields.OffsetOf(f.payload);
          break;
        case kFloatData:
        case kInt32Data:
        case kStringData:
        case kInt64Data:
        case kDoubleData:
        case kUint64Data: {
          HTSR_ASSIGN_OR_RETURN(uint64_t n, CountElements(fields, f));
          HTSR_RETURN_IF_ERROR(AddRun(&t, f, n, &runs, what));
          break;
        }
        default:
          break;  // doc_string, metadata_props: not needed
      }
    }
    return visitor_.initializer(std::move(t));
  }

  absl::StatusOr<uint64_t> CountElements(const Fields& fields, const Field& f) const {
    const bool fixed32 = f.number == kFloatData;
    const bool fixed64 = f.number == kDoubleData;
    if (f.number == kStringData) {
      if (f.wire != kLen) return fields.WireTypeError(f, "bytes");
      return 1;
    }
    if (f.wire == kLen) {
      if (fixed32 || fixed64) {
        const size_t width = fixed32 ? 4 : 8;
        if (f.payload.size() % width != 0) {
          return fields.Error(
              f.offset, absl::StrCat("packed field ", f.number, " of ", f.payload.size(),
                                     " bytes is not a whole number of ", width, "-byte values"));
        }
        return f.payload.size() / width;
      }
      uint64_t n;
      if (!CountPackedVarints(f.payload, &n)) {
        return fields.Error(f.offset,
                            absl::StrCat("packed field ", f.number, " ends inside a varint"));
      }
      return n;
    }
    const uint32_t expected = fixed32 ? kFixed32 : fixed64 ? kFixed64 : kVarint;
    if (f.wire != expected) return fields.WireTypeError(f, "its element type or packed");
    return 1;
  }

  absl::Status AddRun(WireTensor* t, const Field& f, uint64_t elements, size_t* runs,
                      const std::string& what) const {
    WireTensor::Typed* typed = nullptr;
    for (auto& x : t->typed) {
      if (x.field == f.number) typed = &x;
    }
    if (typed == nullptr) {
      t->typed.push_back({f.number, 0, f.offset, {}});
      typed = &t->typed.back();
    }
    typed->elements += elements;
    auto& last = typed->runs;
    if (!last.empty() && last.back().data() + last.back().size() == f.encoding.data()) {
      last.back() =
          std::span<const std::byte>(last.back().data(), last.back().size() + f.encoding.size());
      return absl::OkStatus();
    }
    if (++*runs > kMaxDataRuns) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": ", what, ": data fields interleaved in more than ", kMaxDataRuns,
                       " runs (at byte ", f.offset, ")"));
    }
    last.push_back(f.encoding);
    return absl::OkStatus();
  }

  std::span<const std::byte> file_;
  absl::string_view name_;
  const WireVisitor& visitor_;
  WireModel* model_;
  size_t nodes_ = 0;
  size_t initializers_ = 0;
};

}  // namespace

absl::Status WalkOnnxModel(std::span<const std::byte> bytes, const std::string& name,
                           const WireVisitor& visitor, WireModel* model) {
  if (bytes.size() > kMaxModelBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ONNX model of ", bytes.size(),
        " bytes: a protobuf file is limited to 2 GB (models larger than that keep their "
        "weights as external data; export with onnx.save_model(..., "
        "save_as_external_data=True))"));
  }
  Walker walker(bytes, name, visitor, model);
  return walker.Model();
}

bool LooksLikeOnnx(std::span<const std::byte> bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != 0x08) return false;
  size_t pos = 1;
  uint64_t ir_version;
  if (!ReadVarint(bytes, &pos, &ir_version) || ir_version < 1 || ir_version > 1000) return false;
  if (pos == bytes.size()) return true;
  uint64_t tag;
  if (!ReadVarint(bytes, &pos, &tag) || tag > UINT32_MAX || (tag >> 3) == 0) return false;
  const uint64_t wire = tag & 7;
  return wire == kVarint || wire == kFixed64 || wire == kLen || wire == kFixed32;
}

}  // namespace htsr::readers::onnx
