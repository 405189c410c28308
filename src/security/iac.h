// Container and infrastructure checks: rules with ids and docs
// (docs/SECURITY.md) for Dockerfiles, Kubernetes manifests and Terraform.
// They run on the repository's files and on ProdSprint's own generated
// blueprint (which must pass them). Input is untrusted: malformed files are
// warnings, never crashes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace ps::security {

struct IacRule {
  const char* id;    // "DF002", "K8S001", "TF002"
  const char* kind;  // "dockerfile", "kubernetes", "terraform"
  const char* title;
  const char* severity;  // critical, high, medium, low
  const char* remediation;
};

const std::vector<IacRule>& BuiltinIacRules();
const IacRule* FindIacRule(std::string_view id);

struct IacFinding {
  std::string rule_id, severity, title, message, remediation;
  std::string file;
  int line = 0;          // 1-based; 0 for the file as a whole
  std::string resource;  // "aws_s3_bucket.assets", "Deployment/web", "" for Dockerfiles
  Json ToJson() const;
  // Stable across edits that move lines: rule, file, resource and message.
  std::string Fingerprint() const;
};

// Which checker reads this file: "dockerfile", "kubernetes" (a YAML file
// whose text names apiVersion and kind), "terraform" (*.tf), or "".
std::string IacKindOf(std::string_view path, std::string_view content);

// An instruction of a Dockerfile with the line it starts on.
struct DockerInstruction {
  std::string op;  // upper case
  std::string args;
  int line = 0;
};
// Continuations joined, comments and parser directives dropped. Never fails.
std::vector<DockerInstruction> ParseDockerfile(std::string_view text);

std::vector<IacFinding> CheckDockerfile(const std::string& path, std::string_view text);
// `warnings` receives why a file could not be read (malformed YAML).
std::vector<IacFinding> CheckKubernetes(const std::string& path, std::string_view text,
                                        std::vector<std::string>* warnings = nullptr);
std::vector<IacFinding> CheckTerraform(const std::string& path, std::string_view text,
                                       std::vector<std::string>* warnings = nullptr);
// Dispatches on IacKindOf.
std::vector<IacFinding> CheckIacFile(const std::string& path, std::string_view text,
                                     std::vector<std::string>* warnings = nullptr);

}  // namespace ps::security
