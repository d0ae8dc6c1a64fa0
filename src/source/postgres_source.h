// The PostgreSQL source, through libpq. Rows stream (a cursor, or single-row mode); the session uses
// ISO dates and UTC so that values parse the same on every server configuration.
#pragma once

#include <memory>
#include <string>

#include "source/source.h"

namespace strata {

Result<std::unique_ptr<Source>> OpenPostgresSource(const std::string& conninfo);

// Whether an error with this SQLSTATE may pass when the statement is tried again: connection
// exceptions (class 08), the server shutting down or starting (57P01-57P03), insufficient resources
// (class 53: out of memory, disk full, too many connections), serialization failures and deadlocks
// (40001, 40P01), a lock not available (55P03) and system I/O errors (class 58). Anything else —
// syntax (42601), undefined objects (42P01, 42703), privileges (42501), data exceptions (class 22),
// constraint violations (class 23) — fails the same way every time.
bool IsTransientSqlstate(const char* sqlstate);

}  // namespace strata
