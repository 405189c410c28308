#include "stages/audit/dockerfile.h"

#include <cctype>
#include <map>
#include <sstream>

namespace ps::stages::audit {

namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string TrimWs(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

}  // namespace

std::vector<Instruction> ParseDockerfile(const std::string& text) {
  std::vector<Instruction> out;
  std::istringstream in(text);
  std::string line, pending;
  int n = 0, start = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = TrimWs(line);
    if (pending.empty() && (t.empty() || t[0] == '#')) continue;
    if (pending.empty()) start = n;
    if (!t.empty() && t.back() == '\\') {
      pending += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    if (!t.empty() && t[0] == '#') continue;  // comments inside continuations
    pending += t;
    auto sp = pending.find_first_of(" \t");
    Instruction ins;
    ins.op = Upper(pending.substr(0, sp));
    ins.args = sp == std::string::npos ? "" : TrimWs(pending.substr(sp + 1));
    ins.line = start;
    out.push_back(ins);
    pending.clear();
  }
  return out;
}

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
