// The import run's first stage: takes stock of the repository at
// run_input().path — its git identity (repository root, HEAD commit, branch,
// dirty or not) and a bounded walk of its working tree (files, bytes, a
// content fingerprint); with run_input().ref, of that revision instead. It follows no symbolic link, and reports links that
// point outside the tree. The audit reads the tree on its own, beside it.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class SourceStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "source";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

// The walk, exposed for tests: limits keep a hostile tree from exhausting time
// or memory.
struct TreeLimits {
  std::uint64_t max_files = 500'000;
  std::uint64_t max_file_bytes = 256ull << 20;  // larger files are counted, not hashed
};
Result<Json> DescribeTree(const std::string& root, const TreeLimits& limits,
                          const std::function<bool()>& stopping);
Json DescribeGit(const std::string& path);
// Revision REV of the git repository holding `path` (its folder within that
// revision), read from the object database: files, bytes, links leaving the
// tree, and the commit as the fingerprint.
Result<Json> DescribeRevision(const std::string& path, const std::string& rev,
                              const TreeLimits& limits, const std::function<bool()>& stopping);

}  // namespace ps::stages
