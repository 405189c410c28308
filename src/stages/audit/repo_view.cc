#include "stages/audit/repo_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/fs.h"
#include "core/parallel.h"
#include "stages/audit/gitignore.h"
#include "stages/git/libgit2.h"

namespace ps::stages::audit {

namespace {

constexpr std::uint64_t kMaxIgnoreFile = 1 << 20;

// Why a file of the tree could not be opened (errno set): gone is "not
// found"; anything else (permissions, a path past the system's limit, a
// link put in its place) says so.
Problem OpenProblem(const std::string& path) {
  if (errno == ENOENT) return problems::NotFound("file", path);
  if (errno == ELOOP) return problems::InvalidInput(path + " is now a symbolic link: not followed");
  return Problem::Make("unreadable", "Unreadable file", 422,
                       "cannot read " + path + ": " + std::strerror(errno));
}
// Characters examined matching .gitignore rules in one walk (a few seconds at
// most): real repositories need well under 1% of it; past it, hostile
// patterns are given up and the rest of the tree is walked without them.
constexpr std::uint64_t kMaxIgnoreWork = 1'000'000'000;
// Memory of the compiled rules of one walk: real repositories need well
// under a megabyte; past it, the same.
constexpr std::size_t kMaxIgnoreMemory = 64 << 20;

// The kernel's record of a directory entry (getdents64).
struct Dirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

class WorkTree final : public RepoView {
 public:
  // `root_fd`: the folder, opened (owned). Files and folders are opened
  // relative to it: the kernel does not walk the root's own path again for
  // each of them (measured: 7% of reading a 20,000-file tree).
  WorkTree(fs::path root, int root_fd) : root_(std::move(root)), root_fd_(root_fd) {}
  ~WorkTree() override { ::close(root_fd_); }
  WorkTree(const WorkTree&) = delete;
  WorkTree& operator=(const WorkTree&) = delete;

  Result<WalkStats> Walk(const WalkOptions& options,
                         const std::function<void(const FileEntry&)>& fn) override {
    WalkStats stats;
    IgnoreRules rules;
    rules.SetWorkLimit(kMaxIgnoreWork);
    rules.SetMemoryLimit(kMaxIgnoreMemory);
    // Depth-first with an explicit stack: no recursion on deep trees.
    std::vector<std::string> stack{""};
    // A folder's entries, as listed, then sorted and typed (reused).
    struct Entry {
      std::string name;
      unsigned char type = DT_UNKNOWN;  // from the listing
      mode_t mode = 0;
      std::uint64_t size = 0;
      char statted = 0;  // 1: stat; 2: type from the listing only
      int error = 0;     // errno of a failed stat
    };
    std::vector<Entry> entries;
    while (!stack.empty()) {
      if (options.stopping && options.stopping()) {
        return problems::Cancelled("stopped while reading the tree");
      }
      const std::string dir = std::move(stack.back());
      stack.pop_back();
      // Entries are examined relative to the folder's descriptor: no path
      // walk from the root for every file. The listing is read with
      // getdents64 directly (opendir would add an fstat and an fcntl per
      // folder).
      int dfd = ::openat(root_fd_, dir.empty() ? "." : dir.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dfd < 0) {
        // Unreadable (permissions, a path past PATH_MAX): left out, and said.
        stats.Unreadable(dir.empty() ? "." : dir, std::strerror(errno));
        continue;
      }
      struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
      } closer{dfd};
      entries.clear();
      bool has_gitignore = false;
      alignas(8) char listing[32 * 1024];
      while (true) {
        const long n = ::syscall(SYS_getdents64, dfd, listing, sizeof listing);
        if (n < 0) stats.Unreadable(dir.empty() ? "." : dir, std::strerror(errno));
        if (n <= 0) break;
        for (long off = 0; off < n;) {
          const auto* e = reinterpret_cast<const Dirent64*>(listing + off);
          off += e->d_reclen;
          std::string_view name = e->d_name;
          if (name == "." || name == "..") continue;
          has_gitignore = has_gitignore || name == ".gitignore";
          entries.push_back({std::string(name), e->d_type});
        }
      }
      // A folder's .gitignore is read only when the listing has one.
      // Never through a symbolic link, never a FIFO (git does not follow
      // a linked .gitignore either).
      if (options.honour_gitignore && has_gitignore) {
        auto gi = ReadFileAt(dfd, ".gitignore", (dir.empty() ? "" : dir + "/") + ".gitignore",
                             kMaxIgnoreFile);
        if (gi.ok()) {
          if (!stats.gitignore_bounded) rules.Add(dir, *gi);
          if (rules.full()) {
            stats.gitignore_bounded = true;
            rules = IgnoreRules();  // its memory back; no rule applies from here on
          }
        } else if (stats.gitignore_unread.size() < 100) {
          stats.gitignore_unread.emplace_back((dir.empty() ? "" : dir + "/") + ".gitignore",
                                              gi.problem().detail);
        }
      }
      std::sort(entries.begin(), entries.end(),
                [](const Entry& a, const Entry& b) { return a.name < b.name; });
      // One lstat per entry, the walk's main cost: several at a time in large
      // folders (the kernel's path lookups do not contend per entry). Without
      // sizes, the listing's type is enough (a file system that gives none,
      // DT_UNKNOWN, is still asked).
      ParallelFor(
          0, entries.size(), IoThreads(),
          [&](std::size_t i) {
            Entry& e = entries[i];
            const unsigned char t = e.type;
            if (!options.need_sizes && (t == DT_REG || t == DT_DIR || t == DT_LNK)) {
              e.mode = t == DT_REG ? S_IFREG : t == DT_DIR ? S_IFDIR : S_IFLNK;
              e.statted = 2;  // type only
              return;
            }
            struct stat st;
            if (::fstatat(dfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
              e.error = errno;
              return;
            }
            e.mode = st.st_mode;
            e.size = static_cast<std::uint64_t>(st.st_size);
            e.statted = 1;
          },
          256);
      std::vector<std::string> subdirs;
      std::string rel;
      for (const Entry& e : entries) {
        const std::string& name = e.name;
        rel.assign(dir);
        if (!rel.empty()) rel += '/';
        rel += name;
        if (!e.statted) {
          stats.Unreadable(rel, std::strerror(e.error));
          continue;
        }
        if (options.stopping && options.stopping()) {
          return problems::Cancelled("stopped while reading the tree");
        }
        const bool is_dir = S_ISDIR(e.mode);
        if (is_dir && (name == ".git" || name == ".prodsprint")) continue;  // ours, not the repo's
        if (options.honour_gitignore && rules.size() > 0 && !stats.gitignore_bounded) {
          const bool ignored = rules.Ignored(rel, is_dir);
          if (rules.work() > kMaxIgnoreWork) {
            stats.gitignore_bounded = true;
          } else if (ignored) {
            ++stats.ignored;
            continue;
          }
        }
        if (is_dir) {
          subdirs.push_back(rel);
          continue;
        }
        FileEntry f;
        if (S_ISLNK(e.mode)) {
          f.symlink = true;
          char buf[4096];
          ssize_t n = ::readlinkat(dfd, name.c_str(), buf, sizeof buf);
          if (n > 0) f.link_target.assign(buf, static_cast<std::size_t>(n));
        } else if (!S_ISREG(e.mode)) {
          continue;  // sockets, fifos, devices
        } else {
          f.size = e.size;
          f.size_known = e.statted == 1;
          f.executable = (e.mode & S_IXUSR) != 0;
        }
        if (++stats.files > options.max_files) {
          stats.truncated = true;
          return stats;
        }
        f.path = rel;
        fn(f);
      }
      // Push in reverse so folders are visited in byte order.
      for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(std::move(*it));
    }
    return stats;
  }

  Result<std::string> Read(const std::string& path, std::uint64_t max_bytes) override {
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos) {
      return problems::InvalidInput("path outside the tree: " + path);
    }
    // O_NOFOLLOW: a symlink is never read through. O_NONBLOCK: a fifo put
    // where the walk saw a file cannot hang the read. No fstat: the walk
    // already saw a regular file, and reading until a short read costs one
    // system call less a file (open, read, close).
    int fd = ::openat(root_fd_, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return OpenProblem(path);
    // Straight into the result: sized for what the caller allows (the walk's
    // size, usually), grown while the file goes on.
    std::string out;
    std::size_t have = 0;
    std::size_t cap = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, 256 * 1024));
    out.resize(cap);
    while (have < max_bytes) {
      if (have == out.size()) {
        out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, out.size() * 2)));
      }
      ssize_t n = ::read(fd, out.data() + have, out.size() - have);
      if (n < 0 && have == 0) {
        ::close(fd);
        return problems::InvalidInput(path + " is not a regular file");
      }
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
      if (have < out.size()) {
        // A short read is the end of a regular file.
        break;
      }
    }
    out.resize(have);
    ::close(fd);
    return out;
  }
  Result<std::size_t> ReadInto(const std::string& path, std::uint64_t max_bytes, std::string& buf,
                               std::size_t at) override {
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos) {
      return problems::InvalidInput("path outside the tree: " + path);
    }
    int fd = ::openat(root_fd_, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return OpenProblem(path);
    // buf keeps its size between calls: never shrunk, so never re-zeroed.
    if (buf.size() < at + 64 * 1024) buf.resize(at + 64 * 1024);
    std::size_t have = 0;
    while (have < max_bytes) {
      if (at + have == buf.size()) {
        buf.resize(static_cast<std::size_t>(
            std::min<std::uint64_t>(at + max_bytes, std::max(buf.size() * 2, at + 64 * 1024))));
      }
      const std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(max_bytes - have, buf.size() - at - have));
      ssize_t n = ::read(fd, buf.data() + at + have, want);
      if (n < 0 && have == 0) {
        ::close(fd);
        return problems::InvalidInput(path + " is not a regular file");
      }
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < want) break;  // end of file
    }
    ::close(fd);
    return have;
  }
  bool ConcurrentReads() const override { return true; }

  std::string Describe() const override { return "worktree " + root_.string(); }

 private:
  fs::path root_;
  int root_fd_;
};

class GitRevision final : public RepoView {
 public:
  GitRevision(const git::Api& g, git_repository* repo, git_tree* tree, std::string desc,
              std::string commit)
      : g_(g), repo_(repo), tree_(tree), desc_(std::move(desc)), commit_(std::move(commit)) {}
  ~GitRevision() override {
    g_.tree_free(tree_);
    g_.repository_free(repo_);
  }

  Result<WalkStats> Walk(const WalkOptions& options,
                         const std::function<void(const FileEntry&)>& fn) override {
    git_odb* odb = nullptr;  // for object sizes without inflating blobs
    if (g_.repository_odb(&odb, repo_) != 0) odb = nullptr;
    struct OdbGuard {
      const git::Api& g;
      git_odb* o;
      ~OdbGuard() {
        if (o) g.odb_free(o);
      }
    } odb_guard{g_, odb};
    WalkStats stats;
    struct Frame {
      git_tree* tree;  // owned unless it is tree_
      std::string dir;
    };
    std::vector<Frame> stack{{tree_, ""}};
    Status failure;
    while (!stack.empty()) {
      if (options.stopping && options.stopping()) {
        failure = problems::Cancelled("stopped while reading the tree");
        break;
      }
      Frame fr = stack.back();
      stack.pop_back();
      std::vector<Frame> subdirs;
      const std::size_t count = g_.tree_entrycount(fr.tree);
      for (std::size_t i = 0; i < count && failure.ok(); ++i) {
        const git_tree_entry* e = g_.tree_entry_byindex(fr.tree, i);
        const std::string name = g_.tree_entry_name(e);
        const std::string rel = fr.dir.empty() ? name : fr.dir + "/" + name;
        const git_filemode_t mode = g_.tree_entry_filemode(e);
        if (mode == GIT_FILEMODE_TREE) {
          git_tree* sub = nullptr;
          if (g_.tree_lookup(&sub, repo_, g_.tree_entry_id(e)) == 0) {
            subdirs.push_back({sub, rel});
          } else {
            stats.Unreadable(rel, g_.Error("corrupt or missing tree object " + Oid(e)));
          }
          continue;
        }
        if (mode == GIT_FILEMODE_COMMIT) continue;  // submodule
        FileEntry f;
        f.path = rel;
        std::size_t header_size = 0;
        git_object_t header_type = GIT_OBJECT_INVALID;
        if (mode != GIT_FILEMODE_LINK && odb &&
            g_.odb_read_header(&header_size, &header_type, odb, g_.tree_entry_id(e)) == 0) {
          // The size from the object's header: a blob is not inflated to be listed.
          f.size = header_size;
          f.executable = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
        } else {
          git_blob* blob = nullptr;
          if (g_.blob_lookup(&blob, repo_, g_.tree_entry_id(e)) != 0) {
            stats.Unreadable(rel, g_.Error("corrupt or missing blob " + Oid(e)));
            continue;
          }
          if (mode == GIT_FILEMODE_LINK) {
            f.symlink = true;
            f.link_target.assign(static_cast<const char*>(g_.blob_rawcontent(blob)),
                                 static_cast<std::size_t>(g_.blob_rawsize(blob)));
          } else {
            f.size = static_cast<std::uint64_t>(g_.blob_rawsize(blob));
            f.executable = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
          }
          g_.blob_free(blob);
        }
        if (++stats.files > options.max_files) {
          stats.truncated = true;
          break;
        }
        fn(f);
      }
      if (fr.tree != tree_) g_.tree_free(fr.tree);
      for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(std::move(*it));
      if (stats.truncated) break;
    }
    for (auto& fr : stack) {
      if (fr.tree != tree_) g_.tree_free(fr.tree);
    }
    if (!failure.ok()) return failure.problem();
    return stats;
  }

  Result<std::string> Read(const std::string& path, std::uint64_t max_bytes) override {
    git_tree_entry* e = nullptr;
    if (g_.tree_entry_bypath(&e, tree_, path.c_str()) != 0) return problems::NotFound("file", path);
    const bool regular = g_.tree_entry_filemode(e) == GIT_FILEMODE_BLOB ||
                         g_.tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE;
    git_blob* blob = nullptr;
    int rc = regular ? g_.blob_lookup(&blob, repo_, g_.tree_entry_id(e)) : -1;
    g_.tree_entry_free(e);
    if (rc != 0) {
      if (!regular) return problems::InvalidInput(path + " is not a regular file");
      return Problem::Make("unreadable", "Unreadable file", 422,
                           g_.Error("cannot read " + path + " (a corrupt or missing blob)"));
    }
    const auto size = static_cast<std::uint64_t>(g_.blob_rawsize(blob));
    std::string out(static_cast<const char*>(g_.blob_rawcontent(blob)),
                    static_cast<std::size_t>(std::min(size, max_bytes)));
    g_.blob_free(blob);
    return out;
  }

  std::string Describe() const override { return desc_; }
  std::string Commit() const override { return commit_; }

 private:
  std::string Oid(const git_tree_entry* e) const {
    char hex[GIT_OID_HEXSZ + 1] = {};
    g_.oid_tostr(hex, sizeof hex, g_.tree_entry_id(e));
    return hex;
  }
  const git::Api& g_;
  git_repository* repo_;
  git_tree* tree_;
  std::string desc_;
  std::string commit_;
};

class MemoryView final : public RepoView {
 public:
  explicit MemoryView(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  Result<WalkStats> Walk(const WalkOptions& options,
                         const std::function<void(const FileEntry&)>& fn) override {
    WalkStats stats;
    for (const auto& [path, content] : files_) {
      if (++stats.files > options.max_files) {
        stats.truncated = true;
        break;
      }
      fn({.path = path, .size = content.size()});
    }
    return stats;
  }
  Result<std::string> Read(const std::string& path, std::uint64_t max_bytes) override {
    auto it = files_.find(path);
    if (it == files_.end()) return problems::NotFound("file", path);
    return it->second.substr(
        0, static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, it->second.size())));
  }
  std::string Describe() const override { return "memory"; }

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace

Result<std::unique_ptr<RepoView>> OpenView(const std::string& path, const std::string& rev) {
  return rev.empty() ? OpenWorkTree(path) : OpenGitRevision(path, rev);
}

std::unique_ptr<RepoView> OpenMemory(std::map<std::string, std::string> files) {
  return std::make_unique<MemoryView>(std::move(files));
}

Result<std::unique_ptr<RepoView>> OpenWorkTree(const std::string& root) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(root, ec), ec);
  if (ec || !fs::is_directory(p, ec)) {
    return problems::InvalidInput("'" + root + "' is not a folder");
  }
  const int fd = ::open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return problems::InvalidInput("'" + root + "' cannot be opened: " + std::strerror(errno));
  return std::unique_ptr<RepoView>(new WorkTree(p, fd));
}

Result<std::unique_ptr<RepoView>> OpenGitRevision(const std::string& path, const std::string& rev) {
  PS_ASSIGN(const git::Api* api, git::Load());
  const git::Api& g = *api;
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  git_repository* repo = nullptr;
  if (g.repository_open_ext(&repo, p.c_str(), 0, nullptr) != 0) {
    return problems::InvalidInput("'" + path +
                                  "' is not inside a git repository (--ref needs one)");
  }
  git_object* obj = nullptr;
  if (g.revparse_single(&obj, repo, rev.c_str()) != 0) {
    auto prob = problems::InvalidInput(g.Error("unknown revision '" + rev + "'"));
    g.repository_free(repo);
    return prob;
  }
  git_commit* commit = nullptr;
  if (g.object_peel(reinterpret_cast<git_object**>(&commit), obj, GIT_OBJECT_COMMIT) != 0) {
    g.object_free(obj);
    g.repository_free(repo);
    return problems::InvalidInput("'" + rev + "' does not name a commit");
  }
  g.object_free(obj);
  char hex[GIT_OID_HEXSZ + 1] = {};
  g.oid_tostr(hex, sizeof hex, g.commit_id(commit));
  git_tree* root = nullptr;
  int rc = g.commit_tree(&root, commit);
  g.commit_free(commit);
  if (rc != 0) {
    g.repository_free(repo);
    return problems::InvalidInput(g.Error("the repository is corrupt: the tree of commit " +
                                          std::string(hex) + " ('" + rev + "') cannot be read"));
  }
  // Root the view at `path`'s folder within the repository.
  std::string prefix;
  if (const char* wd = g.repository_workdir(repo)) {
    fs::path rel = p.lexically_relative(fs::weakly_canonical(wd, ec));
    if (!rel.empty() && rel != "." && *rel.begin() != "..") prefix = rel.generic_string();
  }
  git_tree* tree = root;
  if (!prefix.empty()) {
    git_tree_entry* e = nullptr;
    tree = nullptr;
    if (g.tree_entry_bypath(&e, root, prefix.c_str()) == 0) {
      if (g.tree_entry_type(e) == GIT_OBJECT_TREE) g.tree_lookup(&tree, repo, g.tree_entry_id(e));
      g.tree_entry_free(e);
    }
    g.tree_free(root);
    if (!tree) {
      g.repository_free(repo);
      return problems::NotFound("folder in revision " + rev, prefix);
    }
  }
  std::string desc = "git " + p.string() + "@" + rev + " (" + std::string(hex).substr(0, 12) + ")";
  return std::unique_ptr<RepoView>(new GitRevision(g, repo, tree, desc, hex));
}

}  // namespace ps::stages::audit
