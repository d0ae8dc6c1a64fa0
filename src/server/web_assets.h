// The web page's files (src/server/web/), compiled into the binary so that `strata serve` needs
// nothing beside it and fetches nothing from anywhere else. The build generates web_assets.cc.
#pragma once

#include <span>
#include <string_view>

namespace strata::server {

struct WebAsset {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const WebAsset> WebAssets();

}  // namespace strata::server
