#include "scan/scan_store.h"

#include <sqlite3.h>

#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/status_macros.h"
#include "output/result_columns.h"
#include "output/summary_fields.h"

namespace htsr::scan {
namespace {

// Fixed columns of the checkpoints table; the summary columns follow.
constexpr const char* kCheckpointColumns =
    "id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, content_hash TEXT, "
    "status TEXT NOT NULL, error TEXT, options TEXT, format TEXT, backend TEXT, server TEXT, "
    "bytes INTEGER, attempts INTEGER, hash_seconds REAL, analyze_seconds REAL, "
    "finished_at TEXT";

std::string Quote(const std::string& name) { return absl::StrCat("\"", name, "\""); }

// RAII for a prepared statement.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt** out() { return &s_; }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

void BindCell(sqlite3_stmt* s, int i, const output::Cell& c) {
  if (const auto* v = std::get_if<int64_t>(&c)) {
    sqlite3_bind_int64(s, i, *v);
  } else if (const auto* d = std::get_if<double>(&c)) {
    sqlite3_bind_double(s, i, *d);  // NaN reads back as NULL (SQLite has no NaN)
  } else if (const auto* str = std::get_if<std::string>(&c)) {
    sqlite3_bind_text(s, i, str->data(), static_cast<int>(str->size()), SQLITE_TRANSIENT);
  } else if (const auto* b = std::get_if<bool>(&c)) {
    sqlite3_bind_int64(s, i, *b ? 1 : 0);
  } else {
    sqlite3_bind_null(s, i);
  }
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

const std::vector<std::string>& SummaryColumnNames() {
  static const std::vector<std::string>* names = [] {
    ModelSummary every;
    every.mp_softrank = 0.0;  // the optional fields too: every name a summary can have
    auto* v = new std::vector<std::string>;
    for (const output::SummaryField& f : output::SummaryFields(every)) v->emplace_back(f.name);
    return v;
  }();
  return *names;
}

const std::vector<std::string>& LayerColumnNames() {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>;
    for (const output::Column& c : output::AllColumns()) v->emplace_back(c.name);
    return v;
  }();
  return *names;
}

absl::StatusOr<std::unique_ptr<ScanStore>> ScanStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<ScanStore> store(new ScanStore(db, path));
  if (rc != SQLITE_OK) return store->Error("cannot open");
  sqlite3_busy_timeout(db, 10000);
  // WAL: a killed scan leaves a consistent file, and readers (export) do not block it.
  HTSR_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  HTSR_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=NORMAL"));
  HTSR_RETURN_IF_ERROR(store->CreateSchema());
  return store;
}

absl::StatusOr<std::unique_ptr<ScanStore>> ScanStore::OpenReadOnly(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<ScanStore> store(new ScanStore(db, path));
  if (rc != SQLITE_OK) return store->Error("cannot open");
  sqlite3_busy_timeout(db, 10000);
  HTSR_ASSIGN_OR_RETURN(DbTable t, store->Query("SELECT name FROM sqlite_master WHERE type='table' "
                                                "AND name='checkpoints'"));
  if (t.rows.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an htsr scan database"));
  }
  return store;
}

ScanStore::~ScanStore() { sqlite3_close(db_); }

absl::Status ScanStore::Error(const std::string& what) const {
  return absl::InternalError(absl::StrCat("scan database ", path_, ": ", what, ": ",
                                          db_ ? sqlite3_errmsg(db_) : "out of memory"));
}

absl::Status ScanStore::Exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return absl::InternalError(absl::StrCat("scan database ", path_, ": ", m, " (in: ", sql, ")"));
  }
  return absl::OkStatus();
}

absl::Status ScanStore::CreateSchema() {
  std::vector<std::string> summary;
  for (const std::string& n : SummaryColumnNames()) summary.push_back(Quote(n));
  std::vector<std::string> layer;
  for (const std::string& n : LayerColumnNames()) layer.push_back(Quote(n));
  HTSR_RETURN_IF_ERROR(
      Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS checkpoints (", kCheckpointColumns, ", ",
                        absl::StrJoin(summary, ", "), ")")));
  // No declared types: each value keeps the type the writer gave it (int, real, text).
  HTSR_RETURN_IF_ERROR(
      Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS layers (checkpoint_id INTEGER NOT "
                        "NULL REFERENCES checkpoints(id), ",
                        absl::StrJoin(layer, ", "), ")")));
  HTSR_RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS checkpoint_extras (checkpoint_id INTEGER NOT NULL REFERENCES "
      "checkpoints(id), ord INTEGER NOT NULL, key TEXT NOT NULL, value TEXT)"));
  HTSR_RETURN_IF_ERROR(
      Exec("CREATE INDEX IF NOT EXISTS layers_by_checkpoint ON layers(checkpoint_id)"));
  HTSR_RETURN_IF_ERROR(
      Exec("CREATE INDEX IF NOT EXISTS extras_by_checkpoint ON checkpoint_extras(checkpoint_id)"));
  HTSR_RETURN_IF_ERROR(AddMissingColumns("checkpoints", SummaryColumnNames()));
  return AddMissingColumns("layers", LayerColumnNames());
}

absl::Status ScanStore::AddMissingColumns(const std::string& table,
                                          const std::vector<std::string>& cols) {
  HTSR_ASSIGN_OR_RETURN(DbTable info, Query(absl::StrCat("PRAGMA table_info(", table, ")")));
  std::map<std::string, bool> have;
  for (const auto& row : info.rows) {
    if (const auto* n = std::get_if<std::string>(&row[1])) have[*n] = true;
  }
  for (const std::string& c : cols) {
    if (!have.count(c)) {
      HTSR_RETURN_IF_ERROR(Exec(absl::StrCat("ALTER TABLE ", table, " ADD COLUMN ", Quote(c))));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ScanStore::IsDone(const std::string& path, const std::string& content_hash,
                                       const std::string& options_key) {
  absl::MutexLock lock(&mu_);
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT 1 FROM checkpoints WHERE path=?1 AND content_hash=?2 AND "
                         "options=?3 AND status IN ('ok', 'empty')",
                         -1, s.out(), nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  BindText(s.get(), 1, path);
  BindText(s.get(), 2, content_hash);
  BindText(s.get(), 3, options_key);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error("lookup");
}

absl::Status ScanStore::Record(const CheckpointRecord& record) {
  if (record.ok && record.report == nullptr) {
    return absl::InternalError("CheckpointRecord: ok without a report");
  }
  absl::MutexLock lock(&mu_);
  HTSR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status s = RecordLocked(record);
  if (!s.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  }
  s = Exec("COMMIT");
  if (!s.ok()) Exec("ROLLBACK").IgnoreError();
  return s;
}

absl::Status ScanStore::RecordLocked(const CheckpointRecord& r) {
  // Replace: drop the previous attempt's rows for this path first.
  {
    Stmt old;
    if (sqlite3_prepare_v2(db_, "SELECT id FROM checkpoints WHERE path=?1", -1, old.out(),
                           nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    BindText(old.get(), 1, r.item.path);
    if (sqlite3_step(old.get()) == SQLITE_ROW) {
      const int64_t id = sqlite3_column_int64(old.get(), 0);
      HTSR_RETURN_IF_ERROR(Exec(absl::StrCat("DELETE FROM layers WHERE checkpoint_id=", id)));
      HTSR_RETURN_IF_ERROR(
          Exec(absl::StrCat("DELETE FROM checkpoint_extras WHERE checkpoint_id=", id)));
      HTSR_RETURN_IF_ERROR(Exec(absl::StrCat("DELETE FROM checkpoints WHERE id=", id)));
    }
  }

  const std::vector<std::string>& summary_cols = SummaryColumnNames();
  std::vector<std::string> cols = {"path",    "content_hash", "status",       "error",
                                   "options", "format",       "backend",      "server",
                                   "bytes",   "attempts",     "hash_seconds", "analyze_seconds"};
  const size_t fixed = cols.size();
  for (const std::string& n : summary_cols) cols.push_back(Quote(n));
  std::vector<std::string> marks;
  for (size_t i = 0; i < cols.size(); ++i) marks.push_back(absl::StrCat("?", i + 1));
  const std::string sql = absl::StrCat("INSERT INTO checkpoints (", absl::StrJoin(cols, ", "),
                                       ", finished_at) VALUES (", absl::StrJoin(marks, ", "),
                                       ", strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
  Stmt ins;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, ins.out(), nullptr) != SQLITE_OK) {
    return Error("prepare insert");
  }
  sqlite3_stmt* s = ins.get();
  BindText(s, 1, r.item.path);
  BindText(s, 2, r.content_hash);
  // "empty": analysed, but no layer was (README "Empty models"); its summary means are NULL.
  BindText(s, 3, !r.ok ? "failed" : std::string(output::SummaryStatus(r.report->summary)));
  if (r.error.empty()) {
    sqlite3_bind_null(s, 4);
  } else {
    BindText(s, 4, r.error);
  }
  BindText(s, 5, r.options_key);
  if (r.report) {
    BindText(s, 6, r.report->format);
    BindText(s, 7, r.report->backend);
  }
  BindText(s, 8, r.server);
  sqlite3_bind_int64(s, 9, static_cast<int64_t>(r.bytes));
  sqlite3_bind_int64(s, 10, r.attempts);
  sqlite3_bind_double(s, 11, r.hash_seconds);
  sqlite3_bind_double(s, 12, r.analyze_seconds);
  if (r.ok) {
    std::map<std::string, output::SummaryField> by_name;
    for (const output::SummaryField& f : output::SummaryFields(r.report->summary)) {
      by_name.emplace(std::string(f.name), f);
    }
    for (size_t i = 0; i < summary_cols.size(); ++i) {
      const int idx = static_cast<int>(fixed + i + 1);
      auto it = by_name.find(summary_cols[i]);
      if (it == by_name.end()) continue;               // optional and absent: NULL
      if (!std::isfinite(it->second.value)) continue;  // no value (an empty model): NULL
      if (it->second.is_count) {
        sqlite3_bind_int64(s, idx, static_cast<int64_t>(it->second.value));
      } else {
        sqlite3_bind_double(s, idx, it->second.value);
      }
    }
  }
  if (sqlite3_step(s) != SQLITE_DONE) return Error(absl::StrCat("insert ", r.item.path));
  const int64_t id = sqlite3_last_insert_rowid(db_);

  if (r.ok) {
    const std::vector<output::Column>& columns = output::AllColumns();
    std::vector<std::string> lcols = {"checkpoint_id"};
    std::vector<std::string> lmarks = {"?1"};
    for (size_t i = 0; i < columns.size(); ++i) {
      lcols.push_back(Quote(std::string(columns[i].name)));
      lmarks.push_back(absl::StrCat("?", i + 2));
    }
    Stmt lins;
    const std::string lsql = absl::StrCat("INSERT INTO layers (", absl::StrJoin(lcols, ", "),
                                          ") VALUES (", absl::StrJoin(lmarks, ", "), ")");
    if (sqlite3_prepare_v2(db_, lsql.c_str(), -1, lins.out(), nullptr) != SQLITE_OK) {
      return Error("prepare layer insert");
    }
    for (const LayerResult& layer : r.report->layers) {
      sqlite3_reset(lins.get());
      sqlite3_clear_bindings(lins.get());
      sqlite3_bind_int64(lins.get(), 1, id);
      for (size_t i = 0; i < columns.size(); ++i) {
        BindCell(lins.get(), static_cast<int>(i + 2), columns[i].get(layer));
      }
      if (sqlite3_step(lins.get()) != SQLITE_DONE) {
        return Error(absl::StrCat("insert layer ", layer.plan.layer_id, " of ", r.item.path));
      }
    }
  }

  Stmt eins;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO checkpoint_extras (checkpoint_id, ord, key, value) VALUES "
                         "(?1, ?2, ?3, ?4)",
                         -1, eins.out(), nullptr) != SQLITE_OK) {
    return Error("prepare extras insert");
  }
  for (size_t i = 0; i < r.item.extra.size(); ++i) {
    sqlite3_reset(eins.get());
    sqlite3_bind_int64(eins.get(), 1, id);
    sqlite3_bind_int64(eins.get(), 2, static_cast<int64_t>(i));
    BindText(eins.get(), 3, r.item.extra[i].first);
    BindText(eins.get(), 4, r.item.extra[i].second);
    if (sqlite3_step(eins.get()) != SQLITE_DONE) return Error("insert extras");
  }
  return absl::OkStatus();
}

absl::StatusOr<DbTable> ScanStore::Query(const std::string& sql) {
  absl::MutexLock lock(&mu_);
  Stmt s;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, s.out(), nullptr) != SQLITE_OK) {
    return Error(absl::StrCat("query '", sql, "'"));
  }
  DbTable t;
  const int n = sqlite3_column_count(s.get());
  for (int i = 0; i < n; ++i) t.columns.emplace_back(sqlite3_column_name(s.get(), i));
  for (;;) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Error(absl::StrCat("query '", sql, "'"));
    std::vector<DbValue> row;
    row.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(s.get(), i)) {
        case SQLITE_INTEGER:
          row.emplace_back(int64_t{sqlite3_column_int64(s.get(), i)});
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(s.get(), i));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), i));
          row.emplace_back(
              std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s.get(), i))));
        }
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace htsr::scan
