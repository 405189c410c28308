// What the audit reads: a working tree on disk, or one revision of a git
// repository read straight from its object database (no checkout). Both walk
// in a deterministic order, never follow a symbolic link, and bound what
// they read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/problem.h"

namespace ps::stages::audit {

struct FileEntry {
  std::string path;        // relative, '/'-separated
  std::uint64_t size = 0;  // 0 and size_known false when the walk was told not to stat
  bool size_known = true;
  bool symlink = false;
  bool executable = false;    // regular files with the owner's execute bit (mode 100755 in git)
  std::string link_target{};  // for symlinks
};

struct WalkOptions {
  std::uint64_t max_files = 2'000'000;
  bool honour_gitignore = true;  // working trees only: a revision holds only tracked files
  // Without sizes a working tree's walk takes the file type from the
  // listing and stats nothing (one system call less per file); a reader
  // learns the size by reading (ReadInto).
  bool need_sizes = true;
  std::function<bool()> stopping;
};

struct WalkStats {
  std::uint64_t files = 0;
  std::uint64_t ignored = 0;  // files and folders left out by .gitignore or built-in rules
  bool truncated = false;     // something was left out: max_files reached, or unreadable
  // Folders and entries that could not be read (permissions, a path past
  // the system's limit, a corrupt object): never silently passed over.
  std::uint64_t unreadable = 0;
  std::vector<std::pair<std::string, std::string>> unreadable_paths;  // path, why (first 100)
  // .gitignore matching stopped at its work bound (hostile patterns): the
  // rest of the tree was walked without it.
  bool gitignore_bounded = false;
  // .gitignore files whose rules were not applied (too large, a FIFO, a
  // symbolic link): path, why. More was read, never less.
  std::vector<std::pair<std::string, std::string>> gitignore_unread;
  void Unreadable(std::string path, std::string why) {
    ++unreadable;
    truncated = true;
    if (unreadable_paths.size() < 100)
      unreadable_paths.emplace_back(std::move(path), std::move(why));
  }
};

class RepoView {
 public:
  virtual ~RepoView() = default;
  // Calls `fn` for every file, folders before their contents, names in byte
  // order. Folders named .git, and (working trees) ignored paths, are skipped.
  virtual Result<WalkStats> Walk(const WalkOptions& options,
                                 const std::function<void(const FileEntry&)>& fn) = 0;
  // The first `max_bytes` of a file (less if shorter).
  virtual Result<std::string> Read(const std::string& path, std::uint64_t max_bytes) = 0;
  // Reads at most `max_bytes` into `buf` from offset `at` on (reusing its
  // memory: `buf` grows as needed and may be left longer than what was
  // read; its bytes before `at` are kept). Answers the number of bytes read.
  virtual Result<std::size_t> ReadInto(const std::string& path, std::uint64_t max_bytes,
                                       std::string& buf, std::size_t at = 0) {
    PS_ASSIGN(std::string s, Read(path, max_bytes));
    if (buf.size() < at + s.size()) buf.resize(at + s.size());
    std::copy(s.begin(), s.end(), buf.begin() + static_cast<std::ptrdiff_t>(at));
    return s.size();
  }
  // Whether Read may be called from several threads at once.
  virtual bool ConcurrentReads() const { return false; }
  // "worktree /path" or "git /path@rev (commit)".
  virtual std::string Describe() const = 0;
  // The commit a revision view reads, empty for working trees.
  virtual std::string Commit() const { return {}; }
};

// A folder on disk.
Result<std::unique_ptr<RepoView>> OpenWorkTree(const std::string& root);
// REV (a commit, branch, tag, or any git revision expression) of the git
// repository that contains `path`; the view is rooted at `path`'s folder in
// that revision.
Result<std::unique_ptr<RepoView>> OpenGitRevision(const std::string& path, const std::string& rev);
// PATH's working tree when REV is empty, else revision REV of its repository.
Result<std::unique_ptr<RepoView>> OpenView(const std::string& path, const std::string& rev);
// Files held in memory (path -> content): for uploads, tests and fuzzing.
std::unique_ptr<RepoView> OpenMemory(std::map<std::string, std::string> files);

}  // namespace ps::stages::audit
