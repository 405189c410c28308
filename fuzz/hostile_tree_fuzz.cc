// A hostile repository on disk: the input is a list of operations that make
// a real tree (folders, files, symbolic links in and out of it, FIFOs,
// .gitignore files of any pattern, a prodsprint.yaml), then the walk with
// .gitignore matching, the audit and the configuration loading run on it.
// Besides not crashing or hanging (libFuzzer's -timeout), the walk must
// never report a path outside the tree, nor anything under a symbolic link.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/config.h"
#include "core/fs.h"
#include "stages/audit/audit.h"
#include "stages/audit/repo_view.h"

namespace {

namespace fs = std::filesystem;

// Path segments: ordinary names, ours, ones git and tools treat specially,
// and a control character.
const char* const kSegments[] = {
    "a",          "b",        "src", ".git",         ".prodsprint", "node_modules",    "plan",
    "staging",    "x\x1b[2J", "..",  "package.json", ".gitignore",  "prodsprint.yaml", "c d",
    "Dockerfile", "main.py"};
constexpr std::size_t kSegmentCount = sizeof kSegments / sizeof kSegments[0];

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t Byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  // A length-prefixed string (at most 255 bytes).
  std::string Text() {
    std::size_t len = Byte();
    len = std::min(len, n);
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
  // 1-4 segments; ".." kept: the tree maker refuses to leave the root.
  std::string Path() {
    const int depth = 1 + Byte() % 4;
    std::string out;
    for (int i = 0; i < depth; ++i) {
      if (!out.empty()) out += '/';
      out += kSegments[Byte() % kSegmentCount];
    }
    return out;
  }
};

const fs::path& Root() {
  static const fs::path root = [] {
    const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string t = std::string(base) + "/ps-hostile-XXXXXX";
    if (!::mkdtemp(t.data())) std::abort();
    return fs::path(t);
  }();
  return root;
}

// Whether `rel` stays inside the tree, as the maker sees it.
bool Inside(const std::string& rel) {
  for (const auto& part : fs::path(rel)) {
    if (part == "..") return false;
  }
  return !rel.empty() && rel[0] != '/';
}

void Make(Reader& in, const fs::path& repo) {
  std::error_code ec;
  for (int ops = 0; ops < 24 && in.n > 0; ++ops) {
    const std::uint8_t op = in.Byte() % 6;
    const std::string rel = in.Path();
    if (!Inside(rel)) continue;
    const fs::path at = repo / rel;
    fs::create_directories(at.parent_path(), ec);
    switch (op) {
      case 0:
        fs::create_directories(at, ec);
        break;
      case 1: {
        const std::string text = in.Text();
        (void)ps::WriteFileAtomic(at, text);
        break;
      }
      case 2: {  // a symbolic link: out of the tree, up, to a sibling, to itself
        static const char* const kTargets[] = {"/etc", "/", "../..",     "..",
                                               "a",    ".", "/dev/zero", "/proc/self/fd/0"};
        fs::create_symlink(kTargets[in.Byte() % 8], at, ec);
        break;
      }
      case 3:
        ::mkfifo(at.c_str(), 0644);
        break;
      case 4: {  // a .gitignore in that folder: patterns from the input
        fs::create_directories(at, ec);
        (void)ps::WriteFileAtomic(at / ".gitignore", in.Text() + "\n" + in.Text());
        break;
      }
      case 5:
        (void)ps::WriteFileAtomic(repo / "prodsprint.yaml", in.Text());
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path repo = Root() / "repo";
  std::error_code ec;
  fs::remove_all(repo, ec);  // never follows a link
  fs::create_directories(repo, ec);
  Reader in{data, size};
  Make(in, repo);

  auto view = ps::stages::audit::OpenWorkTree(repo.string());
  if (!view.ok()) return 0;
  ps::stages::audit::WalkOptions wo;
  wo.max_files = 5000;
  auto walked = (*view)->Walk(wo, [&](const ps::stages::audit::FileEntry& f) {
    if (!Inside(f.path)) std::abort();  // a path outside the tree
    // Nothing under a symbolic link: every folder above is a real one.
    fs::path at = repo;
    for (const auto& part : fs::path(f.path).parent_path()) {
      at /= part;
      struct stat st {};
      if (::lstat(at.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) std::abort();
    }
  });
  (void)walked;
  auto audit = ps::stages::audit::Audit(**view, {});
  if (audit.ok()) (void)ps::Dump(*audit);
  auto config = ps::LoadConfig((repo / "prodsprint.yaml").string());
  if (config.ok()) (void)config->ToJson();
  return 0;
}
