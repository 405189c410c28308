// Terminal output: colour only on a terminal and never with NO_COLOR set,
// aligned tables, problems, and the documented exit codes (docs/CLI.md).
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/problem.h"

namespace ps::cli {

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;    // the run or operation failed
constexpr int kExitUsage = 2;     // bad flags, invalid input or configuration
constexpr int kExitNotFound = 3;  // no such run, project, file
constexpr int kExitStore = 4;     // state store damaged, too new, or busy
constexpr int kExitConflict = 5;  // not possible in the current state
constexpr int kExitInterrupted = 130;

int ExitCodeFor(const Problem& p);

class Term {
 public:
  // Colour when stdout is a terminal and NO_COLOR is unset or empty.
  static Term Detect();
  explicit Term(bool color) : color_(color) {}
  bool color() const { return color_; }
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Dim(const std::string& s) const { return Wrap("2", s); }
  std::string Green(const std::string& s) const { return Wrap("32", s); }
  std::string Red(const std::string& s) const { return Wrap("31", s); }
  std::string Yellow(const std::string& s) const { return Wrap("33", s); }
  std::string Cyan(const std::string& s) const { return Wrap("36", s); }
  // Colours a run or stage status word.
  std::string Status(const std::string& status) const;

 private:
  std::string Wrap(const char* code, const std::string& s) const;
  bool color_;
};

// Makes std::cout and std::cerr safe for a terminal: names and text from
// a repository may hold control characters (ESC sequences that move the
// cursor, rewrite the title or the clipboard; \r and \b that hide text).
// Every control byte but \n and \t is written as \xNN, except the colour
// sequences Term itself writes. JSON output is unchanged (its
// strings escape control characters already). Called once, first thing.
void GuardTerminalOutput();

// Columns padded to their widest cell (cells may hold colour codes).
std::string Table(const std::vector<std::vector<std::string>>& rows);

// Prints a problem: JSON (application/problem+json) on stdout with `json`,
// else "error: title: detail" on stderr.
void PrintProblem(const Problem& p, bool json);

// "1.2s", "340ms", "2m05s".
std::string HumanDuration(Millis ms);
// A count or rate without needless decimals: "1000", "12.5".
std::string FormatNumber(double v);

}  // namespace ps::cli
