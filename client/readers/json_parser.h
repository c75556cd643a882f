// A small strict JSON parser (RFC 8259) for safetensors headers, *.index.json files, PEFT
// and Keras configs. JSON libraries exist (Debian ships nlohmann-json, RapidJSON, simdjson);
// this one is ours because these inputs are hostile and what we need from a parser is
// narrow: nesting depth and input size bounded before anything is allocated, numbers kept
// as their text so that 64-bit data offsets stay exact (a double-based DOM loses them past
// 2^53), duplicate keys reported rather than silently merged, every error naming the byte
// offset, and a fuzz target of its own (tests/fuzz/json_fuzzer.cc). About 300 lines.
#ifndef HTSR_CLIENT_READERS_JSON_PARSER_H_
#define HTSR_CLIENT_READERS_JSON_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace htsr::readers {

struct JsonMember;

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // string contents (UTF-8), or the number exactly as written
  std::vector<JsonValue> array;
  std::vector<JsonMember> object;  // file order, keys unique

  bool IsObject() const { return kind == Kind::kObject; }
  bool IsArray() const { return kind == Kind::kArray; }
  bool IsString() const { return kind == Kind::kString; }
  // The member named `key`, or nullptr.
  const JsonValue* Find(absl::string_view key) const;
  // A non-negative integer written without fraction or exponent that fits uint64.
  std::optional<uint64_t> AsUint64() const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

struct JsonLimits {
  size_t max_depth = 64;
  size_t max_bytes = size_t{100} << 20;
};

// Parses one JSON value followed only by whitespace. Errors give the byte offset within
// `text` (callers add the file and the base offset). Duplicate object keys are refused:
// different JSON libraries keep different copies, so the file is ambiguous.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text, JsonLimits limits = {});

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_JSON_PARSER_H_
