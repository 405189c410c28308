// Dockerfiles, read by the audit (ports, runtimes, commands) and reviewed by
// the plan: instructions with their lines, continuations joined, comments
// dropped. Never fails: an unknown line is an instruction like any other.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "security/iac.h"

namespace ps::stages::audit {

// The parser is the security gate's (security/iac.h): one reading of
// Dockerfiles for the audit, the plan's review and the gate's rules.
using Instruction = security::DockerInstruction;
inline std::vector<Instruction> ParseDockerfile(const std::string& text) {
  return security::ParseDockerfile(text);
}

// "node:20-alpine" -> {"node", "20"}; images without a runtime or a version
// in their tag -> nullopt.
std::optional<std::pair<std::string, std::string>> RuntimeOfImage(const std::string& image);

}  // namespace ps::stages::audit
