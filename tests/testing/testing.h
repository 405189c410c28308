// Test helpers: temporary folders that clean up, and running a command.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ps::testing {

// A fresh folder under the system temp dir, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv with `cwd` as working folder and extra environment entries
// ("NAME=value"); captures stdout and stderr.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                         const std::vector<std::string>& env = {});

void WriteText(const std::filesystem::path& p, const std::string& text);
std::string ReadText(const std::filesystem::path& p);

}  // namespace ps::testing
