// Container and IaC rules on any bytes, read as a Dockerfile, a Kubernetes
// manifest and a Terraform file: findings point inside the file, malformed
// input is a warning, nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "security/iac.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  int lines = 1;
  for (char c : text) lines += c == '\n';
  std::vector<std::string> warnings;
  for (const char* path : {"Dockerfile", "k8s/app.yaml", "main.tf"}) {
    std::string body = text;
    if (std::string(path) == "k8s/app.yaml") body = "apiVersion: v1\nkind: Pod\n" + text;
    for (const auto& f : ps::security::CheckIacFile(path, body, &warnings)) {
      if (f.line < 0 || f.line > lines + 2) __builtin_trap();
      if (!ps::security::FindIacRule(f.rule_id)) __builtin_trap();
    }
  }
  return 0;
}
