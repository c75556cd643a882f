// Keras checkpoints, read through HDF5 in child processes (hdf5_sandbox.h, hdf5_file.h):
//
// * `.keras` (Keras 3): a zip of config.json, metadata.json and model.weights.h5, whose
//   variables sit at layers/<group>/vars/<i>; <group> is the layer's class in snake case
//   with a counter (dense, dense_1, conv2d, ...) in model.layers order, and config.json
//   gives the layers' classes and names in that order;
// * legacy `.h5` (Keras 2, and Keras 3's legacy writer): model_weights/<layer>/... with the
//   attributes layer_names, weight_names and (on the root) model_config; weights-only files
//   carry layer_names on the root; Keras 3's `.weights.h5` has the .keras layout;
// * any other HDF5 file: every dataset as a tensor named by its path with '/' -> '.'.
//
// The reference (weightwatcher 0.7.7, KerasLayer) takes a Keras layer's type from its class
// name (Dense, Conv1D, Conv2D, Embedding, matched as substrings of the lowercased class, in
// that order) and analyses the layer's first variable, get_weights()[0]: the kernel. A kernel
// becomes the tensor "<layer>.weight" (the candidate rule of docs/spec.md §1); other
// variables are "<layer>.bias" or "<layer>.<variable>". Dense and Embedding kernels are
// handed over as stored, (in, out) and (vocab, dim): the reference uses them as they are
// (Wmats = [W], N = max, M = min). Conv kernels are permuted to the engine's PyTorch layout:
// Conv2D (kh, kw, in, out) -> (out, in, kh, kw), whose slices W[:, :, i, j] (i outer) are the
// transposes of the reference's channels-first slices Wtensor[i, j, :, :] (same spectra, same
// order, rf = kh * kw); Conv1D (k, in, out) -> (out, in, k), analysed as k slices as htsr
// does for every rank-3 weight (the reference treats the whole rank-3 kernel as one matrix:
// see docs/compatibility.md).
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "htsr/status_macros.h"
#include "readers/format_readers.h"
#include "readers/hdf5_file.h"
#include "readers/hdf5_sandbox.h"
#include "readers/json_parser.h"
#include "readers/reader_base.h"
#include "readers/strided_copy.h"
#include "readers/zip_archive.h"

namespace htsr::readers {
namespace {

constexpr uint64_t kMaxConfigBytes = uint64_t{64} << 20;

// The reference's LAYER_TYPE for a Keras class (KerasLayer.layer_type), for the types it
// analyses.
enum class KerasType { kOther, kDense, kConv1d, kConv2d, kEmbedding };

KerasType TypeOfClass(std::string cls) {
  for (char& c : cls) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Conv2DTranspose, DepthwiseConv2D, EinsumDense, ... match as in the reference.
  if (absl::StrContains(cls, "dense")) return KerasType::kDense;
  if (absl::StrContains(cls, "conv1d")) return KerasType::kConv1d;
  if (absl::StrContains(cls, "conv2d")) return KerasType::kConv2d;
  if (absl::StrContains(cls, "embedding")) return KerasType::kEmbedding;
  return KerasType::kOther;
}

size_t KernelRank(KerasType t) {
  switch (t) {
    case KerasType::kDense:
    case KerasType::kEmbedding:
      return 2;
    case KerasType::kConv1d:
      return 3;
    case KerasType::kConv2d:
      return 4;
    case KerasType::kOther:
      break;
  }
  return 0;
}

// keras.src.utils.naming.to_snake_case, which names the groups of model.weights.h5:
// drop non-word characters, then re.sub("(.)([A-Z][a-z]+)", r"\1_\2"),
// re.sub("([a-z])([A-Z])", r"\1_\2"), lower().
std::string ToSnakeCase(absl::string_view name) {
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string s;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
        static_cast<unsigned char>(c) >= 0x80) {
      s += c;
    }
  }
  std::string t;
  for (size_t i = 0; i < s.size();) {
    if (i + 2 < s.size() && upper(s[i + 1]) && lower(s[i + 2])) {
      size_t j = i + 3;
      while (j < s.size() && lower(s[j])) ++j;
      absl::StrAppend(&t, s.substr(i, 1), "_", s.substr(i + 1, j - i - 1));
      i = j;
    } else {
      t += s[i++];
    }
  }
  std::string u;
  for (size_t i = 0; i < t.size();) {
    if (i + 1 < t.size() && lower(t[i]) && upper(t[i + 1])) {
      absl::StrAppend(&u, t.substr(i, 1), "_", t.substr(i + 1, 1));
      i += 2;
    } else {
      u += t[i++];
    }
  }
  for (char& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return u;
}

// A layer as config.json / model_config describes it.
struct ConfigLayer {
  std::string name;
  std::string cls;
  size_t order = 0;  // position in depth order
};

const JsonValue* LayerList(const JsonValue& model) {
  const JsonValue* config = model.Find("config");
  if (config != nullptr && config->IsArray()) return config;  // Keras 2.0 Sequential
  if (config == nullptr || !config->IsObject()) return nullptr;
  const JsonValue* layers = config->Find("layers");
  return layers != nullptr && layers->IsArray() ? layers : nullptr;
}

std::string StringMember(const JsonValue& v, absl::string_view key) {
  const JsonValue* m = v.Find(key);
  return m != nullptr && m->IsString() ? m->text : "";
}

std::string LayerName(const JsonValue& layer) {
  const JsonValue* config = layer.Find("config");
  std::string name = config != nullptr ? StringMember(*config, "name") : "";
  return name.empty() ? StringMember(layer, "name") : name;
}

// Keras 3: the weights group of each configured layer ("layers/dense_1", nested models
// "layers/functional/layers/dense"), in model.layers order.
void MapKeras3Groups(const JsonValue& model, const std::string& prefix,
                     const std::string& name_prefix, int depth,
                     std::map<std::string, ConfigLayer>* out) {
  const JsonValue* layers = LayerList(model);
  if (layers == nullptr || depth > 16) return;
  std::map<std::string, int> used;
  for (const JsonValue& layer : layers->array) {
    if (!layer.IsObject()) continue;
    const std::string cls = StringMember(layer, "class_name");
    std::string group = ToSnakeCase(cls);
    const int n = used[group]++;
    if (n > 0) absl::StrAppend(&group, "_", n);
    const std::string path = absl::StrCat(prefix, "layers/", group);
    const std::string name = absl::StrCat(name_prefix, LayerName(layer));
    out->emplace(path, ConfigLayer{name, cls, out->size()});
    MapKeras3Groups(layer, path + "/", name + "/", depth + 1, out);
  }
}

// Legacy .h5: layer name -> class, from the root's model_config.
void MapLegacyClasses(const JsonValue& model, std::map<std::string, std::string>* out) {
  const JsonValue* layers = LayerList(model);
  if (layers == nullptr) return;
  for (const JsonValue& layer : layers->array) {
    if (layer.IsObject()) out->emplace(LayerName(layer), StringMember(layer, "class_name"));
  }
}

enum class Permute { kNone, kConv1d, kConv2d };

struct Entry {
  size_t dataset = 0;
  Permute permute = Permute::kNone;
  // Depth order: (layer, variable, walk position).
  size_t layer_order = 0;
  size_t var_order = 0;
  size_t walk_order = 0;
  TensorInfo info;
};

class KerasReader : public ReaderBase {
 public:
  KerasReader(std::string format, std::string path, std::shared_ptr<SandboxedHdf5> h5,
              Hdf5Walk walk)
      : ReaderBase(std::move(format), std::move(path)),
        h5_(std::move(h5)),
        walk_(std::move(walk)) {}

  // "keras" (Keras 3 variables), "keras-h5" (legacy layer_names) or "hdf5".
  static std::string Layout(Hdf5Walk& walk) {
    for (const Hdf5Dataset& d : walk.datasets) {
      if (Keras3Var(d.path)) return "keras";
    }
    if (walk.attributes["model_weights"].count("layer_names") > 0 ||
        walk.attributes[""].count("layer_names") > 0) {
      return "keras-h5";
    }
    return "hdf5";
  }

  // `config` is config.json of a .keras archive (nullptr for an .h5 file).
  absl::Status Parse(const JsonValue* config, const std::string& config_note) {
    if (!config_note.empty()) {
      AddNote(
          absl::StrCat(Path(), ": ", config_note, "; layers are named after their weight groups"));
    }
    const auto& ds = walk_.datasets;
    const std::string layout = Layout(walk_);
    const bool keras3 = layout == "keras";
    const std::string legacy_root = LegacyRoot();
    std::vector<Entry> entries;
    std::vector<std::pair<std::string, std::string>> left_out;
    if (keras3) {
      Keras3(config, &entries, &left_out);
    } else if (layout == "keras-h5") {
      Legacy(legacy_root, &entries, &left_out);
    } else {
      for (size_t i = 0; i < ds.size(); ++i) {
        if (!ds[i].unreadable.empty()) {
          left_out.emplace_back(ds[i].path, ds[i].unreadable);
          continue;
        }
        Entry e;
        e.dataset = i;
        e.walk_order = i;
        e.info = ds[i].info;
        e.info.name = absl::StrReplaceAll(ds[i].path, {{"/", "."}});
        entries.push_back(std::move(e));
      }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.layer_order, a.var_order, a.walk_order) <
             std::tie(b.layer_order, b.var_order, b.walk_order);
    });
    std::map<std::string, int> seen;
    for (Entry& e : entries) {
      // Names must be unique; a second one keeps its HDF5 path.
      if (seen[e.info.name]++ > 0) e.info.name = ds[e.dataset].path;
      AddTensor(e.info, ds[e.dataset].bytes);
      entries_.push_back(std::move(e));
    }
    // Loads come in tensor order: the HDF5 child reads the datasets in batches of that order.
    std::vector<size_t> order;
    for (const Entry& e : entries_) order.push_back(e.dataset);
    h5_->Plan(order);
    if (!walk_.skipped_links.empty()) {
      const auto& s = walk_.skipped_links;
      AddNote(absl::StrCat(
          Path(), ": ", s.size(), " HDF5 link", s.size() == 1 ? "" : "s", " not followed: ",
          absl::StrJoin(s.begin(), s.begin() + std::min<size_t>(s.size(), 8), "; "),
          s.size() > 8 ? "; ..." : ""));
    }
    LeaveOut(std::move(left_out), "types");
    return absl::OkStatus();
  }

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= entries_.size()) return IndexError(index);
    const Entry& e = entries_[index];
    HTSR_ASSIGN_OR_RETURN(Hdf5Bytes raw, h5_->Read(e.dataset));
    TensorView view;
    view.info = e.info;
    if (e.permute == Permute::kNone) {
      view.bytes = raw.bytes;
      view.owner = std::move(raw.owner);
      return view;
    }
    // Source strides (elements) of the engine's axes (out, in, kh[, kw]) in the Keras kernel
    // (kh[, kw], in, out).
    const auto& s = e.info.shape;
    const int64_t out = s[0], in = s[1];
    std::vector<int64_t> strides = {1, out};
    if (e.permute == Permute::kConv1d) {
      strides.push_back(in * out);
    } else {
      strides.push_back(s[3] * in * out);
      strides.push_back(in * out);
    }
    const size_t elem = DTypeSize(e.info.dtype);
    HTSR_RETURN_IF_ERROR(CheckStridedBounds(s, strides, 0, elem, raw.bytes.size(),
                                            absl::StrCat(Path(), ": tensor '", e.info.name, "'")));
    auto copy = std::make_shared<std::vector<std::byte>>(raw.bytes.size());
    CopyStrided(raw.bytes, s, strides, 0, elem, /*byteswap=*/false, copy->data());
    view.bytes = std::span<const std::byte>(copy->data(), copy->size());
    view.owner = std::move(copy);
    return view;
  }

  // "…/vars/<i>" under a layers container: a Keras 3 layer variable.
  static bool Keras3Var(const std::string& path) {
    const size_t at = path.rfind("/vars/");
    if (at == std::string::npos) return false;
    int64_t i;
    if (!absl::SimpleAtoi(path.substr(at + 6), &i) || i < 0) return false;
    return absl::StartsWith(path, "layers/") ||
           absl::StartsWith(path, "_layer_checkpoint_dependencies/");
  }

 private:
  // The group holding layer_names in a legacy file: "model_weights" or "" (root, also
  // returned when there is none: the caller checks the root's attribute).
  std::string LegacyRoot() {
    auto it = walk_.attributes.find("model_weights");
    if (it != walk_.attributes.end() && it->second.count("layer_names") > 0) {
      return "model_weights";
    }
    return "";
  }

  // Makes `e` the kernel of a layer of type `t`, if its rank fits.
  static bool MakeKernel(KerasType t, const std::string& layer, Entry* e) {
    if (t == KerasType::kOther || e->info.shape.size() != KernelRank(t)) return false;
    e->info.name = layer + ".weight";
    auto& s = e->info.shape;
    if (t == KerasType::kConv1d) {
      e->permute = Permute::kConv1d;
      s = {s[2], s[1], s[0]};
    } else if (t == KerasType::kConv2d) {
      e->permute = Permute::kConv2d;
      s = {s[3], s[2], s[0], s[1]};
    }
    return true;
  }

  void Keras3(const JsonValue* config, std::vector<Entry>* entries,
              std::vector<std::pair<std::string, std::string>>* left_out) {
    std::map<std::string, ConfigLayer> groups;
    if (config != nullptr) MapKeras3Groups(*config, "", "", 0, &groups);
    const auto& ds = walk_.datasets;
    std::map<std::string, size_t> first_seen;  // unmapped groups, in walk order
    for (size_t i = 0; i < ds.size(); ++i) {
      const Hdf5Dataset& d = ds[i];
      if (!Keras3Var(d.path)) {
        left_out->emplace_back(d.path, "not a layer variable: optimizer or metric state");
        continue;
      }
      if (!d.unreadable.empty()) {
        left_out->emplace_back(d.path, d.unreadable);
        continue;
      }
      const size_t at = d.path.rfind("/vars/");
      const std::string group = d.path.substr(0, at);
      const std::string var = d.path.substr(at + 6);
      std::string name, cls;
      Entry e;
      e.dataset = i;
      e.walk_order = i;
      int64_t var_index = 0;
      (void)absl::SimpleAtoi(var, &var_index);
      e.var_order = static_cast<size_t>(var_index);
      e.info = d.info;
      auto it = groups.find(group);
      if (it != groups.end()) {
        name = it->second.name;
        cls = it->second.cls;
        e.layer_order = it->second.order;
      } else {
        // Without config.json: the group names the class (dense_1 -> dense).
        std::vector<std::string> parts = absl::StrSplit(group, '/');
        std::vector<std::string> kept;
        for (const std::string& p : parts) {
          if (p != "layers" && p != "_layer_checkpoint_dependencies") kept.push_back(p);
        }
        name = absl::StrJoin(kept, "/");
        cls = parts.back();
        const size_t us = cls.rfind('_');
        int64_t n;
        if (us != std::string::npos && absl::SimpleAtoi(cls.substr(us + 1), &n)) cls.resize(us);
        e.layer_order = groups.size() + first_seen.emplace(group, first_seen.size()).first->second;
      }
      const KerasType t = TypeOfClass(cls);
      if (var_index == 0 && MakeKernel(t, name, &e)) {
        // the kernel: get_weights()[0]
      } else if (var_index == 1 && t != KerasType::kOther && t != KerasType::kEmbedding &&
                 e.info.shape.size() == 1) {
        e.info.name = name + ".bias";
      } else {
        e.info.name = absl::StrCat(name, ".vars.", var);
      }
      entries->push_back(std::move(e));
    }
  }

  void Legacy(const std::string& root, std::vector<Entry>* entries,
              std::vector<std::pair<std::string, std::string>>* left_out) {
    auto& root_attrs = walk_.attributes[root];
    const std::vector<std::string> layer_names = root_attrs["layer_names"];
    std::map<std::string, std::string> classes;
    auto mc = walk_.attributes[""].find("model_config");
    if (mc != walk_.attributes[""].end() && mc->second.size() == 1) {
      auto model = ParseJson(mc->second[0]);
      if (model.ok()) {
        MapLegacyClasses(*model, &classes);
      } else {
        AddNote(absl::StrCat(Path(), ": model_config is not valid JSON (", model.status().message(),
                             "); layer types from variable names"));
      }
    }
    const std::string prefix = root.empty() ? "" : root + "/";
    std::map<std::string, size_t> layer_of;  // group path -> index in layer_names
    for (size_t l = 0; l < layer_names.size(); ++l) {
      layer_of.emplace(prefix + layer_names[l], l);
    }
    const auto& ds = walk_.datasets;
    std::vector<bool> have_kernel(layer_names.size(), false);
    std::vector<Entry> mine;
    for (size_t i = 0; i < ds.size(); ++i) {
      const Hdf5Dataset& d = ds[i];
      // The layer: the longest listed group that holds the dataset.
      std::optional<size_t> layer;
      for (size_t cut = d.path.find('/'); cut != std::string::npos;
           cut = d.path.find('/', cut + 1)) {
        auto it = layer_of.find(d.path.substr(0, cut));
        if (it != layer_of.end()) layer = it->second;
      }
      if (!layer) {
        left_out->emplace_back(d.path, "not in a layer listed in layer_names");
        continue;
      }
      if (!d.unreadable.empty()) {
        left_out->emplace_back(d.path, d.unreadable);
        continue;
      }
      const std::string& lname = layer_names[*layer];
      const std::string rel = d.path.substr(prefix.size() + lname.size() + 1);
      // Order within the layer: weight_names; the first of them is get_weights()[0].
      const auto& wn = walk_.attributes[prefix + lname]["weight_names"];
      const auto pos = std::find(wn.begin(), wn.end(), rel);
      Entry e;
      e.dataset = i;
      e.walk_order = i;
      e.layer_order = *layer;
      e.var_order = pos != wn.end() ? static_cast<size_t>(pos - wn.begin()) : wn.size();
      e.info = d.info;
      // Variable name: what follows the last path component naming the layer, without ":0".
      std::vector<std::string> parts = absl::StrSplit(rel, '/');
      size_t from = 0;
      for (size_t k = 0; k + 1 < parts.size(); ++k) {
        if (parts[k] == lname) from = k + 1;
      }
      std::string var = absl::StrJoin(parts.begin() + from, parts.end(), ".");
      if (absl::EndsWith(var, ":0")) var.resize(var.size() - 2);
      e.info.name = absl::StrCat(lname, ".", var);
      mine.push_back(std::move(e));
    }
    std::stable_sort(mine.begin(), mine.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.layer_order, a.var_order, a.walk_order) <
             std::tie(b.layer_order, b.var_order, b.walk_order);
    });
    for (Entry& e : mine) {
      const std::string& lname = layer_names[e.layer_order];
      if (!have_kernel[e.layer_order]) {
        have_kernel[e.layer_order] = true;  // only the first variable can be the kernel
        auto cls = classes.find(lname);
        KerasType t = KerasType::kOther;
        const std::string var = e.info.name.substr(lname.size() + 1);
        if (cls != classes.end()) {
          t = TypeOfClass(cls->second);
        } else if (var == "kernel" || var == "embeddings") {
          // No model_config (a weights-only file): the kernel's rank gives the type.
          const size_t r = e.info.shape.size();
          t = var == "embeddings" ? KerasType::kEmbedding
              : r == 2            ? KerasType::kDense
              : r == 3            ? KerasType::kConv1d
                                  : KerasType::kConv2d;
        }
        if (MakeKernel(t, lname, &e)) {
          entries->push_back(std::move(e));
          continue;
        }
      }
      entries->push_back(std::move(e));
    }
  }

  std::shared_ptr<SandboxedHdf5> h5_;
  Hdf5Walk walk_;
  std::vector<Entry> entries_;
};

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenHdf5Image(
    std::string format, std::string path, std::string where, std::span<const std::byte> image,
    std::shared_ptr<const void> owner, const JsonValue* config, const std::string& config_note) {
  // libhdf5 runs in child processes only: a file that crashes it fails with an error.
  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<SandboxedHdf5> h5,
                        SandboxedHdf5::Open(std::move(where), image, std::move(owner),
                                            {"layer_names", "weight_names", "model_config"}));
  Hdf5Walk walk = h5->walk();
  std::string layout = KerasReader::Layout(walk);
  // A .keras archive is "keras" whatever its weights file holds.
  if (format != "keras") format = layout;
  auto reader = std::make_unique<KerasReader>(std::move(format), std::move(path), std::move(h5),
                                              std::move(walk));
  HTSR_RETURN_IF_ERROR(reader->Parse(config, config_note));
  return reader;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenHdf5(FileBytes file) {
  const std::string path = file.name;
  return OpenHdf5Image("hdf5", path, path, file.bytes, file.owner, nullptr, "");
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenKeras(FileBytes file) {
  const std::string path = file.name;
  HTSR_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(std::move(file)));
  const ZipEntry* weights = zip.Find("model.weights.h5");
  if (weights == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": Keras archive without a model.weights.h5 member"));
  }
  std::optional<JsonValue> config;
  std::string config_note;
  if (const ZipEntry* c = zip.Find("config.json"); c == nullptr) {
    config_note = "no config.json";
  } else if (c->uncompressed_size > kMaxConfigBytes) {
    config_note = absl::StrCat("config.json has ", c->uncompressed_size, " bytes");
  } else {
    auto bytes = zip.Read(*c);
    absl::StatusOr<JsonValue> parsed =
        bytes.ok() ? ParseJson(absl::string_view(reinterpret_cast<const char*>(bytes->bytes.data()),
                                                 bytes->bytes.size()))
                   : absl::StatusOr<JsonValue>(bytes.status());
    if (parsed.ok()) {
      config = std::move(*parsed);
    } else {
      config_note = absl::StrCat("config.json unreadable: ", parsed.status().message());
    }
  }
  HTSR_ASSIGN_OR_RETURN(ZipBytes h5, zip.Read(*weights));
  return OpenHdf5Image("keras", path, absl::StrCat(path, ": member 'model.weights.h5'"), h5.bytes,
                       std::move(h5.owner), config ? &*config : nullptr, config_note);
}

}  // namespace htsr::readers
