// htsr._htsr: the engine in process. Two entry points, both returning a Report:
//   analyze_path(path, options, layers, progress): any checkpoint the CLI reads (C++ readers)
//   analyze_tensors(label, infos, load, options, layers, progress): tensors Python holds,
//     described up front (name, dtype, shape) and handed over one at a time by `load(i)`, an
//     object with the buffer protocol that is read in place, never copied.
// The GIL is released while the engine works; workers take it only to call `load` and
// `progress` and to drop the buffers they were given.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analysis/base_delta.h"
#include "analysis/layer_filter.h"
#include "analysis/model_analysis.h"
#include "htsr/engine.h"
#include "py_options.h"
#include "py_report.h"
#include "py_status.h"
#include "readers/checkpoint_reader.h"

namespace py = pybind11;

namespace htsr::python {
namespace {

// Calls progress(layer_name) per row; the factory is `progress(total_layers)`.
class PyProgress : public analysis::LayerProgress {
 public:
  explicit PyProgress(py::object cb) : cb_(std::move(cb)) {}
  ~PyProgress() override {
    py::gil_scoped_acquire gil;
    cb_ = py::object();
  }
  void Advance(int64_t, const std::string& layer) override {
    py::gil_scoped_acquire gil;
    try {
      cb_(layer);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("htsr progress callback");
    }
  }
  void Finish() override {}

 private:
  py::object cb_;
};

analysis::LayerProgressFactory MakeProgress(const py::object& factory) {
  if (factory.is_none()) return {};
  // Captured by address (the caller's argument outlives the analysis): copying the
  // std::function without the GIL must not touch a Python reference count.
  return [f = &factory](const std::string&, int64_t layers,
                        int64_t) -> std::unique_ptr<analysis::LayerProgress> {
    py::gil_scoped_acquire gil;
    try {
      py::object cb = (*f)(layers);
      if (cb.is_none()) return nullptr;
      return std::make_unique<PyProgress>(std::move(cb));
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("htsr progress callback");
      return nullptr;
    }
  };
}

struct Prepared {
  std::unique_ptr<Engine> engine;
  analysis::ModelAnalysisOptions options;
};

Prepared Prepare(const py::dict& options, const std::string& layers, const py::object& progress) {
  absl::StatusOr<EngineConfig> config = EngineConfigFromDict(options);
  ThrowIfError(config.status());
  absl::StatusOr<analysis::LayerFilter> filter = analysis::LayerFilter::Parse(layers);
  ThrowIfError(filter.status());
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(*config);
  ThrowIfError(engine.status());
  Prepared p;
  p.engine = std::move(*engine);
  p.options.filter = *std::move(filter);
  p.options.progress = MakeProgress(progress);
  return p;
}

void CheckHasLayers(const model::ModelReport& r, const std::string& label) {
  if (r.layers.empty()) {
    ThrowIfError(absl::InvalidArgumentError(
        absl::StrCat(label, ": the model has no layer to analyse (no floating tensor of rank ",
                     "2-4 named '*.weight', or none selected)")));
  }
}

model::ModelReport AnalyzePath(const std::string& path, const py::dict& options,
                               const std::string& layers, const py::object& progress) {
  Prepared p = Prepare(options, layers, progress);
  absl::StatusOr<model::ModelReport> report;
  {
    py::gil_scoped_release release;
    report = analysis::AnalyzeCheckpoint(path, *p.engine, p.options);
  }
  ThrowIfError(report.status());
  CheckHasLayers(*report, path);
  return *std::move(report);
}

// A Python buffer and the object behind it, released with the GIL held; then `release()`
// when the loader gave one (the Python side's "one converted layer at a time" slot).
struct HeldBuffer {
  py::object obj;
  py::object release;
  Py_buffer view{};
  bool has_view = false;
  ~HeldBuffer() {
    py::gil_scoped_acquire gil;
    if (has_view) PyBuffer_Release(&view);
    obj = py::object();
    if (release && !release.is_none()) {
      try {
        release();
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("htsr buffer release");
      }
    }
    release = py::object();
  }
};

absl::StatusOr<TensorView> LoadFromPython(const py::object& load, const TensorInfo& info,
                                          size_t index) {
  py::gil_scoped_acquire gil;
  auto held = std::make_shared<HeldBuffer>();
  try {
    py::object got = load(index);
    // load(i) returns a buffer, or (buffer, release): release() is called once the engine
    // is done with the buffer.
    if (py::isinstance<py::tuple>(got) && py::len(got) == 2) {
      py::tuple t = got.cast<py::tuple>();
      held->obj = t[0];
      held->release = t[1];
    } else {
      held->obj = std::move(got);
    }
  } catch (py::error_already_set& e) {
    return absl::InvalidArgumentError(absl::StrCat("loading '", info.name, "': ", e.what()));
  }
  if (PyObject_GetBuffer(held->obj.ptr(), &held->view, PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    return absl::InvalidArgumentError(
        absl::StrCat("'", info.name, "' is not a C-contiguous buffer"));
  }
  held->has_view = true;
  const std::optional<int64_t> n = info.NumElements();
  const int64_t want = n ? *n * static_cast<int64_t>(DTypeSize(info.dtype)) : -1;
  if (held->view.len != want) {
    return absl::InvalidArgumentError(absl::StrCat("'", info.name, "' has ", held->view.len,
                                                   " bytes, its dtype and shape need ", want));
  }
  TensorView v;
  v.info = info;
  v.bytes = std::span<const std::byte>(static_cast<const std::byte*>(held->view.buf),
                                       static_cast<size_t>(held->view.len));
  // The engine drops the view from a worker thread: HeldBuffer takes the GIL to release it.
  v.owner = std::shared_ptr<const void>(held, held.get());
  return v;
}

// (name, safetensors dtype, shape) tuples as the engine's TensorInfo.
std::vector<TensorInfo> TensorInfos(const py::list& infos) {
  std::vector<TensorInfo> out;
  for (const py::handle& h : infos) {
    auto t = h.cast<std::tuple<std::string, std::string, std::vector<int64_t>>>();
    std::optional<DType> dtype = ParseSafetensorsDType(std::get<1>(t));
    if (!dtype) {
      ThrowIfError(absl::InvalidArgumentError(
          absl::StrCat("'", std::get<0>(t), "': unknown dtype '", std::get<1>(t), "'")));
    }
    out.push_back(TensorInfo{std::get<0>(t), *dtype, std::get<2>(t)});
  }
  return out;
}

// Tensors Python holds as a CheckpointReader, for the analyses written against readers
// (--base deltas). Load(i) calls `load(i)` under the GIL, as analyze_tensors does.
class PyTensorReader final : public CheckpointReader {
 public:
  PyTensorReader(std::string label, std::vector<TensorInfo> tensors, py::object load)
      : label_(std::move(label)), tensors_(std::move(tensors)), load_(std::move(load)) {
    for (const TensorInfo& t : tensors_) {
      const std::optional<int64_t> n = t.NumElements();
      if (n) bytes_ += static_cast<uint64_t>(*n) * DTypeSize(t.dtype);
    }
  }
  ~PyTensorReader() override {
    py::gil_scoped_acquire gil;
    load_ = py::object();
  }
  std::string_view Format() const override { return "python"; }
  const std::string& Path() const override { return label_; }
  const std::vector<TensorInfo>& Tensors() const override { return tensors_; }
  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= tensors_.size()) return absl::OutOfRangeError("tensor index out of range");
    return LoadFromPython(load_, tensors_[index], index);
  }
  uint64_t TotalBytes() const override { return bytes_; }
  const std::vector<std::string>& Notes() const override { return none_; }
  const std::vector<std::string>& LeftOut() const override { return none_; }

 private:
  std::string label_;
  std::vector<TensorInfo> tensors_;
  py::object load_;
  uint64_t bytes_ = 0;
  std::vector<std::string> none_;
};

// A model as the Python side prepared it: ("path", path) or ("tensors", label, infos, load).
absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenSource(const py::tuple& src) {
  if (src[0].cast<std::string>() == "path") return OpenCheckpoint(src[1].cast<std::string>());
  return std::make_unique<PyTensorReader>(
      src[1].cast<std::string>(), TensorInfos(src[2].cast<py::list>()), src[3].cast<py::object>());
}

// analyze(model, base_model=...): W - W_base per shared layer, with distances and the
// delta_* columns (client/analysis/base_delta.h), LoRA adapters merged onto their base.
model::ModelReport AnalyzeAgainstBase(const py::tuple& model_src, const py::tuple& base_src,
                                      const py::dict& options, const std::string& layers,
                                      const py::object& progress) {
  Prepared p = Prepare(options, layers, progress);
  absl::StatusOr<std::unique_ptr<CheckpointReader>> model = OpenSource(model_src);
  ThrowIfError(model.status());
  absl::StatusOr<std::unique_ptr<CheckpointReader>> base = OpenSource(base_src);
  if (!base.ok()) {
    ThrowIfError(analysis::BaseModelError(base.status(), base_src[1].cast<std::string>()));
  }
  const Engine* engine = p.engine.get();
  const analysis::LayerRunner run =
      [engine](const TensorSource& source,
               const ModelCallbacks& callbacks) -> absl::StatusOr<std::vector<LayerResult>> {
    return AnalyzeModel(*engine, source, callbacks);
  };
  absl::StatusOr<model::ModelReport> report;
  {
    py::gil_scoped_release release;
    report = analysis::AnalyzeReadersAgainstBase(**model, **base, engine->config().options, run,
                                                 p.options);
  }
  ThrowIfError(report.status());
  report->backend = std::string(engine->backend().Name());
  CheckHasLayers(*report, (*model)->Path());
  return *std::move(report);
}

model::ModelReport AnalyzeTensors(const std::string& label, const py::list& infos,
                                  const py::object& load, const py::dict& options,
                                  const std::string& layers, const py::object& progress) {
  Prepared p = Prepare(options, layers, progress);
  TensorSource source;
  source.tensors = TensorInfos(infos);
  const std::vector<TensorInfo>* tensors = &source.tensors;
  source.load = [l = &load, tensors](size_t i) { return LoadFromPython(*l, (*tensors)[i], i); };

  const auto start = std::chrono::steady_clock::now();
  const std::vector<LayerPlan> plans = PlanModel(source.tensors, p.engine->config().options);
  ThrowIfError(p.options.filter.CheckSelectsAny(plans, label));
  int64_t units = 0;
  for (const LayerPlan& plan : plans) units += p.options.filter.Selects(plan) ? 1 : 0;
  std::unique_ptr<analysis::LayerProgress> bar;
  if (p.options.progress) bar = p.options.progress(label, units, 0);

  ModelCallbacks callbacks;
  const analysis::LayerFilter* filter = &p.options.filter;
  callbacks.select = [filter](const LayerPlan& plan) { return filter->Selects(plan); };
  if (bar) {
    callbacks.on_layer = [b = bar.get()](const LayerResult& r) { b->Advance(0, r.plan.name); };
  }
  model::ModelReport report;
  report.path = label;
  report.format = "python";
  report.backend = std::string(p.engine->backend().Name());
  {
    py::gil_scoped_release release;
    report.layers = AnalyzeModel(*p.engine, source, callbacks);
    report.summary = Summarize(report.layers);
    bar.reset();  // takes the GIL itself
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CheckHasLayers(report, label);
  return report;
}

}  // namespace

PYBIND11_MODULE(_htsr, m) {
  m.doc() = "htsr's engine in process (use the htsr package, not this module)";
  BindReport(m);
  BindPolicy(m);
  m.def("analyze_path", &AnalyzePath, py::arg("path"), py::arg("options"), py::arg("layers"),
        py::arg("progress"));
  m.def("analyze_against_base", &AnalyzeAgainstBase, py::arg("model"), py::arg("base"),
        py::arg("options"), py::arg("layers"), py::arg("progress"));
  m.def("analyze_tensors", &AnalyzeTensors, py::arg("label"), py::arg("infos"), py::arg("load"),
        py::arg("options"), py::arg("layers"), py::arg("progress"));
}

}  // namespace htsr::python
