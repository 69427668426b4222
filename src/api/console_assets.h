// The web console's built files (src/api/console, built by Vite), embedded in the binary at
// build time so that `portcullis serve` serves the console with no other server and no files
// beside it. The table is generated (cmake/embed_console.cmake); empty when the build machine
// had no Node.js to build the console with.
#pragma once

#include <span>
#include <string_view>

namespace portcullis::api {

struct ConsoleAsset {
  std::string_view path;  // "/index.html", "/assets/index-3f2a1b.js"
  std::string_view body;
};

std::span<const ConsoleAsset> console_assets();

}  // namespace portcullis::api
