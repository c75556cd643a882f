#include "readers/pickle_unpickler.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "readers/byte_reader.h"

namespace htsr::readers::pickle {
namespace {

// Bounds on what a hostile pickle can make us hold (about 1 GiB at worst). A state dict
// needs roughly 15 objects per tensor, so this still admits ~250k tensors.
constexpr size_t kMaxObjects = size_t{4} << 20;
constexpr size_t kMaxMemo = size_t{4} << 20;
constexpr size_t kMaxGlobalName = 256;

// What an allow-listed global may be used for.
enum class Role {
  kToken,
  kOrderedDict,
  kRebuildTensor,
  kRebuildQTensor,
  kRebuildParameter,
  kRebuildFromType
};

std::optional<DType> StorageDType(absl::string_view name) {
  if (name == "DoubleStorage") return DType::kF64;
  if (name == "FloatStorage") return DType::kF32;
  if (name == "HalfStorage") return DType::kF16;
  if (name == "BFloat16Storage") return DType::kBF16;
  if (name == "Float8_e4m3fnStorage") return DType::kF8E4M3;
  if (name == "Float8_e5m2Storage") return DType::kF8E5M2;
  if (name == "LongStorage") return DType::kI64;
  if (name == "IntStorage") return DType::kI32;
  if (name == "ShortStorage") return DType::kI16;
  if (name == "CharStorage") return DType::kI8;
  if (name == "ByteStorage") return DType::kU8;
  if (name == "BoolStorage") return DType::kBool;
  return std::nullopt;
}

// Storage classes torch saves whose elements htsr does not analyse, with their element
// sizes and values per byte (for bounds checks; quint4x2 and quint2x4 pack 2 and 4):
// tensors on them are left out, the rest of the file is read.
struct UnreadStorage {
  const char* name;
  size_t elem_bytes;
  int values_per_byte;
};

const UnreadStorage* FindUnreadStorage(absl::string_view name) {
  static constexpr UnreadStorage kUnread[] = {
      {"ComplexHalfStorage", 4, 1},     {"ComplexFloatStorage", 8, 1},
      {"ComplexDoubleStorage", 16, 1},  {"UInt16Storage", 2, 1},
      {"UInt32Storage", 4, 1},          {"UInt64Storage", 8, 1},
      {"QInt8Storage", 1, 1},           {"QUInt8Storage", 1, 1},
      {"QInt32Storage", 4, 1},          {"QUInt4x2Storage", 1, 2},
      {"QUInt2x4Storage", 1, 4},        {"Float8_e4m3fnuzStorage", 1, 1},
      {"Float8_e5m2fnuzStorage", 1, 1}, {"Float8_e8m0fnuStorage", 1, 1},
  };
  for (const UnreadStorage& u : kUnread) {
    if (name == u.name) return &u;
  }
  return nullptr;
}

// Plain values torch pickles by name: dtypes (a quantised Linear's state dict holds
// `_packed_params.dtype`) and quantisation schemes (a quantised tensor's parameters).
bool IsTorchConstant(absl::string_view name) {
  static constexpr const char* kConstants[] = {
      "qint8",
      "quint8",
      "qint32",
      "quint4x2",
      "quint2x4",
      "float16",
      "float32",
      "float64",
      "bfloat16",
      "int8",
      "uint8",
      "int16",
      "int32",
      "int64",
      "bool",
      "per_tensor_affine",
      "per_channel_affine",
      "per_channel_affine_float_qparams",
      "per_tensor_symmetric",
      "per_channel_symmetric",
  };
  for (const char* c : kConstants) {
    if (name == c) return true;
  }
  return false;
}

std::optional<Role> AllowedGlobal(absl::string_view module, absl::string_view name) {
  if (module == "collections" && name == "OrderedDict") return Role::kOrderedDict;
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor") return Role::kRebuildTensor;
    if (name == "_rebuild_qtensor") return Role::kRebuildQTensor;
    if (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state") {
      return Role::kRebuildParameter;
    }
  }
  if (module == "torch._tensor" && name == "_rebuild_from_type_v2") return Role::kRebuildFromType;
  if (module == "torch" && (StorageDType(name) || FindUnreadStorage(name) != nullptr ||
                            IsTorchConstant(name) || name == "Tensor")) {
    return Role::kToken;
  }
  if (module == "torch.nn.parameter" && name == "Parameter") return Role::kToken;
  return std::nullopt;
}

absl::string_view ModuleOf(const Object* g) {
  return absl::string_view(g->text).substr(0, g->text.rfind('.'));
}
absl::string_view NameOf(const Object* g) {
  return absl::string_view(g->text).substr(g->text.rfind('.') + 1);
}

bool IsIntTuple(const Object* o) {
  if (o->kind != Kind::kTuple && o->kind != Kind::kList) return false;
  for (const Object* i : o->items) {
    if (i->kind != Kind::kInt) return false;
  }
  return true;
}

}  // namespace

Object* Unpickler::New(Kind kind) {
  arena_.push_back(std::make_unique<Object>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

absl::Status Unpickler::Error(size_t offset, absl::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(where_, ": pickle: ", what, " (at offset ", base_ + offset, ")"));
}

absl::StatusOr<Object*> Unpickler::MakeGlobal(size_t offset, absl::string_view module,
                                              absl::string_view name) {
  if (!AllowedGlobal(module, name)) {
    std::string hint;
    if (module == "__main__" || absl::StartsWith(module, "torch.nn")) {
      hint = "; if this is a pickled model object, save model.state_dict() instead";
    }
    return absl::PermissionDeniedError(absl::StrCat("refusing to execute pickle global '", module,
                                                    ".", name, "' in ", where_, " at offset ",
                                                    base_ + offset, hint));
  }
  Object* g = New(Kind::kGlobal);
  g->text = absl::StrCat(module, ".", name);
  return g;
}

absl::StatusOr<Object*> Unpickler::Reduce(size_t offset, Object* callable, Object* args) {
  if (callable->kind != Kind::kGlobal) return Error(offset, "REDUCE on a non-callable");
  if (args->kind != Kind::kTuple) return Error(offset, "REDUCE arguments are not a tuple");
  const auto role = AllowedGlobal(ModuleOf(callable), NameOf(callable));
  const auto& a = args->items;
  switch (role.value_or(Role::kToken)) {
    case Role::kOrderedDict:
      if (!a.empty()) return Error(offset, "OrderedDict called with arguments");
      return New(Kind::kDict);
    case Role::kRebuildTensor:
    case Role::kRebuildQTensor: {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks, metadata]);
      // a quantised tensor has its quantiser's parameters after the stride (not needed:
      // such tensors are left out).
      if (a.size() < 4 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt ||
          !IsIntTuple(a[2]) || !IsIntTuple(a[3])) {
        return Error(offset, "malformed _rebuild_tensor arguments");
      }
      Object* t = New(Kind::kTensor);
      t->quantized = role == Role::kRebuildQTensor;
      t->storage = a[0];
      t->storage_offset = a[1]->integer;
      for (const Object* d : a[2]->items) t->size.push_back(d->integer);
      for (const Object* s : a[3]->items) t->stride.push_back(s->integer);
      if (t->size.size() != t->stride.size()) {
        return Error(offset, "tensor size and stride have different lengths");
      }
      return t;
    }
    case Role::kRebuildParameter:
      // (data, requires_grad, backward_hooks[, state]): the parameter is its data.
      if (a.empty() || a[0]->kind != Kind::kTensor) {
        return Error(offset, "malformed _rebuild_parameter arguments");
      }
      return a[0];
    case Role::kRebuildFromType: {
      // (func, new_type, args, state): a tensor subclass; only func(*args) matters.
      if (a.size() < 3 || a[0]->kind != Kind::kGlobal || a[2]->kind != Kind::kTuple) {
        return Error(offset, "malformed _rebuild_from_type_v2 arguments");
      }
      // No nesting of itself: a hostile chain would otherwise recurse without bound.
      if (AllowedGlobal(ModuleOf(a[0]), NameOf(a[0])) == Role::kRebuildFromType) {
        return Error(offset, "nested _rebuild_from_type_v2");
      }
      return Reduce(offset, a[0], a[2]);
    }
    case Role::kToken:
      break;
  }
  return absl::PermissionDeniedError(absl::StrCat("refusing to call pickle global '",
                                                  callable->text, "' in ", where_, " at offset ",
                                                  base_ + offset));
}

absl::StatusOr<const Object*> Unpickler::Run() {
  ByteReader r(data_);
  std::vector<Object*> stack;
  std::vector<size_t> marks;
  std::unordered_map<uint64_t, Object*> memo;

  while (true) {
    const size_t at = r.offset();
    if (arena_.size() > kMaxObjects) return Error(at, "too many objects");
    uint8_t op;
    if (!r.Read(&op)) return Error(at, "truncated: no STOP opcode");
    auto need = [&](size_t n) -> absl::Status {
      if (stack.size() - (marks.empty() ? 0 : marks.back()) < n) {
        return Error(at, absl::StrFormat("stack underflow at opcode 0x%02x", op));
      }
      return absl::OkStatus();
    };
    auto truncated = [&] { return Error(at, absl::StrFormat("truncated opcode 0x%02x", op)); };
    auto pop_mark = [&](std::vector<Object*>* out) -> absl::Status {
      if (marks.empty()) return Error(at, "no MARK on the stack");
      const size_t m = marks.back();
      marks.pop_back();
      out->assign(stack.begin() + static_cast<ptrdiff_t>(m), stack.end());
      stack.resize(m);
      return absl::OkStatus();
    };
    auto push_string = [&](uint64_t len, Kind kind) -> absl::Status {
      std::span<const std::byte> s;
      if (len > r.remaining() || !r.ReadBytes(static_cast<size_t>(len), &s)) {
        return Error(at, absl::StrCat("string of ", len, " bytes runs past the end"));
      }
      Object* o = New(kind);
      o->text.assign(reinterpret_cast<const char*>(s.data()), s.size());
      stack.push_back(o);
      return absl::OkStatus();
    };
    auto add_items = [&](Object* target, std::vector<Object*>& items, bool dict) -> absl::Status {
      if (dict) {
        if (target->kind != Kind::kDict) return Error(at, "SETITEM(S) on a non-dict");
        if (items.size() % 2 != 0) return Error(at, "SETITEMS with an odd item count");
      } else if (target->kind != Kind::kList) {
        return Error(at, "APPEND(S) on a non-list");
      }
      target->items.insert(target->items.end(), items.begin(), items.end());
      return absl::OkStatus();
    };
    absl::Status st;
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t proto;
        if (!r.Read(&proto)) return truncated();
        if (proto > 5) return Error(at, absl::StrCat("unsupported pickle protocol ", proto));
        break;
      }
      case 0x95: {  // FRAME: framing is only a read-ahead hint
        uint64_t len;
        if (!r.Read(&len)) return truncated();
        break;
      }
      case '.': {  // STOP
        if (stack.empty()) return Error(at, "STOP with an empty stack");
        consumed_ = r.offset();
        return stack.back();
      }
      case '}':
        stack.push_back(New(Kind::kDict));
        break;
      case ']':
        stack.push_back(New(Kind::kList));
        break;
      case ')':
        stack.push_back(New(Kind::kTuple));
        break;
      case 'N':
        stack.push_back(New(Kind::kNone));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        Object* o = New(Kind::kBool);
        o->boolean = op == 0x88;
        stack.push_back(o);
        break;
      }
      case '(':  // MARK
        marks.push_back(stack.size());
        break;
      case 'J':
      case 'K':
      case 'M': {  // BININT, BININT1, BININT2
        Object* o = New(Kind::kInt);
        if (op == 'J') {
          int32_t v;
          if (!r.Read(&v)) return truncated();
          o->integer = v;
        } else if (op == 'K') {
          uint8_t v;
          if (!r.Read(&v)) return truncated();
          o->integer = v;
        } else {
          uint16_t v;
          if (!r.Read(&v)) return truncated();
          o->integer = v;
        }
        stack.push_back(o);
        break;
      }
      case 0x8a: {  // LONG1: n-byte little-endian two's complement
        uint8_t n;
        std::span<const std::byte> b;
        if (!r.Read(&n) || !r.ReadBytes(n, &b)) return truncated();
        if (n > 8) return Error(at, "integer wider than 64 bits");
        uint64_t u = 0;
        for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>(b[i]) << (8 * i);
        if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80) != 0) {
          u |= ~uint64_t{0} << (8 * n);  // sign-extend
        }
        Object* o = New(Kind::kInt);
        o->integer = static_cast<int64_t>(u);
        stack.push_back(o);
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        std::span<const std::byte> b;
        if (!r.ReadBytes(8, &b)) return truncated();
        uint64_t u = 0;
        for (size_t i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(b[i]);
        Object* o = New(Kind::kFloat);
        o->real = std::bit_cast<double>(u);
        stack.push_back(o);
        break;
      }
      case 'X':
      case 'B': {  // BINUNICODE, BINBYTES
        uint32_t len;
        if (!r.Read(&len)) return truncated();
        st = push_string(len, op == 'X' ? Kind::kString : Kind::kBytes);
        break;
      }
      case 0x8c:
      case 'C': {  // SHORT_BINUNICODE, SHORT_BINBYTES
        uint8_t len;
        if (!r.Read(&len)) return truncated();
        st = push_string(len, op == 0x8c ? Kind::kString : Kind::kBytes);
        break;
      }
      case 0x8d:
      case 0x8e: {  // BINUNICODE8, BINBYTES8
        uint64_t len;
        if (!r.Read(&len)) return truncated();
        st = push_string(len, op == 0x8d ? Kind::kString : Kind::kBytes);
        break;
      }
      case 't': {  // TUPLE
        Object* o = New(Kind::kTuple);
        st = pop_mark(&o->items);
        if (st.ok()) stack.push_back(o);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84u;
        st = need(n);
        if (!st.ok()) break;
        Object* o = New(Kind::kTuple);
        o->items.assign(stack.end() - static_cast<ptrdiff_t>(n), stack.end());
        stack.resize(stack.size() - n);
        stack.push_back(o);
        break;
      }
      case 'l':
      case 'd': {  // LIST, DICT from the items above MARK
        Object* o = New(op == 'l' ? Kind::kList : Kind::kDict);
        std::vector<Object*> items;
        st = pop_mark(&items);
        if (st.ok()) st = add_items(o, items, op == 'd');
        if (st.ok()) stack.push_back(o);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string parts[2];
        for (std::string& part : parts) {
          uint8_t ch;
          while (true) {
            if (!r.Read(&ch)) return truncated();
            if (ch == '\n') break;
            if (part.size() >= kMaxGlobalName) return Error(at, "GLOBAL name too long");
            part.push_back(static_cast<char>(ch));
          }
        }
        auto g = MakeGlobal(at, parts[0], parts[1]);
        if (!g.ok()) return g.status();
        stack.push_back(*g);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        st = need(2);
        if (!st.ok()) break;
        Object* name = stack.back();
        Object* module = stack[stack.size() - 2];
        if (name->kind != Kind::kString || module->kind != Kind::kString) {
          return Error(at, "STACK_GLOBAL operands are not strings");
        }
        stack.resize(stack.size() - 2);
        auto g = MakeGlobal(at, module->text, name->text);
        if (!g.ok()) return g.status();
        stack.push_back(*g);
        break;
      }
      case 'R': {  // REDUCE
        st = need(2);
        if (!st.ok()) break;
        Object* args = stack.back();
        Object* callable = stack[stack.size() - 2];
        stack.resize(stack.size() - 2);
        auto result = Reduce(at, callable, args);
        if (!result.ok()) return result.status();
        stack.push_back(*result);
        break;
      }
      case 'Q': {  // BINPERSID: ('storage', storage_type, key, location, numel)
        st = need(1);
        if (!st.ok()) break;
        Object* pid = stack.back();
        stack.pop_back();
        const auto& a = pid->items;
        // Legacy (non-zip) files add a sixth item, view metadata, None since torch 0.4.
        if (pid->kind == Kind::kTuple && a.size() == 6 && a[5]->kind != Kind::kNone) {
          return Error(at, "storage views of pre-0.4 PyTorch files are not supported");
        }
        if (pid->kind != Kind::kTuple || (a.size() != 5 && a.size() != 6) ||
            a[0]->kind != Kind::kString || a[0]->text != "storage" || a[1]->kind != Kind::kGlobal ||
            a[2]->kind != Kind::kString || a[4]->kind != Kind::kInt) {
          return Error(at, "persistent id is not a ('storage', type, key, location, numel) tuple");
        }
        const bool torch = ModuleOf(a[1]) == "torch";
        const auto dtype = torch ? StorageDType(NameOf(a[1])) : std::nullopt;
        const UnreadStorage* unread = torch ? FindUnreadStorage(NameOf(a[1])) : nullptr;
        if (!dtype && unread == nullptr) {
          return Error(at, absl::StrCat("unsupported storage type '", a[1]->text, "'"));
        }
        Object* s = New(Kind::kStorage);
        if (dtype) {
          s->dtype = *dtype;
          s->elem_bytes = DTypeSize(*dtype);
        } else {
          s->unread_type = a[1]->text;
          s->elem_bytes = unread->elem_bytes;
          s->values_per_byte = unread->values_per_byte;
        }
        s->storage_key = a[2]->text;
        if (a[3]->kind == Kind::kString) s->location = a[3]->text;
        s->storage_numel = a[4]->integer;
        storages_.push_back(s);
        stack.push_back(s);
        break;
      }
      case 's': {  // SETITEM
        st = need(3);
        if (!st.ok()) break;
        std::vector<Object*> kv(stack.end() - 2, stack.end());
        stack.resize(stack.size() - 2);
        st = add_items(stack.back(), kv, true);
        break;
      }
      case 'u':
      case 'e': {  // SETITEMS, APPENDS
        std::vector<Object*> items;
        st = pop_mark(&items);
        if (!st.ok()) break;
        st = need(1);
        if (!st.ok()) break;
        st = add_items(stack.back(), items, op == 'u');
        break;
      }
      case 'a': {  // APPEND
        st = need(2);
        if (!st.ok()) break;
        std::vector<Object*> item(1, stack.back());
        stack.pop_back();
        st = add_items(stack.back(), item, false);
        break;
      }
      case 'b': {  // BUILD: instance state; dicts (OrderedDict._metadata) and tensors ignore it
        st = need(2);
        if (!st.ok()) break;
        stack.pop_back();
        const Kind k = stack.back()->kind;
        if (k != Kind::kDict && k != Kind::kTensor)
          return Error(at, "BUILD on an unsupported object");
        break;
      }
      case 0x94:  // MEMOIZE
        st = need(1);
        if (!st.ok()) break;
        if (memo.size() >= kMaxMemo) return Error(at, "memo too large");
        memo[memo.size()] = stack.back();
        break;
      case 'q':
      case 'r': {  // BINPUT, LONG_BINPUT
        uint32_t key = 0;
        if (op == 'q') {
          uint8_t k8;
          if (!r.Read(&k8)) return truncated();
          key = k8;
        } else if (!r.Read(&key)) {
          return truncated();
        }
        st = need(1);
        if (!st.ok()) break;
        if (memo.size() >= kMaxMemo) return Error(at, "memo too large");
        memo[key] = stack.back();
        break;
      }
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        uint32_t key = 0;
        if (op == 'h') {
          uint8_t k8;
          if (!r.Read(&k8)) return truncated();
          key = k8;
        } else if (!r.Read(&key)) {
          return truncated();
        }
        auto it = memo.find(key);
        if (it == memo.end()) return Error(at, absl::StrCat("memo key ", key, " not defined"));
        stack.push_back(it->second);
        break;
      }
      case '0':  // POP
        st = need(1);
        if (st.ok()) stack.pop_back();
        break;
      case '1': {  // POP_MARK
        std::vector<Object*> dropped;
        st = pop_mark(&dropped);
        break;
      }
      case '2':  // DUP
        st = need(1);
        if (st.ok()) stack.push_back(stack.back());
        break;
      default:
        return Error(at, absl::StrFormat("unsupported pickle opcode 0x%02x", op));
    }
    if (!st.ok()) return st;
  }
}

}  // namespace htsr::readers::pickle
