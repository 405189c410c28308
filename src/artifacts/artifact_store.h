// Artifact content, addressed by its sha256. Putting the same bytes twice
// stores them once, so a retried stage never duplicates content; the
// artifacts row (store::Artifact) is what records that a run produced it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/fs.h"
#include "core/problem.h"

namespace ps::artifacts {

struct BlobRef {
  std::string sha256;
  std::int64_t size = 0;
  std::string path;  // where the store keeps it, relative to its root
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  virtual Result<BlobRef> Put(std::string_view content) = 0;
  // Reads content back, verifying its digest (store-corrupt if it changed).
  virtual Result<std::string> Get(const std::string& sha256) = 0;
  virtual bool Has(const std::string& sha256) = 0;
  virtual std::string Describe() const = 0;
};

// Files under ROOT/sha256/ab/abcdef..., written atomically.
class FsArtifactStore final : public ArtifactStore {
 public:
  explicit FsArtifactStore(fs::path root) : root_(std::move(root)) {}
  Result<BlobRef> Put(std::string_view content) override;
  Result<std::string> Get(const std::string& sha256) override;
  bool Has(const std::string& sha256) override;
  std::string Describe() const override { return "file:" + root_.string(); }

 private:
  static std::string RelPath(const std::string& sha256);
  fs::path root_;
};

}  // namespace ps::artifacts
