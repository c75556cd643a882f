#include "htsr/base/text_escape.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace htsr {
namespace {

using Cases = std::vector<std::pair<std::string, std::string>>;  // input, expected

TEST(TextEscape, JsonStringEscapesQuotesBackslashesAndEveryControlCharacter) {
  const Cases cases = {
      {"plain.weight", "\"plain.weight\""},
      {"", "\"\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {"l1\nl2\r\t", "\"l1\\nl2\\r\\t\""},
      // A name from a hostile file: NUL, ESC and DEL never pass through raw.
      {std::string("x\0y\x1b", 4), "\"x\\u0000y\\u001b\""},
      {"a\x7f", "\"a\\u007f\""},
      // Valid UTF-8 is kept as it is (2, 3 and 4 byte sequences).
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      // Not UTF-8 becomes U+FFFD, a byte at a time: Latin-1, a stray continuation byte, a
      // character cut short (a name truncated by a byte limit), an overlong '/', a UTF-16
      // surrogate, a code point above U+10FFFF.
      {"caf\xe9", "\"caf\\ufffd\""},
      {"\x80x", "\"\\ufffdx\""},
      {"ab\xe2\x82", "\"ab\\ufffd\\ufffd\""},
      {"\xc0\xaf", "\"\\ufffd\\ufffd\""},
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
      {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(JsonString(in), want) << in;
}

TEST(TextEscape, CsvFieldQuotesOnlyWhereNeeded) {
  const Cases cases = {
      {"layers.0.fc1", "layers.0.fc1"},
      {"", ""},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(CsvField(in), want) << in;
}

TEST(TextEscape, CsvTextFieldDefusesFormulasButNotNumbers) {
  const Cases cases = {
      {"layers.0.fc1", "layers.0.fc1"},
      {"", ""},
      {"=1+1", "'=1+1"},
      {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
      {"+cmd", "'+cmd"},
      {"-cmd", "'-cmd"},
      {"@SUM(A1)", "'@SUM(A1)"},
      {"\tx", "'\tx"},
      {"\rx", "\"'\rx\""},
      {"a=b", "a=b"},
      {"-1.5", "-1.5"},
      {"+3e-2", "+3e-2"},
      {"-.5", "-.5"},
      {"-1e", "'-1e"},
      {"-", "'-"},
      {"-1.5+cmd", "'-1.5+cmd"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(CsvTextField(in), want) << in;
}

}  // namespace
}  // namespace htsr
