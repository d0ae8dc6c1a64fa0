// The SQLite source: the embedded default. The file is opened read-only; it must exist.
#pragma once

#include <memory>
#include <string>

#include "source/source.h"

namespace strata {

Result<std::unique_ptr<Source>> OpenSqliteSource(const std::string& path);

// Whether a failure with this SQLite result code (primary or extended) may pass when tried again:
// a busy or locked database, an I/O error, out of memory, a schema that changed under the
// statement. SQLITE_ERROR (syntax, no such table or column), a corrupt file or one that is not a
// database, a missing file or a refused permission fail the same way every time.
bool IsTransientSqliteCode(int code);

// SQLite has no types, only declarations: maps a declared column type ("BIGINT", "numeric(12,2)",
// "TIMESTAMP") to the cell type Strata gives its values. kNull means "none declared": an
// expression, whose text values are taken as dates or timestamps when they are exactly ISO 8601.
Type SqliteDeclaredType(const char* decltype_or_null);

}  // namespace strata
