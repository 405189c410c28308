// Dockerfiles, read by the audit (ports, runtimes, commands) and reviewed by
// the plan: instructions with their lines, continuations joined, comments
// dropped. Never fails: an unknown line is an instruction like any other.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ps::stages::audit {

// An instruction of a Dockerfile with the line it starts on.
struct Instruction {
  std::string op;  // upper case
  std::string args;
  int line = 0;
};

std::vector<Instruction> ParseDockerfile(const std::string& text);

// "node:20-alpine" -> {"node", "20"}; images without a runtime or a version
// in their tag -> nullopt.
std::optional<std::pair<std::string, std::string>> RuntimeOfImage(const std::string& image);

}  // namespace ps::stages::audit
