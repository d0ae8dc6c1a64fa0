// The PostgreSQL source, through libpq. Rows stream (a cursor, or single-row mode); the session uses
// ISO dates and UTC so that values parse the same on every server configuration.
#pragma once

#include <memory>
#include <string>

#include "source/source.h"

namespace strata {

Result<std::unique_ptr<Source>> OpenPostgresSource(const std::string& conninfo);

}  // namespace strata
