// The HDF5 child's messages (client/readers/hdf5_wire.h): a walk survives the round trip, and
// the parent's decoder treats what a subverted child could send as hostile: cut, flipped or
// inconsistent messages are errors, never a crash or an oversized tensor.
#include "readers/hdf5_wire.h"

#include <string>

#include "gtest/gtest.h"
#include "htsr/base/checked_math.h"

namespace htsr::readers {
namespace {

Hdf5Walk SampleWalk() {
  Hdf5Walk w;
  Hdf5Dataset a;
  a.path = a.info.name = "model_weights/dense/kernel:0";
  a.info.dtype = DType::kF16;
  a.info.shape = {3, 4};
  a.bytes = 24;
  Hdf5Dataset b;
  b.path = b.info.name = "ints";
  b.info.shape = {5};
  b.unreadable = "int32";
  w.datasets = {a, b};
  w.attributes[""]["layer_names"] = {"dense", ""};
  w.attributes["model_weights/dense"]["weight_names"] = {"dense/kernel:0"};
  w.skipped_links = {"soft link 'x' not followed"};
  return w;
}

TEST(Hdf5WireTest, WalkRoundTrips) {
  const Hdf5Walk w = SampleWalk();
  auto back = DecodeWalk(EncodeWalk(w), "f.h5", {});
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->datasets.size(), 2u);
  EXPECT_EQ(back->datasets[0].path, w.datasets[0].path);
  EXPECT_EQ(back->datasets[0].info.name, w.datasets[0].path);
  EXPECT_EQ(back->datasets[0].info.dtype, DType::kF16);
  EXPECT_EQ(back->datasets[0].info.shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(back->datasets[0].bytes, 24u);
  EXPECT_EQ(back->datasets[1].unreadable, "int32");
  EXPECT_EQ(back->attributes, w.attributes);
  EXPECT_EQ(back->skipped_links, w.skipped_links);

  auto err = DecodeWalk(EncodeWalk(absl::NotFoundError("f.h5: gone")), "f.h5", {});
  EXPECT_EQ(err.status(), absl::NotFoundError("f.h5: gone"));
}

TEST(Hdf5WireTest, InconsistentWalksAreErrors) {
  Hdf5Walk w = SampleWalk();
  w.datasets[0].bytes = 1 << 20;  // more than shape x dtype: Load would overrun
  EXPECT_FALSE(DecodeWalk(EncodeWalk(w), "f.h5", {}).ok());
  w = SampleWalk();
  w.datasets[0].info.dtype = DType::kI32;  // not a dtype the reader hands out
  w.datasets[0].bytes = 48;
  EXPECT_FALSE(DecodeWalk(EncodeWalk(w), "f.h5", {}).ok());
  w = SampleWalk();
  Hdf5Limits small;
  small.max_datasets = 1;
  EXPECT_FALSE(DecodeWalk(EncodeWalk(w), "f.h5", small).ok());
  small = {};
  small.max_dataset_bytes = 10;
  EXPECT_FALSE(DecodeWalk(EncodeWalk(w), "f.h5", small).ok());
  w.datasets[0].path.clear();
  auto r = DecodeWalk(EncodeWalk(w), "f.h5", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.h5: the HDF5 reading process sent a malformed"),
            std::string::npos)
      << r.status();
}

TEST(Hdf5WireTest, CutAndFlippedWalksNeverCrash) {
  const std::string wire = EncodeWalk(SampleWalk());
  for (size_t len = 0; len < wire.size(); ++len) {
    EXPECT_FALSE(DecodeWalk(wire.substr(0, len), "f.h5", {}).ok()) << len;
  }
  for (size_t at = 0; at < wire.size(); ++at) {
    for (int bit : {0, 3, 7}) {
      std::string b = wire;
      b[at] = static_cast<char>(b[at] ^ (1 << bit));
      auto r = DecodeWalk(b, "f.h5", {});
      if (!r.ok()) continue;
      for (const Hdf5Dataset& d : r->datasets) {
        if (d.unreadable.empty()) {
          EXPECT_EQ(d.bytes,
                    CheckedByteSize(d.info.shape, DTypeSize(d.info.dtype)).value_or(~uint64_t{0}));
        }
      }
    }
  }
}

TEST(Hdf5WireTest, ReadRecords) {
  const std::string wire = EncodeReadStart(2) + EncodeReadDone(2, 4096, 24) + EncodeReadStart(0) +
                           EncodeReadFailed(0, absl::InvalidArgumentError("bad")) +
                           EncodeReadStart(5);
  auto r = DecodeReads(wire, "f.h5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->complete);
  EXPECT_EQ(r->in_progress, 5u);  // a child that died here was reading dataset 5
  EXPECT_EQ(r->done.at(2).offset, 4096u);
  EXPECT_EQ(r->done.at(2).length, 24u);
  EXPECT_EQ(r->done.at(0).status, absl::InvalidArgumentError("bad"));

  r = DecodeReads(EncodeBatchFailed(absl::DataLossError("x")) + EncodeReadEnd(), "f.h5");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->batch, absl::DataLossError("x"));

  // A result for a dataset that was not started, a repeated index, junk after the end.
  EXPECT_FALSE(DecodeReads(EncodeReadDone(1, 0, 0), "f.h5").ok());
  EXPECT_FALSE(
      DecodeReads(EncodeReadStart(1) + EncodeReadDone(1, 0, 0) + EncodeReadStart(1), "f.h5").ok());
  EXPECT_FALSE(DecodeReads(EncodeReadEnd() + "S", "f.h5").ok());
  EXPECT_FALSE(DecodeReads("?", "f.h5").ok());
}

}  // namespace
}  // namespace htsr::readers
