// What the HDF5 child process (hdf5_sandbox.h) sends its parent, and the parent's checks of
// it. The child parses a hostile file with a library that may have been subverted by it, so
// the parent decodes every message as hostile bytes too: counts, lengths, ranks, dtypes and
// sizes are checked against Hdf5Limits and against each other before they are used.
//
// Walk message: "HTSRH5W1", status (u32 code, string); on OK the datasets (path, dtype, rank,
// dims, bytes, unreadable), the attributes (object path -> name -> strings) and the skipped
// links; then "HTSREND1". Integers are little-endian u64 unless said; a string is a u64 length
// and its bytes.
//
// Read messages, one record at a time so that a child that dies mid-way leaves the records
// before it: 'S' index (reading starts), 'D' index offset length (its bytes are in the data
// file), 'F' index status (reading failed), 'X' status (the whole batch failed), 'E' (end).
#ifndef HTSR_CLIENT_READERS_HDF5_WIRE_H_
#define HTSR_CLIENT_READERS_HDF5_WIRE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "readers/hdf5_file.h"

namespace htsr::readers {

std::string EncodeWalk(const absl::StatusOr<Hdf5Walk>& walk);

// The walk (or the child's error, as it reported it). `name` stands for the file in errors
// about the message itself.
absl::StatusOr<Hdf5Walk> DecodeWalk(absl::string_view wire, const std::string& name,
                                    const Hdf5Limits& limits);

std::string EncodeReadStart(uint64_t index);
std::string EncodeReadDone(uint64_t index, uint64_t offset, uint64_t length);
std::string EncodeReadFailed(uint64_t index, const absl::Status& why);
std::string EncodeBatchFailed(const absl::Status& why);
std::string EncodeReadEnd();

struct Hdf5ReadRecord {
  absl::Status status;  // OK: the bytes are [offset, offset + length) of the data file
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Hdf5Reads {
  absl::Status batch;                       // not OK: the child could not start reading
  std::map<uint64_t, Hdf5ReadRecord> done;  // by dataset index
  std::optional<uint64_t> in_progress;      // started and not finished when the output ended
  bool complete = false;                    // the end record was seen
};

// The records of `wire`, possibly cut short (a child that died); an error only for records
// that are malformed or repeat an index.
absl::StatusOr<Hdf5Reads> DecodeReads(absl::string_view wire, const std::string& name);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_HDF5_WIRE_H_
