// A service's source is untrusted: any bytes, read as each kind of file the
// route finder knows (the first byte picks it), give routes with a method and
// a path, and never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "quality/routes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* kFiles[] = {"server.js",    "app/main.py", "shop/urls.py", "config/routes.rb",
                                 "src/Api.java", "main.go",     "openapi.yaml", "swagger.json"};
  if (size == 0) return 0;
  const std::string file = kFiles[data[0] % std::size(kFiles)];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto routes = ps::quality::FindRoutes(file, text);
  for (const auto& r : routes) {
    if (r.method.empty() || r.path.empty() || r.line < 0) __builtin_trap();
  }
  for (const auto& r : ps::quality::SmokeRoutes(routes, "/healthz")) {
    if (r.method != "GET" || r.path.empty() || r.path.front() != '/') __builtin_trap();
  }
  (void)ps::Dump(ps::quality::RoutesToJson(routes));
  return 0;
}
