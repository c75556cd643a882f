// HDF5 through the C library, for hostile files (see hdf5_file.h for the precautions).
#include "readers/hdf5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"

namespace htsr::readers {
namespace {

constexpr char kSignature[] = "\x89HDF\r\n\x1a\n";
constexpr size_t kMaxLinkName = 4096;
// Deflate expands at most ~1032:1 (zip_archive.cc); a chunked dataset declaring more bytes
// than that over what it stores is a lie (or a fill-value bomb) and is not read.
constexpr uint64_t kMaxFilterRatio = 1032;

std::mutex& Hdf5Mutex() {
  static std::mutex m;
  return m;
}

// Held around every HDF5 call: the library's state is global. Error printing is per
// thread in a thread-safe HDF5 build, so it is switched off every time.
class Hdf5Lock {
 public:
  Hdf5Lock() : lock_(Hdf5Mutex()) {
    static std::once_flag once;
    std::call_once(once, [] {
      H5open();
      H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
      H5PLset_loading_state(0);  // never load filter plugins named by a file
    });
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }

 private:
  std::lock_guard<std::mutex> lock_;
};

// An HDF5 id closed with H5Oclose/H5Sclose/... when it goes (under the lock).
class Id {
 public:
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  hid_t release() { return std::exchange(id_, -1); }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

herr_t TakeInnermost(unsigned n, const H5E_error2_t* e, void* data) {
  if (n == 0 && e != nullptr && e->desc != nullptr) {
    *static_cast<std::string*>(data) = std::string(e->desc, strnlen(e->desc, 512));
  }
  return 0;
}

// The most specific message of this thread's HDF5 error stack, as " (HDF5: ...)".
std::string Hdf5Why() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, TakeInnermost, &msg);
  return msg.empty() ? "" : absl::StrCat(" (HDF5: ", msg, ")");
}

// A stable identity of an object within the file, for loop detection.
std::optional<std::string> ObjectKey(hid_t obj, H5O_type_t* type) {
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  if (H5Oget_info3(obj, &info, H5O_INFO_BASIC) < 0) return std::nullopt;
  *type = info.type;
  return std::string(reinterpret_cast<const char*>(&info.token), sizeof(info.token));
#else
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return std::nullopt;
  *type = info.type;
  return std::string(reinterpret_cast<const char*>(&info.addr), sizeof(info.addr));
#endif
}

std::string TypeName(hid_t type) {
  const size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return absl::StrCat(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", bits);
    case H5T_FLOAT:
      return absl::StrCat("non-IEEE float", bits);
    case H5T_STRING:
      return "string";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_REFERENCE:
      return "reference";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    case H5T_BITFIELD:
      return "bitfield";
    default:
      return "unknown type";
  }
}

// The engine dtype of an IEEE-layout float type (either byte order), or nullopt.
std::optional<DType> FloatDType(hid_t type) {
  if (H5Tget_class(type) != H5T_FLOAT) return std::nullopt;
  const H5T_order_t order = H5Tget_order(type);
  if (order != H5T_ORDER_LE && order != H5T_ORDER_BE) return std::nullopt;
  size_t spos, epos, esize, mpos, msize;
  if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return std::nullopt;
  const size_t size = H5Tget_size(type);
  if (H5Tget_precision(type) != size * 8 || H5Tget_offset(type) != 0 ||
      H5Tget_norm(type) != H5T_NORM_IMPLIED) {
    return std::nullopt;
  }
  const size_t ebias = H5Tget_ebias(type);
  struct Layout {
    size_t size, spos, epos, esize, mpos, msize, ebias;
    DType dtype;
  };
  static constexpr Layout kLayouts[] = {{2, 15, 10, 5, 0, 10, 15, DType::kF16},
                                        {2, 15, 7, 8, 0, 7, 127, DType::kBF16},
                                        {4, 31, 23, 8, 0, 23, 127, DType::kF32},
                                        {8, 63, 52, 11, 0, 52, 1023, DType::kF64}};
  for (const Layout& l : kLayouts) {
    if (l.size == size && l.spos == spos && l.epos == epos && l.esize == esize && l.mpos == mpos &&
        l.msize == msize && l.ebias == ebias) {
      return l.dtype;
    }
  }
  return std::nullopt;
}

void Reclaim(hid_t mem, hid_t space, void* buf) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(mem, space, H5P_DEFAULT, buf);
#else
  H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
#endif
}

// File-image callbacks that hand HDF5 the caller's bytes and never copy, grow or free them
// (what H5LTopen_file_image does with DONT_COPY | DONT_RELEASE, without its 72-byte leak
// per file in HDF5 1.10). The file is opened read-only, so HDF5 never writes to the image.
struct ImageUdata {
  const void* data = nullptr;
  size_t size = 0;
};

void* ImageMalloc(size_t size, H5FD_file_image_op_t, void* udata) {
  const auto* u = static_cast<const ImageUdata*>(udata);
  return size == u->size ? const_cast<void*>(u->data) : nullptr;
}
void* ImageMemcpy(void* dest, const void* src, size_t, H5FD_file_image_op_t, void*) {
  return dest == src ? dest : nullptr;  // source and destination are the same bytes
}
void* ImageRealloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }
herr_t ImageFree(void*, H5FD_file_image_op_t, void*) { return 0; }
void* UdataCopy(void* udata) { return udata; }
herr_t UdataFree(void*) { return 0; }

class Walker {
 public:
  Walker(const std::string& file, uint64_t image_size, const Hdf5Limits& limits,
         const std::vector<std::string>& attribute_names)
      : file_(file), image_size_(image_size), limits_(limits), attribute_names_(attribute_names) {}

  absl::Status Root(hid_t root) {
    H5O_type_t type;
    const auto key = ObjectKey(root, &type);
    if (!key) return Fail("", "cannot read the root group");
    visited_.insert(*key);
    return Group(root, "", 0);
  }

  Hdf5Walk& out() { return out_; }
  std::vector<hid_t>& ids() { return ids_; }

 private:
  absl::Status Fail(const std::string& path, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ": HDF5 object '/", path, "': ", what, Hdf5Why()));
  }

  absl::Status Group(hid_t group, const std::string& path, int depth) {
    for (const std::string& name : attribute_names_) {
      HTSR_ASSIGN_OR_RETURN(auto strings, ReadStrings(group, path, name));
      if (strings) out_.attributes[path][name] = std::move(*strings);
    }
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0) return Fail(path, "cannot read the group");
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      if (++objects_ > limits_.max_objects) {
        return Fail(path, absl::StrCat("more than ", limits_.max_objects, " links in the file"));
      }
      const ssize_t len =
          H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      if (len < 0) return Fail(path, absl::StrCat("cannot read the name of link ", i));
      if (static_cast<size_t>(len) > kMaxLinkName) {
        return Fail(path, absl::StrCat("link ", i, " has a name of ", len, " bytes"));
      }
      std::string name(static_cast<size_t>(len) + 1, '\0');
      if (H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                             H5P_DEFAULT) < 0) {
        return Fail(path, absl::StrCat("cannot read the name of link ", i));
      }
      name.resize(strnlen(name.data(), name.size()));
      const std::string child = path.empty() ? name : absl::StrCat(path, "/", name);
      if (name.empty() || name == "." || name.find('/') != std::string::npos) {
        out_.skipped_links.push_back(
            absl::StrCat("link '", child, "' has a name that is not a plain name; not followed"));
        continue;
      }
      H5L_info_t link;
      if (H5Lget_info_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, &link, H5P_DEFAULT) < 0) {
        return Fail(child, "cannot read the link");
      }
      if (link.type == H5L_TYPE_SOFT) {
        out_.skipped_links.push_back(absl::StrCat("soft link '", child, "' not followed"));
        continue;
      }
      if (link.type == H5L_TYPE_EXTERNAL) {
        out_.skipped_links.push_back(
            absl::StrCat("external link '", child, "' (into another file) not followed"));
        continue;
      }
      if (link.type != H5L_TYPE_HARD) {
        out_.skipped_links.push_back(absl::StrCat("user-defined link '", child, "' not followed"));
        continue;
      }
      Id obj(H5Oopen_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT), H5Oclose);
      if (!obj.ok()) return Fail(child, "cannot open the object");
      H5O_type_t type;
      const auto key = ObjectKey(obj.get(), &type);
      if (!key) return Fail(child, "cannot read the object header");
      if (type == H5O_TYPE_GROUP) {
        if (!visited_.insert(*key).second) {
          out_.skipped_links.push_back(
              absl::StrCat("group '", child,
                           "' was reached before (a hard-link loop or a second link); "
                           "not entered again"));
          continue;
        }
        if (depth + 1 > limits_.max_depth) {
          return Fail(child, absl::StrCat("groups nested deeper than ", limits_.max_depth));
        }
        HTSR_RETURN_IF_ERROR(Group(obj.get(), child, depth + 1));
      } else if (type == H5O_TYPE_DATASET) {
        if (out_.datasets.size() >= limits_.max_datasets) {
          return Fail(child, absl::StrCat("more than ", limits_.max_datasets, " datasets"));
        }
        HTSR_ASSIGN_OR_RETURN(Hdf5Dataset d, Describe(obj.get(), child));
        out_.datasets.push_back(std::move(d));
        ids_.push_back(obj.release());
      }
      // Named datatypes hold no weights.
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Hdf5Dataset> Describe(hid_t dset, const std::string& path) {
    Hdf5Dataset d;
    d.path = path;
    d.info.name = path;
    Id space(H5Dget_space(dset), H5Sclose);
    if (!space.ok()) return Fail(path, "cannot read the dataspace");
    const H5S_class_t sclass = H5Sget_simple_extent_type(space.get());
    if (sclass == H5S_NULL) {
      d.unreadable = "null dataspace";
      return d;
    }
    if (sclass != H5S_SIMPLE && sclass != H5S_SCALAR) return Fail(path, "unknown dataspace");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK) return Fail(path, "invalid rank");
    hsize_t dims[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0) {
      return Fail(path, "cannot read the dimensions");
    }
    for (int k = 0; k < rank; ++k) {
      if (dims[k] > static_cast<hsize_t>(std::numeric_limits<int64_t>::max())) {
        return Fail(path, "dimension overflows int64");
      }
      d.info.shape.push_back(static_cast<int64_t>(dims[k]));
    }
    Id type(H5Dget_type(dset), H5Tclose);
    if (!type.ok()) return Fail(path, "cannot read the datatype");
    const std::optional<DType> dtype = FloatDType(type.get());
    if (!dtype) {
      d.unreadable = TypeName(type.get());
      return d;
    }
    d.info.dtype = *dtype;
    const auto bytes = CheckedByteSize(d.info.shape, DTypeSize(*dtype));
    if (!bytes || *bytes > limits_.max_dataset_bytes) {
      d.unreadable = absl::StrCat("shape ", ShapeString(d.info.shape), " declares more than ",
                                  limits_.max_dataset_bytes, " bytes");
      return d;
    }
    d.bytes = *bytes;
    Id dcpl(H5Dget_create_plist(dset), H5Pclose);
    if (!dcpl.ok()) return Fail(path, "cannot read the creation properties");
    if (H5Pget_external_count(dcpl.get()) != 0) {
      d.unreadable = "raw data in an external file, not read";
      return d;
    }
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout == H5D_VIRTUAL) {
      d.unreadable = "virtual dataset (data in other files), not read";
      return d;
    }
    if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED) {
      return Fail(path, "unknown storage layout");
    }
    const int nfilters = H5Pget_nfilters(dcpl.get());
    if (nfilters < 0) return Fail(path, "cannot read the filter pipeline");
    for (int f = 0; f < nfilters; ++f) {
      unsigned flags = 0;
      size_t nvalues = 0;
      char fname[64] = {0};
      const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(f), &flags, &nvalues,
                                             nullptr, sizeof(fname), fname, nullptr);
      if (id < 0) return Fail(path, "cannot read the filter pipeline");
      if (H5Zfilter_avail(id) <= 0) {
        d.unreadable = absl::StrCat("compression filter ", id, " not available, not read");
        return d;
      }
    }
    if (d.bytes == 0) return d;
    if (layout == H5D_CONTIGUOUS) {
      // Its bytes must lie in the file; unallocated storage would read as fill values.
      if (H5Dget_offset(dset) == HADDR_UNDEF) {
        d.unreadable = "no data stored";
      } else if (d.bytes > image_size_) {
        d.unreadable = absl::StrCat("declares ", d.bytes, " bytes, more than the file holds");
      }
    } else {
      const uint64_t stored = std::min<uint64_t>(H5Dget_storage_size(dset), image_size_);
      const auto cap = CheckedMul(stored, kMaxFilterRatio);
      if (cap && d.bytes > *cap + (uint64_t{1} << 20)) {
        d.unreadable =
            absl::StrCat("declares ", d.bytes, " bytes but stores only ", stored, ", not read");
      }
    }
    return d;
  }

  // A string attribute's elements; nullopt when absent or not strings (h5py writes an
  // empty list as a float64 array).
  absl::StatusOr<std::optional<std::vector<std::string>>> ReadStrings(hid_t obj,
                                                                      const std::string& path,
                                                                      const std::string& name) {
    const htri_t exists = H5Aexists(obj, name.c_str());
    if (exists < 0) return Fail(path, absl::StrCat("cannot look up attribute '", name, "'"));
    if (exists == 0) return std::nullopt;
    const std::string what = absl::StrCat("attribute '", name, "'");
    Id attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attr.ok()) return Fail(path, absl::StrCat("cannot open ", what));
    Id type(H5Aget_type(attr.get()), H5Tclose);
    Id space(H5Aget_space(attr.get()), H5Sclose);
    if (!type.ok() || !space.ok()) return Fail(path, absl::StrCat("cannot read ", what));
    if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0 || static_cast<uint64_t>(n) > limits_.max_attribute_bytes) {
      return Fail(path, absl::StrCat(what, " has an invalid element count"));
    }
    std::vector<std::string> out;
    const htri_t variable = H5Tis_variable_str(type.get());
    if (variable < 0) return Fail(path, absl::StrCat("cannot read ", what));
    if (variable > 0) {
      Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
      if (!mem.ok() || H5Tset_size(mem.get(), H5T_VARIABLE) < 0 ||
          H5Tset_cset(mem.get(), H5Tget_cset(type.get())) < 0) {
        return Fail(path, absl::StrCat("cannot read ", what));
      }
      std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
      if (n > 0 && H5Aread(attr.get(), mem.get(), ptrs.data()) < 0) {
        return Fail(path, absl::StrCat("cannot read ", what));
      }
      size_t total = 0;
      bool too_big = false;
      for (char* p : ptrs) {
        const size_t len = p == nullptr ? 0 : strnlen(p, limits_.max_attribute_bytes - total);
        total += len;
        if (total >= limits_.max_attribute_bytes) too_big = true;
        if (too_big) break;
        out.emplace_back(p == nullptr ? "" : std::string(p, len));
      }
      if (n > 0) Reclaim(mem.get(), space.get(), ptrs.data());
      if (too_big) return Fail(path, absl::StrCat(what, " is larger than the limit"));
      return out;
    }
    const size_t size = H5Tget_size(type.get());
    const auto total = CheckedMul(static_cast<uint64_t>(n), size);
    if (size == 0 || !total || *total > limits_.max_attribute_bytes) {
      return Fail(path, absl::StrCat(what, " is larger than the limit"));
    }
    Id mem(H5Tcopy(type.get()), H5Tclose);
    std::string buf(*total, '\0');
    if (!mem.ok() || (n > 0 && H5Aread(attr.get(), mem.get(), buf.data()) < 0)) {
      return Fail(path, absl::StrCat("cannot read ", what));
    }
    for (hssize_t k = 0; k < n; ++k) {
      const char* p = buf.data() + static_cast<size_t>(k) * size;
      std::string s(p, strnlen(p, size));
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out.push_back(std::move(s));
    }
    return out;
  }

  const std::string& file_;
  const uint64_t image_size_;
  const Hdf5Limits& limits_;
  const std::vector<std::string>& attribute_names_;
  Hdf5Walk out_;
  std::vector<hid_t> ids_;
  std::set<std::string> visited_;
  size_t objects_ = 0;
};

}  // namespace

bool LooksLikeHdf5(std::span<const std::byte> bytes) {
  for (uint64_t off = 0; off + 8 <= bytes.size(); off = off == 0 ? 512 : off * 2) {
    if (std::memcmp(bytes.data() + off, kSignature, 8) == 0) return true;
  }
  return false;
}

struct Hdf5File::Handles {
  ImageUdata image;  // outlives `file`
  hid_t file = -1;
  std::vector<hid_t> datasets;  // parallel to Hdf5File::datasets_

  void CloseDatasets() {
    for (hid_t id : datasets) H5Oclose(id);
    datasets.clear();
  }
  ~Handles() {
    Hdf5Lock lock;
    CloseDatasets();
    if (file >= 0) H5Fclose(file);
  }
};

Hdf5File::Hdf5File(std::string name, std::shared_ptr<const void> owner)
    : name_(std::move(name)), owner_(std::move(owner)), handles_(std::make_unique<Handles>()) {}

Hdf5File::~Hdf5File() = default;

absl::StatusOr<std::shared_ptr<Hdf5File>> Hdf5File::Open(std::string name,
                                                         std::span<const std::byte> image,
                                                         std::shared_ptr<const void> owner) {
  if (!LooksLikeHdf5(image)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not an HDF5 file (no signature)"));
  }
  std::shared_ptr<Hdf5File> f(new Hdf5File(std::move(name), std::move(owner)));
  f->image_size_ = image.size();
  Hdf5Lock lock;
  // Read-only, without a copy: HDF5 reads the caller's bytes through the core driver.
  f->handles_->image = ImageUdata{image.data(), image.size()};
  H5FD_file_image_callbacks_t callbacks = {ImageMalloc, ImageMemcpy, ImageRealloc,       ImageFree,
                                           UdataCopy,   UdataFree,   &f->handles_->image};
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 16, /*backing_store=*/0) < 0 ||
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<std::byte*>(image.data()), image.size()) < 0) {
    return absl::InternalError(
        absl::StrCat(f->name_, ": HDF5 cannot take the file image", Hdf5Why()));
  }
  // The core driver takes two files of the same name for one open file: every image gets
  // its own name.
  static uint64_t opened = 0;
  const std::string image_name = absl::StrCat("htsr-image-", ++opened, ".h5");
  const hid_t id = H5Fopen(image_name.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (id < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(f->name_, ": HDF5 cannot open the file", Hdf5Why()));
  }
  f->handles_->file = id;
  return f;
}

absl::StatusOr<Hdf5Walk> Hdf5File::Walk(const std::vector<std::string>& attribute_names,
                                        const Hdf5Limits& limits) {
  Hdf5Lock lock;
  handles_->CloseDatasets();
  datasets_.clear();
  Walker walker(name_, image_size_, limits, attribute_names);
  Id root(H5Oopen(handles_->file, "/", H5P_DEFAULT), H5Oclose);
  absl::Status status = root.ok() ? walker.Root(root.get())
                                  : absl::InvalidArgumentError(absl::StrCat(
                                        name_, ": HDF5 cannot open the root group", Hdf5Why()));
  handles_->datasets = std::move(walker.ids());  // closed with the file, also on error
  if (!status.ok()) return status;
  datasets_ = walker.out().datasets;
  return std::move(walker.out());
}

absl::Status Hdf5File::ReadInto(size_t index, std::span<std::byte> out) const {
  if (index >= datasets_.size() || !datasets_[index].unreadable.empty() ||
      out.size() != datasets_[index].bytes) {
    return absl::InternalError(absl::StrCat(name_, ": no readable dataset ", index));
  }
  const Hdf5Dataset& d = datasets_[index];
  if (d.bytes == 0) return absl::OkStatus();
  Hdf5Lock lock;
  const hid_t dset = handles_->datasets[index];
  // The file's own float layout, little-endian: HDF5 swaps bytes where the file is big-endian.
  Id file_type(H5Dget_type(dset), H5Tclose);
  Id mem(file_type.ok() ? H5Tcopy(file_type.get()) : -1, H5Tclose);
  if (!mem.ok() || H5Tset_order(mem.get(), H5T_ORDER_LE) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": HDF5 object '/", d.path, "': cannot read the datatype", Hdf5Why()));
  }
  // Re-checked: the walk saw the same handle, but a wrong size here would be a buffer overrun.
  Id space(H5Dget_space(dset), H5Sclose);
  const hssize_t n = space.ok() ? H5Sget_simple_extent_npoints(space.get()) : -1;
  if (n < 0 || static_cast<uint64_t>(n) * DTypeSize(d.info.dtype) != d.bytes ||
      H5Tget_size(mem.get()) != DTypeSize(d.info.dtype)) {
    return absl::DataLossError(
        absl::StrCat(name_, ": HDF5 object '/", d.path, "': size changed between reads"));
  }
  if (H5Dread(dset, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": HDF5 object '/", d.path, "': cannot read the data", Hdf5Why()));
  }
  return absl::OkStatus();
}

}  // namespace htsr::readers
