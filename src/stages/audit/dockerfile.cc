#include "stages/audit/dockerfile.h"

#include <cctype>
#include <map>

namespace ps::stages::audit {

// "node:20-alpine" -> {"node", "20"}; images without a runtime -> nullopt.
std::optional<std::pair<std::string, std::string>> RuntimeOfImage(const std::string& image) {
  std::string name = image, tag;
  auto at = name.find('@');
  if (at != std::string::npos) name = name.substr(0, at);
  auto colon = name.rfind(':');
  if (colon != std::string::npos && name.find('/', colon) == std::string::npos) {
    tag = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  auto slash = name.rfind('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  static const std::map<std::string, std::string> kRuntimes = {
      {"node", "node"},
      {"python", "python"},
      {"golang", "go"},
      {"ruby", "ruby"},
      {"php", "php"},
      {"openjdk", "java"},
      {"eclipse-temurin", "java"},
      {"amazoncorretto", "java"},
      {"rust", "rust"},
      {"elixir", "elixir"},
      {"denoland/deno", "deno"},
      {"deno", "deno"},
      {"bun", "bun"},
      {"aspnet", "dotnet"},
      {"sdk", "dotnet"},
  };
  auto it = kRuntimes.find(base);
  if (it == kRuntimes.end()) return std::nullopt;
  std::string version;
  for (char c : tag) {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      version += c;
    } else {
      break;
    }
  }
  if (version.empty()) return std::nullopt;  // latest, alpine...: no version to report
  return std::make_pair(it->second, version);
}

}  // namespace ps::stages::audit
