#include "readers/pickle_unpickler.h"

#include <string>

#include "gtest/gtest.h"
#include "reader_test_util.h"

namespace htsr::readers::pickle {
namespace {

using namespace std::string_literals;
namespace pk = ::htsr::readers::testing::pk;

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(PickleUnpicklerTest, BuildsAStateDict) {
  const std::string p = pk::Proto() + pk::OrderedDict() + "q\x00("s + pk::Str("w") +
                        pk::Tensor("HalfStorage", "0", 6, 2, {2, 2}, {1, 2}) + "u.";
  Unpickler u(Bytes(p), "t.pt:archive/data.pkl");
  auto root = u.Run();
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_EQ((*root)->kind, Kind::kDict);
  ASSERT_EQ((*root)->items.size(), 2u);
  const Object* t = (*root)->items[1];
  ASSERT_EQ(t->kind, Kind::kTensor);
  EXPECT_EQ(t->storage->dtype, DType::kF16);
  EXPECT_EQ(t->storage->storage_key, "0");
  EXPECT_EQ(t->storage_offset, 2);
  EXPECT_EQ(t->size, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t->stride, (std::vector<int64_t>{1, 2}));
}

TEST(PickleUnpicklerTest, IntegersFloatsAndMemo) {
  // LONG1 -2 (0xfe), BININT1 7, BININT2 300, BINFLOAT 1.5, then a BINGET of the list.
  const std::string p =
      pk::Proto() + "]q\x01(\x8a\x01\xfeK\x07M\x2c\x01G\x3f\xf8\0\0\0\0\0\0eh\x01\x86."s;
  Unpickler u(Bytes(p), "m");
  auto root = u.Run();
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_EQ((*root)->kind, Kind::kTuple);
  const Object* list = (*root)->items[0];
  ASSERT_EQ(list, (*root)->items[1]);
  ASSERT_EQ(list->items.size(), 4u);
  EXPECT_EQ(list->items[0]->integer, -2);
  EXPECT_EQ(list->items[1]->integer, 7);
  EXPECT_EQ(list->items[2]->integer, 300);
  EXPECT_EQ(list->items[3]->real, 1.5);
}

TEST(PickleUnpicklerTest, RefusesDangerousGlobals) {
  const std::string os = pk::Proto() + pk::Global("os", "system") + pk::Str("rm -rf /") + "\x85R.";
  Unpickler u1(Bytes(os), "evil.pt:archive/data.pkl");
  auto r1 = u1.Run();
  ASSERT_FALSE(r1.ok());
  EXPECT_HAS(r1.status().message(),
             "refusing to execute pickle global 'os.system' in "
             "evil.pt:archive/data.pkl at offset 2");
  // STACK_GLOBAL form.
  const std::string ev =
      pk::Proto() + pk::Str("builtins") + pk::Str("eval") + "\x93" + pk::Str("1") + "\x85R.";
  Unpickler u2(Bytes(ev), "evil2");
  auto r2 = u2.Run();
  ASSERT_FALSE(r2.ok());
  EXPECT_HAS(r2.status().message(), "'builtins.eval'");
  // A pickled nn.Module gets a hint.
  const std::string mod = pk::Proto() + pk::Global("__main__", "Net") + ")\x81.";
  Unpickler u3(Bytes(mod), "net.pt");
  auto r3 = u3.Run();
  ASSERT_FALSE(r3.ok());
  EXPECT_HAS(r3.status().message(), "state_dict()");
  // Allow-listed tokens cannot be called.
  const std::string call = pk::Proto() + pk::Global("torch", "FloatStorage") + ")R.";
  Unpickler u4(Bytes(call), "c");
  EXPECT_FALSE(u4.Run().ok());
  // Unsupported opcodes (INST, OBJ, NEWOBJ) are errors.
  for (const char* op : {"i", "o", "\x81", "P", "\x8b"}) {
    const std::string p = pk::Proto() + ")" + op + ".";
    Unpickler u(Bytes(p), "op");
    EXPECT_FALSE(u.Run().ok()) << op;
  }
}

TEST(PickleUnpicklerTest, MalformedStreams) {
  for (const std::string& p :
       {""s, "\x80\x02"s, "\x80\x02t."s, "\x80\x02u."s, "\x80\x02h\x05."s,
        "\x80\x02X\xff\xff\xff\xff"s, "\x80\x02\x8a\x09\0\0\0\0\0\0\0\0\0."s, "\x80\x02}a."s,
        "\x80\x02](K\x01u."s, "\x80\x02."s, "\x80\x09N."s, "\x80\x02(K\x01s."s, "\x80\x02(0."s,
        "\x80\x02NN\x94q\x01"
        "b."s}) {
    Unpickler u(Bytes(p), "bad");
    EXPECT_FALSE(u.Run().ok()) << ::testing::PrintToString(p);
  }
}

TEST(PickleUnpicklerTest, CyclesAndDepthDoNotCrash) {
  // A list appended to itself, then a deep nest of lists: the arena frees all of it.
  std::string p = pk::Proto() +
                  "]q\x00"
                  "h\x00"
                  "a"s;
  p += std::string(200000, ']') + std::string(200000, 'a') + ".";
  Unpickler u(Bytes(p), "deep");
  auto root = u.Run();
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ((*root)->kind, Kind::kList);
}

}  // namespace
}  // namespace htsr::readers::pickle
