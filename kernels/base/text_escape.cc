#include "htsr/base/text_escape.h"

#include <cstdint>
#include <cstdio>

namespace htsr {

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when it is not one
// (stray continuation byte, overlong form, surrogate, above U+10FFFF, cut short).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      // Not UTF-8 (a Latin-1 name, a name cut mid-character): U+FFFD keeps the document
      // valid JSON, which must be UTF-8.
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

namespace {

// [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits...: what a spreadsheet reads as a
// number, never as a formula.
bool IsPlainNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  auto skip_digits = [&](size_t* count) {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++*count;
  };
  skip_digits(&digits);
  if (i < s.size() && s[i] == '.') {
    ++i;
    skip_digits(&digits);
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    skip_digits(&exp);
    if (exp == 0) return false;
  }
  return i == s.size();
}

}  // namespace

std::string CsvTextField(std::string_view s) {
  constexpr std::string_view kFormulaStart = "=+-@\t\r";
  if (!s.empty() && kFormulaStart.find(s[0]) != std::string_view::npos && !IsPlainNumber(s)) {
    return CsvField(std::string("'").append(s));
  }
  return CsvField(s);
}

}  // namespace htsr
