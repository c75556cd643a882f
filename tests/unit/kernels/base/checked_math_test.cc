// Checked size math: the one copy the engine, readers and server share.
#include "htsr/base/checked_math.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/tensor.h"

namespace htsr {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(CheckedMathTest, MulAndAddDetectWrapAround) {
  EXPECT_EQ(CheckedMul(3, 4), std::optional<uint64_t>(12));
  EXPECT_EQ(CheckedMul(0, UINT64_MAX), std::optional<uint64_t>(0));
  EXPECT_FALSE(CheckedMul(uint64_t{1} << 32, uint64_t{1} << 32).has_value());
  EXPECT_EQ(CheckedAdd(UINT64_MAX - 1, 1), std::optional<uint64_t>(UINT64_MAX));
  EXPECT_FALSE(CheckedAdd(UINT64_MAX, 1).has_value());
}

TEST(CheckedMathTest, NumElements) {
  EXPECT_EQ(CheckedNumElements(std::vector<int64_t>{3, 4, 5}), std::optional<uint64_t>(60));
  EXPECT_EQ(CheckedNumElements(std::vector<int64_t>{}), std::optional<uint64_t>(1));
  EXPECT_EQ(CheckedNumElements(std::vector<int64_t>{7, 0, kMax}), std::optional<uint64_t>(0));
  EXPECT_EQ(CheckedNumElements(std::vector<int64_t>{kMax}),
            std::optional<uint64_t>(static_cast<uint64_t>(kMax)));
  // Negative dimensions and products past int64 (even if they fit uint64) are refused.
  EXPECT_FALSE(CheckedNumElements(std::vector<int64_t>{4, -1}).has_value());
  EXPECT_FALSE(CheckedNumElements(std::vector<int64_t>{kMax, 2}).has_value());
  EXPECT_FALSE(
      CheckedNumElements(std::vector<int64_t>{int64_t{1} << 32, int64_t{1} << 32}).has_value());
  // Overflow before a zero dimension is still overflow.
  EXPECT_FALSE(CheckedNumElements(std::vector<int64_t>{kMax, kMax, 0}).has_value());
}

TEST(CheckedMathTest, ByteSize) {
  EXPECT_EQ(CheckedByteSize(std::vector<int64_t>{3, 4}, 4), std::optional<uint64_t>(48));
  EXPECT_EQ(CheckedByteSize(std::vector<int64_t>{}, 8), std::optional<uint64_t>(8));
  EXPECT_FALSE(CheckedByteSize(std::vector<int64_t>{kMax / 2 + 1}, 2).has_value());
  EXPECT_FALSE(CheckedByteSize(std::vector<int64_t>{-3}, 4).has_value());
}

TEST(CheckedMathTest, TensorInfoNumElementsAgrees) {
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{
           {3, 4, 5}, {}, {0, kMax}, {kMax, 2}, {-1}, {kMax, kMax, 0}}) {
    TensorInfo info;
    info.shape = shape;
    const std::optional<uint64_t> n = CheckedNumElements(shape);
    ASSERT_EQ(info.NumElements().has_value(), n.has_value()) << ShapeString(shape);
    if (n) {
      EXPECT_EQ(static_cast<uint64_t>(*info.NumElements()), *n);
    }
  }
}

TEST(CheckedMathTest, ShapeString) {
  EXPECT_EQ(ShapeString(std::vector<int64_t>{3, 4, 5}), "[3, 4, 5]");
  EXPECT_EQ(ShapeString(std::vector<int64_t>{}), "[]");
  EXPECT_EQ(ShapeString(std::vector<int64_t>{-1}), "[-1]");
}

}  // namespace
}  // namespace htsr
