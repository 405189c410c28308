#include "artifacts/artifact_store.h"

namespace ps::artifacts {

namespace {
bool IsSha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

std::string FsArtifactStore::RelPath(const std::string& sha256) {
  return "sha256/" + sha256.substr(0, 2) + "/" + sha256;
}

Result<BlobRef> FsArtifactStore::Put(std::string_view content) {
  BlobRef ref{Sha256Hex(content), static_cast<std::int64_t>(content.size()), ""};
  ref.path = RelPath(ref.sha256);
  fs::path full = root_ / ref.path;
  std::error_code ec;
  if (fs::exists(full, ec) && static_cast<std::int64_t>(fs::file_size(full, ec)) == ref.size) {
    return ref;  // content-addressed: already there
  }
  PS_TRY(EnsureDir(full.parent_path()));
  PS_TRY(WriteFileAtomic(full, content, 0600));
  return ref;
}

Result<std::string> FsArtifactStore::Get(const std::string& sha256) {
  if (!IsSha256(sha256)) return problems::InvalidInput("not a sha256 digest: '" + sha256 + "'");
  fs::path full = root_ / RelPath(sha256);
  PS_ASSIGN(std::string data, ReadFile(full, 1ull << 32));
  if (Sha256Hex(data) != sha256) {
    return problems::StoreCorrupt("artifact " + sha256 + " at " + full.string() +
                                  " does not match its digest");
  }
  return data;
}

bool FsArtifactStore::Has(const std::string& sha256) {
  if (!IsSha256(sha256)) return false;
  std::error_code ec;
  return fs::exists(root_ / RelPath(sha256), ec);
}

}  // namespace ps::artifacts
