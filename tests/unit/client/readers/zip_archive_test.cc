#include "readers/zip_archive.h"

#include <string>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "reader_test_util.h"

namespace htsr::readers::testing {
namespace {

std::string AsString(const ZipBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size());
}

TEST(ZipArchiveTest, StoredDeflatedAndZip64) {
  const std::string big(100000, 'x');
  for (bool zip64 : {false, true}) {
    ZipWriter w;
    w.Add("s", "stored bytes");
    w.Add("d", big, /*deflate=*/true);
    auto zip = ZipArchive::Open(BufferBytes("t.zip", w.Finish(zip64)));
    ASSERT_TRUE(zip.ok()) << zip.status();
    ASSERT_EQ(zip->entries().size(), 2u);
    const ZipEntry* s = zip->Find("s");
    const ZipEntry* d = zip->Find("d");
    ASSERT_NE(s, nullptr);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->method, 8);
    EXPECT_EQ(d->uncompressed_size, big.size());
    auto sb = zip->Read(*s);
    auto db = zip->Read(*d);
    ASSERT_TRUE(sb.ok() && db.ok());
    EXPECT_EQ(AsString(*sb), "stored bytes");
    EXPECT_EQ(AsString(*db), big);
    auto prefix = zip->ReadPrefix(*d, 10);
    ASSERT_TRUE(prefix.ok());
    EXPECT_EQ(AsString(*prefix), big.substr(0, 10));
  }
}

TEST(ZipArchiveTest, CorruptDeflateAndCrcAreErrors) {
  ZipWriter w;
  w.Add("d", std::string(5000, 'y') + "tail", true);
  std::string file = w.Finish();
  // Flip a byte of the compressed data (after the 30 + 1 byte local header).
  std::string crc_bad = file;
  const size_t cd = crc_bad.find(std::string("PK\x01\x02", 4));
  crc_bad[cd + 16] ^= 0x55;  // central directory CRC
  auto zip = ZipArchive::Open(BufferBytes("crc.zip", crc_bad));
  ASSERT_TRUE(zip.ok());
  auto r = zip->Read(zip->entries()[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "CRC");

  for (size_t pos = 31; pos < 40; ++pos) {
    std::string broken = file;
    broken[pos] ^= 0xff;
    auto z = ZipArchive::Open(BufferBytes("bad.zip", broken));
    ASSERT_TRUE(z.ok());
    EXPECT_FALSE(z->Read(z->entries()[0]).ok()) << pos;
  }
}

TEST(ZipArchiveTest, HostileDirectories) {
  EXPECT_FALSE(ZipArchive::Open(BufferBytes("e.zip", "")).ok());
  EXPECT_FALSE(ZipArchive::Open(BufferBytes("e.zip", "PK\x03\x04 not a zip at all......")).ok());
  ZipWriter w;
  w.Add("a", "hello");
  const std::string good = w.Finish();
  // Entry count larger than the directory can hold.
  std::string many = good;
  many.replace(many.size() - 22 + 10, 2, LE<uint16_t>(5000));
  auto z = ZipArchive::Open(BufferBytes("many.zip", many));
  EXPECT_FALSE(z.ok());
  // Directory offset past the end.
  std::string off = good;
  off.replace(off.size() - 22 + 16, 4, LE<uint32_t>(0x7fffffff));
  EXPECT_FALSE(ZipArchive::Open(BufferBytes("off.zip", off)).ok());
  // Local header offset pointing nowhere.
  std::string lh = good;
  const size_t cd = lh.find(std::string("PK\x01\x02", 4));
  lh.replace(cd + 42, 4, LE<uint32_t>(3));
  auto zl = ZipArchive::Open(BufferBytes("lh.zip", lh));
  ASSERT_FALSE(zl.ok());
  EXPECT_HAS(zl.status().message(), "'a'");
  // Encrypted entries and unknown methods.
  std::string enc = good;
  enc[cd + 8] = 1;
  EXPECT_HAS(ZipArchive::Open(BufferBytes("enc.zip", enc)).status().message(), "encrypted");
  std::string bz = good;
  bz[cd + 10] = 12;
  EXPECT_FALSE(ZipArchive::Open(BufferBytes("bz.zip", bz)).ok());
  // A deflated entry declaring an impossible expansion ratio.
  ZipWriter d;
  d.Add("d", std::string(100, 'z'), true);
  std::string ratio = d.Finish();
  const size_t dcd = ratio.find(std::string("PK\x01\x02", 4));
  ratio.replace(dcd + 24, 4, LE<uint32_t>(0xfffffff0u));
  // Refused at Open: the declared total is beyond deflate's ratio for the whole file.
  auto zr = ZipArchive::Open(BufferBytes("ratio.zip", ratio));
  EXPECT_HAS(zr.status().message(),
             "ratio.zip: zip: entries declare 4294967280 uncompressed bytes");
  // Every truncation.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ZipArchive::Open(BufferBytes("cut.zip", good.substr(0, n))).ok()) << n;
  }
}

// The overlap zip bomb: central directory entries that share one stretch of compressed data,
// so a small file inflates many times over. Every entry's [local header, end of data) must
// be its own.
TEST(ZipArchiveTest, EntriesSharingTheSameBytesAreRefused) {
  const std::string zeros(1 << 20, '\0');
  ZipWriter w;
  w.Add("kernel", zeros, /*deflate=*/true);
  for (int i = 0; i < 100; ++i) w.AddEntryAt(absl::StrCat("copy", i), zeros, true, 0);
  const std::string bomb = w.Finish();
  ASSERT_LT(bomb.size(), 10000u);  // 100 MiB of "members" from a few KB
  auto z = ZipArchive::Open(BufferBytes("bomb.zip", bomb));
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_HAS(z.status().message(), "bomb.zip: zip: entry '");
  EXPECT_HAS(z.status().message(), "(bytes 0 to ");
  EXPECT_HAS(z.status().message(), "overlapping entries (a zip bomb's trick) are refused");
}

TEST(ZipArchiveTest, EntryInsideAnotherEntrysDataIsRefused) {
  // Fifield's quoted overlap: entry 'inner''s local record sits inside 'outer''s data.
  const std::string inner = ZipWriter::LocalRecord("inner", "payload");
  ZipWriter w;
  w.Add("outer", "head" + inner);
  w.AddEntryAt("inner", "payload", false, 30 + 5 + 4);
  auto z = ZipArchive::Open(BufferBytes("nested.zip", w.Finish()));
  ASSERT_FALSE(z.ok());
  EXPECT_HAS(z.status().message(),
             absl::StrCat("nested.zip: zip: entry 'inner' (bytes 39 to ", 39 + inner.size(),
                          ") overlaps entry 'outer' (bytes 0 to ", 30 + 5 + 4 + inner.size(), ")"));
  // The same two members one after the other are fine.
  ZipWriter ok;
  ok.Add("outer", "head");
  ok.Add("inner", "payload");
  EXPECT_TRUE(ZipArchive::Open(BufferBytes("ok.zip", ok.Finish())).ok());
}

TEST(ZipArchiveTest, EntryOverlappingTheCentralDirectoryIsRefused) {
  ZipWriter w;
  w.Add("a", "hello");
  const size_t b = w.size();
  w.AddLocalOnly("b", "x");
  // The directory says 'b' holds 20 bytes: 19 of them are the central directory itself.
  w.AddEntryAt("b", std::string(20, 'x'), false, b);
  auto z = ZipArchive::Open(BufferBytes("cd.zip", w.Finish()));
  ASSERT_FALSE(z.ok());
  EXPECT_HAS(z.status().message(),
             absl::StrCat("cd.zip: zip: the central directory (bytes ", b + 32, " to "));
  EXPECT_HAS(z.status().message(), absl::StrCat("overlaps entry 'b' (bytes ", b, " to ", b + 51));
}

TEST(ZipArchiveTest, DuplicateNamesAreRefused) {
  ZipWriter w;
  w.Add("w.npy", "first");
  w.Add("w.npy", "second");
  auto z = ZipArchive::Open(BufferBytes("dup.zip", w.Finish()));
  ASSERT_FALSE(z.ok());
  EXPECT_HAS(z.status().message(),
             "dup.zip: zip: two entries are named 'w.npy' (local headers at bytes 0 and 40)");
}

}  // namespace
}  // namespace htsr::readers::testing
