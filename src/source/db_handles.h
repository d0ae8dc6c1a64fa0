// Owners for the C handles of SQLite and libpq (STYLE.md rule 7): every handle is wrapped the
// moment it is created, and freed by its type's own function.
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>

#include <memory>

namespace strata {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct PgCancelFreer {
  void operator()(PGcancel* c) const { PQfreeCancel(c); }
};

using SqliteDbPtr = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;
using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;
using PgCancelPtr = std::unique_ptr<PGcancel, PgCancelFreer>;

}  // namespace strata
