// Filesystem helpers: whole-file reads, crash-safe writes, sha256.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/problem.h"

namespace ps {

namespace fs = std::filesystem;

// Reads a whole regular file, refusing files larger than `max_bytes`.
// A FIFO or device is refused without waiting on it.
Result<std::string> ReadFile(const fs::path& path, std::uint64_t max_bytes = 64ull << 20);

// The same for `name` in the folder open as `dir_fd`, never through a
// symbolic link (a repository's file: its links may point anywhere).
// `label` names the file in errors.
Result<std::string> ReadFileAt(int dir_fd, const std::string& name, const std::string& label,
                               std::uint64_t max_bytes);

// Writes `data` to `path` so that a crash leaves either the old or the new
// file: a temporary beside it, fsync, rename, fsync of the directory.
// `mode`: 0600 for anything that may hold a secret. A full disk is the
// Problem "disk-full" (507), not an I/O error.
Status WriteFileAtomic(const fs::path& path, std::string_view data, unsigned mode = 0644);

// Appends `data` to `path` (created with mode 600 if missing; a symbolic
// link is refused) in one write: lines of a log or a history.
Status AppendFile(const fs::path& path, std::string_view data);

// fsync of a directory (after creating or renaming entries in it).
Status SyncDir(const fs::path& dir);

// Lower-case hex sha256 of bytes, and of a file streamed from disk.
std::string Sha256Hex(std::string_view data);
// ProdSprint's per-user cache folder: $XDG_CACHE_HOME/prodsprint, else
// ~/.cache/prodsprint; "" when neither variable is set.
std::string UserCacheDir();
Result<std::string> Sha256File(const fs::path& path);

// Creates `dir` and parents; Problem on failure.
Status EnsureDir(const fs::path& dir);

// Creates `root`/`rel` one level at a time from the trusted `root`, refusing
// a symbolic link (or anything but a folder) at every level of `rel`: a
// repository's planted link never redirects a write.
Status EnsureDirBelow(const fs::path& root, const fs::path& rel);

// The state folder: created 0700 (parents as usual), refused when it is a
// symbolic link or another user's, and narrowed to 0700 when it is wider.
Status EnsurePrivateDir(const fs::path& dir);

}  // namespace ps
