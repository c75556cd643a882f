#include "readers/json_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace htsr::readers {
namespace {

TEST(JsonParserTest, ParsesValuesAndKeepsOrder) {
  auto v = ParseJson(R"( {"b": [1, -2.5e3, true, false, null], "a": "x\"\u00e9\ud83d\ude00"} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->IsObject());
  ASSERT_EQ(v->object.size(), 2u);
  EXPECT_EQ(v->object[0].key, "b");
  EXPECT_EQ(v->object[1].key, "a");
  EXPECT_EQ(v->Find("a")->text, "x\"\xc3\xa9\xf0\x9f\x98\x80");
  const auto& arr = v->Find("b")->array;
  ASSERT_EQ(arr.size(), 5u);
  EXPECT_EQ(arr[0].AsUint64(), 1u);
  EXPECT_FALSE(arr[1].AsUint64().has_value());
  EXPECT_TRUE(arr[2].boolean);
  EXPECT_EQ(arr[4].kind, JsonValue::Kind::kNull);
}

TEST(JsonParserTest, Uint64IsExact) {
  auto v = ParseJson("[18446744073709551615, 18446744073709551616, 1.0, 01]");
  ASSERT_FALSE(v.ok());  // leading zero
  v = ParseJson("[18446744073709551615, 18446744073709551616, 1.0]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->array[0].AsUint64(), ~uint64_t{0});
  EXPECT_FALSE(v->array[1].AsUint64().has_value());
  EXPECT_FALSE(v->array[2].AsUint64().has_value());
}

TEST(JsonParserTest, RejectsMalformedInput) {
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "\"\x01\"", "\"\\x\"", "\"\\ud800\"", "[1] 2",
        "nul", "-", "1.", "1e", "{\"a\" 1}", "{\"a\":1,\"a\":2}", "\"unterminated"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(JsonParserTest, EnforcesLimits) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nesting"), std::string::npos);
  EXPECT_TRUE(ParseJson("[[[1]]]", JsonLimits{.max_depth = 3}).ok());
  EXPECT_FALSE(ParseJson("[[[[1]]]]", JsonLimits{.max_depth = 3}).ok());
  EXPECT_FALSE(ParseJson("[1, 2, 3]", JsonLimits{.max_depth = 8, .max_bytes = 4}).ok());
}

}  // namespace
}  // namespace htsr::readers
