#include "htsr/text_escape.h"

#include <string>

#include "gtest/gtest.h"

namespace htsr {
namespace {

TEST(TextEscape, JsonStringEscapesQuotesBackslashesAndEveryControlCharacter) {
  EXPECT_EQ(JsonString("plain.weight"), "\"plain.weight\"");
  EXPECT_EQ(JsonString(""), "\"\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  // A name from a hostile file: NUL, ESC and DEL-free control bytes never pass through raw.
  EXPECT_EQ(JsonString(std::string("x\0y\x1b", 4)), "\"x\\u0000y\\u001b\"");
  // Bytes >= 0x80 (UTF-8) are kept as they are.
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(TextEscape, CsvFieldQuotesOnlyWhereNeeded) {
  EXPECT_EQ(CsvField("layers.0.fc1"), "layers.0.fc1");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

}  // namespace
}  // namespace htsr
