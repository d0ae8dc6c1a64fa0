// The PostgreSQL source, through libpq. Rows stream (a cursor, or single-row mode); the session uses
// ISO dates and UTC so that values parse the same on every server configuration.
#pragma once

#include <memory>
#include <string>

#include "source/source.h"

namespace strata {

Result<std::unique_ptr<Source>> OpenPostgresSource(const std::string& conninfo);

// Whether an error with this SQLSTATE may pass when the statement is tried again: a connection
// refused, lost or reset (08000, 08001, 08003, 08004, 08006, 08007), the server shutting down,
// crashed or starting (57P01-57P03), out of memory, disk or connections (53000-53300), a
// serialization failure, deadlock or lock not available (40001, 40P01, 55P03), an I/O error (58030).
// Anything else fails the same way every time: syntax (42601), undefined objects (42P01, 42703),
// privileges (42501), data exceptions (class 22), constraints (class 23), a configured limit such as
// temp_file_limit (53400), a protocol violation (08P01).
bool IsTransientSqlstate(const char* sqlstate);

}  // namespace strata
