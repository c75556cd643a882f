// .npz: a zip of .npy members (np.savez stores, np.savez_compressed deflates). Tensor
// names are member names without ".npy", in the zip's order.
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/npy_format.h"
#include "readers/reader_base.h"
#include "readers/zip_archive.h"

namespace htsr::readers {
namespace {

struct Member {
  size_t entry = 0;  // index into the archive's entries
  NpyHeader header;
};

class NpzReader : public ReaderBase {
 public:
  NpzReader(std::string path, ZipArchive zip)
      : ReaderBase("npz", std::move(path)), zip_(std::move(zip)) {}

  absl::Status Parse() {
    const auto& entries = zip_.entries();
    // np.savez names member "x.npy" for key "x", but np.load also reads a member "x"
    // without the suffix as key "x": both in one archive would be two tensors of one name.
    // The archive already has unique member names (ZipArchive refuses duplicates).
    std::unordered_map<std::string, std::string> member_of;
    for (size_t i = 0; i < entries.size(); ++i) {
      const ZipEntry& e = entries[i];
      if (e.name.ends_with("/")) continue;  // directory records
      const std::string where = absl::StrCat(Path(), ": member '", e.name, "'");
      // Only the header is needed now; big compressed members are inflated at Load.
      HTSR_ASSIGN_OR_RETURN(ZipBytes head, zip_.ReadPrefix(e, kMaxNpyHeaderBytes + 16));
      HTSR_ASSIGN_OR_RETURN(NpyHeader h, ParseNpyHeader(head.bytes, where));
      if (h.data_offset > e.uncompressed_size ||
          h.data_bytes != e.uncompressed_size - h.data_offset) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": array of shape ", ShapeString(h.shape), " needs ", h.data_bytes,
                         " bytes after a header of ", h.data_offset, " but the member holds ",
                         e.uncompressed_size, " bytes"));
      }
      TensorInfo info;
      info.name = e.name.ends_with(".npy") ? e.name.substr(0, e.name.size() - 4) : e.name;
      if (auto [it, inserted] = member_of.emplace(info.name, e.name); !inserted) {
        return absl::InvalidArgumentError(absl::StrCat(Path(), ": members '", it->second, "' and '",
                                                       e.name, "' both hold tensor '", info.name,
                                                       "'"));
      }
      info.dtype = h.dtype;
      info.shape = h.shape;
      AddTensor(std::move(info), h.data_bytes);
      members_.push_back(Member{i, std::move(h)});
    }
    return absl::OkStatus();
  }

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= members_.size()) return IndexError(index);
    const Member& m = members_[index];
    const ZipEntry& e = zip_.entries()[m.entry];
    HTSR_ASSIGN_OR_RETURN(ZipBytes bytes, zip_.Read(e));
    const std::string where = absl::StrCat(Path(), ": member '", e.name, "'");
    // Re-parse: the header seen at open time came from the same bytes, but a deflated
    // member is only now inflated and CRC-checked in full.
    HTSR_ASSIGN_OR_RETURN(NpyHeader h, ParseNpyHeader(bytes.bytes, where));
    if (h.shape != m.header.shape || h.dtype != m.header.dtype) {
      return absl::DataLossError(absl::StrCat(where, ": header changed between reads"));
    }
    return NpyTensor(h, bytes.bytes, std::move(bytes.owner), Tensors()[index], where);
  }

 private:
  ZipArchive zip_;
  std::vector<Member> members_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenNpz(FileBytes file) {
  std::string path = file.name;
  HTSR_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(std::move(file)));
  auto reader = std::make_unique<NpzReader>(std::move(path), std::move(zip));
  HTSR_RETURN_IF_ERROR(reader->Parse());
  return reader;
}

}  // namespace htsr::readers
