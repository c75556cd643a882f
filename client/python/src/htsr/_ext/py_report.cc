#include "py_report.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <sstream>
#include <variant>

#include "output/csv_writer.h"
#include "output/result_columns.h"
#include "output/summary_fields.h"

namespace py = pybind11;

namespace htsr::python {
namespace {

py::object CellToPython(const output::Cell& c) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else {
          return py::cast(v);
        }
      },
      c);
}

// [(column name, [value per row])] in the writers' order.
py::list Columns(const model::ModelReport& r) {
  py::list out;
  for (const output::Column* c : output::ColumnsFor(r.layers)) {
    py::list values;
    for (const LayerResult& row : r.layers) values.append(CellToPython(c->get(row)));
    out.append(py::make_tuple(py::str(std::string(c->name)), values));
  }
  return out;
}

py::dict Summary(const model::ModelReport& r) {
  py::dict d;
  for (const output::SummaryField& f : output::SummaryFields(r.summary)) {
    const std::string name(f.name);
    if (f.is_count) {
      d[py::str(name)] = py::int_(static_cast<int64_t>(f.value));
    } else {
      d[py::str(name)] = py::float_(f.value);
    }
  }
  return d;
}

std::string Csv(const model::ModelReport& r) {
  std::ostringstream out;
  output::WriteCsv({r}, out);
  return out.str();
}

py::object Evals(const model::ModelReport& r, int layer_id) {
  for (const LayerResult& row : r.layers) {
    if (row.plan.layer_id == layer_id && !row.evals.empty()) {
      py::array_t<double> a(static_cast<py::ssize_t>(row.evals.size()));
      std::copy(row.evals.begin(), row.evals.end(), a.mutable_data());
      return a;
    }
  }
  return py::none();
}

}  // namespace

void BindReport(py::module_& m) {
  py::class_<model::ModelReport>(m, "Report",
                                 "One analysed model: rows, summary, CSV (see htsr.analyze).")
      .def_readonly("path", &model::ModelReport::path)
      .def_readonly("format", &model::ModelReport::format)
      .def_readonly("backend", &model::ModelReport::backend)
      .def_readonly("seconds", &model::ModelReport::seconds)
      .def_readonly("notes", &model::ModelReport::notes)
      .def_property_readonly("num_rows",
                             [](const model::ModelReport& r) { return r.layers.size(); })
      .def("columns", &Columns, "[(name, values)] in the reference's column order")
      .def("summary", &Summary, "the reference's get_summary() keys, then htsr's counts")
      .def("to_csv", &Csv, "the text of `htsr analyze --format csv` for this model")
      .def("evals", &Evals, py::arg("layer_id"),
           "a layer's eigenvalues, ascending (analyses run with keep_evals=True), or None");
}

}  // namespace htsr::python
