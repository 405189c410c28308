#include "api/static_files.h"

#include <map>

#include "core/fs.h"

namespace ps::api {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxFile = 32ull << 20;

// A file inside root (symbolic links resolved), or nullopt.
std::optional<fs::path> Inside(const fs::path& root, const std::string& rel) {
  for (const auto& part : fs::path(rel)) {
    if (part == "..") return std::nullopt;
  }
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) return std::nullopt;
  const fs::path real = fs::canonical(real_root / rel, ec);
  if (ec || !fs::is_regular_file(real, ec)) return std::nullopt;
  const auto inside = real.lexically_relative(real_root);
  if (inside.empty() || *inside.begin() == "..") return std::nullopt;
  return real;
}

}  // namespace

std::string MediaTypeOf(const std::string& name) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return "application/octet-stream";
  auto it = kTypes.find(name.substr(dot));
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::optional<Response> ServeStatic(const fs::path& root, const Request& req) {
  if (root.empty() || (req.method != "GET" && req.method != "HEAD")) return std::nullopt;
  if (req.path.rfind("/v1/", 0) == 0 || req.path == "/v1") return std::nullopt;
  if (req.path.find('\0') != std::string::npos) return std::nullopt;
  std::string rel = req.path.substr(1);
  std::optional<fs::path> file = rel.empty() ? std::nullopt : Inside(root, rel);
  bool index = false;
  if (!file) {
    // The app's own routes (/projects/ID...) are index.html's; a missing
    // asset (a name with an extension) is a 404.
    const std::string last = fs::path(rel).filename().string();
    if (!rel.empty() && last.find('.') != std::string::npos) return std::nullopt;
    file = Inside(root, "index.html");
    index = true;
    if (!file) return std::nullopt;
  }
  auto body = ReadFile(*file, kMaxFile);
  if (!body.ok()) return std::nullopt;
  Response r;
  r.status = 200;
  r.body = std::move(*body);
  const std::string name = file->filename().string();
  r.Set("Content-Type", MediaTypeOf(name));
  // Hashed build outputs never change; the page that names them always may.
  if (!index && rel.rfind("assets/", 0) == 0) {
    r.Set("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    r.Set("Cache-Control", "no-cache");
  }
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".html") == 0) {
    r.Set("Content-Security-Policy",
          "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
          "style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; "
          "base-uri 'none'; frame-ancestors 'none'");
  }
  return r;
}

}  // namespace ps::api
