#include "results/python_dict.h"

#include <cctype>
#include <cstdlib>
#include <limits>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace htsr::results {
namespace {

class DictScanner {
 public:
  DictScanner(absl::string_view text, absl::string_view source) : t_(text), src_(source) {}

  absl::StatusOr<std::vector<std::pair<std::string, double>>> Run() {
    std::vector<std::pair<std::string, double>> out;
    SkipSpace();
    if (!Eat('{')) return Error("expected '{' (a Python dict literal)");
    SkipSpace();
    if (Eat('}')) return Finish(out);
    while (true) {
      SkipSpace();
      auto key = String();
      if (!key.ok()) return key.status();
      SkipSpace();
      if (!Eat(':')) return Error("expected ':' after a key");
      SkipSpace();
      auto value = Value(0);
      if (!value.ok()) return value.status();
      if (value->has_value()) out.emplace_back(*std::move(key), **value);
      SkipSpace();
      if (Eat(',')) {
        SkipSpace();
        if (Eat('}')) return Finish(out);
        continue;
      }
      if (Eat('}')) return Finish(out);
      return Error("expected ',' or '}'");
    }
  }

 private:
  absl::StatusOr<std::vector<std::pair<std::string, double>>> Finish(
      std::vector<std::pair<std::string, double>>& out) {
    SkipSpace();
    if (pos_ != t_.size()) return Error("text after the closing '}'");
    return std::move(out);
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(src_, ": offset ", pos_, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < t_.size() && t_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::StatusOr<std::string> String() {
    if (pos_ >= t_.size() || (t_[pos_] != '\'' && t_[pos_] != '"')) {
      return Error("expected a quoted string key");
    }
    const char q = t_[pos_++];
    std::string s;
    while (pos_ < t_.size() && t_[pos_] != q) {
      if (t_[pos_] == '\\' && pos_ + 1 < t_.size()) ++pos_;  // keep the escaped char
      s += t_[pos_++];
    }
    if (pos_ >= t_.size()) return Error("string never closed");
    ++pos_;
    return s;
  }

  // A scalar value; nullopt for None and strings. `depth` bounds wrapper nesting.
  absl::StatusOr<std::optional<double>> Value(int depth) {
    if (depth > 4) return Error("too deeply nested value");
    if (pos_ >= t_.size()) return Error("value expected, found the end");
    const char c = t_[pos_];
    if (c == '\'' || c == '"') {
      auto s = String();
      if (!s.ok()) return s.status();
      return std::optional<double>();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      const size_t start = pos_;
      if (c == '-' || c == '+') ++pos_;
      // "-inf" / "-nan" written by repr() of numpy values.
      if (pos_ < t_.size() && std::isalpha(static_cast<unsigned char>(t_[pos_]))) {
        auto v = Value(depth + 1);
        if (!v.ok() || !v->has_value()) return Error("a sign before a non-number");
        return std::optional<double>(c == '-' ? -**v : **v);
      }
      while (pos_ < t_.size() &&
             (std::isdigit(static_cast<unsigned char>(t_[pos_])) || t_[pos_] == '.' ||
              t_[pos_] == 'e' || t_[pos_] == 'E' || t_[pos_] == '_' ||
              ((t_[pos_] == '-' || t_[pos_] == '+') &&
               (t_[pos_ - 1] == 'e' || t_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      std::string num(t_.substr(start, pos_ - start));
      std::erase(num, '_');
      char* end = nullptr;
      const double v = std::strtod(num.c_str(), &end);
      if (end != num.c_str() + num.size()) return Error(absl::StrCat("bad number '", num, "'"));
      return std::optional<double>(v);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[pos_])) ||
                                  t_[pos_] == '_' || t_[pos_] == '.')) {
        ++pos_;
      }
      const absl::string_view word = t_.substr(start, pos_ - start);
      if (word == "nan") return std::optional<double>(std::numeric_limits<double>::quiet_NaN());
      if (word == "inf") return std::optional<double>(std::numeric_limits<double>::infinity());
      if (word == "True") return std::optional<double>(1.0);
      if (word == "False") return std::optional<double>(0.0);
      if (word == "None") return std::optional<double>();
      // np.float64(1.5), float('nan'), np.int64(3): a call of one scalar argument.
      SkipSpace();
      if (!Eat('(')) return Error(absl::StrCat("unsupported value '", word, "'"));
      SkipSpace();
      auto inner = Value(depth + 1);
      if (!inner.ok()) return inner.status();
      std::optional<double> v = *inner;
      // Only scalar wrappers of a number: anything else looks like code, not a value.
      if (!v) return Error(absl::StrCat("'", word, "(...)' of a non-number is not a value"));
      SkipSpace();
      if (!Eat(')')) return Error("expected ')'");
      return v;
    }
    return Error(absl::StrCat("unsupported value starting with '", std::string(1, c), "'"));
  }

  absl::string_view t_;
  absl::string_view src_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, double>>> ParsePythonDictNumbers(
    absl::string_view text, absl::string_view source) {
  return DictScanner(text, source).Run();
}

}  // namespace htsr::results
