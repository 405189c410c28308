// Secrets in a repository's git history: every blob reachable from its
// branches, tags and HEAD is scanned once, attributed to the commit that
// introduced it (and the path it had there). What a scan has read is
// remembered (commits, trees and blobs by object id, and the findings), so
// the next scan of the same repository reads only what is new; gitleaks and
// the others read the whole history every time.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/problem.h"
#include "security/secrets.h"

namespace ps::stages::readiness {

struct HistoryOptions {
  std::string path;        // the repository (any folder inside it)
  std::string cache_path;  // "" = ~/.cache/prodsprint/history/<repository id>.db
  std::uint64_t max_blob_bytes = 10ull << 20;
  std::function<bool()> stopping;
};

struct HistoryReport {
  std::size_t commits = 0;        // reachable now
  std::size_t new_commits = 0;    // read by this scan
  std::size_t blobs_scanned = 0;  // read by this scan
  std::uint64_t bytes_scanned = 0;
  std::size_t blobs_skipped = 0;  // binary or too large
  // Objects that could not be read (corrupt or missing commits, trees,
  // blobs): path (or commit), why; never scanned, never silently.
  std::size_t unreadable = 0;
  std::vector<std::pair<std::string, std::string>> unreadable_list;  // the first 100
  std::string cache;
  double seconds = 0;
  // Findings of the reachable history, each with `commit` set.
  std::vector<security::SecretFinding> findings;
};

// The default cache file for a repository's git folder.
std::string DefaultHistoryCache(const std::string& git_dir);

Result<HistoryReport> ScanHistory(const HistoryOptions& options, security::SecretScanner& scanner);

}  // namespace ps::stages::readiness
