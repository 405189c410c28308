#include "stages/source/source_stage.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/fs.h"
#include "stages/audit/repo_view.h"
#include "stages/git/libgit2.h"
#include "stages/repository.h"

namespace ps::stages {

namespace {

// Owns a libgit2 object; frees it with the loaded library's function.
template <class T>
struct GitPtr {
  explicit GitPtr(void (*free_fn)(T*)) : free(free_fn) {}
  ~GitPtr() {
    if (p) free(p);
  }
  GitPtr(const GitPtr&) = delete;
  GitPtr& operator=(const GitPtr&) = delete;
  T* p = nullptr;
  void (*free)(T*);
};

bool Inside(const fs::path& root, const fs::path& p) {
  auto r = root.lexically_normal();
  auto q = p.lexically_normal();
  auto [a, b] = std::mismatch(r.begin(), r.end(), q.begin(), q.end());
  return a == r.end();
}

}  // namespace

Json DescribeGit(const std::string& path) {
  auto loaded = git::Load();
  if (!loaded.ok()) return Json{{"vcs", "unknown"}, {"error", loaded.problem().detail}};
  const git::Api& g2 = **loaded;
  GitPtr<git_repository> repo(g2.repository_free);
  if (g2.repository_open_ext(&repo.p, path.c_str(), 0, nullptr) != 0) {
    return Json{{"vcs", "none"}};
  }
  Json g{{"vcs", "git"}};
  const char* workdir = g2.repository_workdir(repo.p);
  if (workdir) g["root"] = fs::path(workdir).lexically_normal().string();
  GitPtr<git_reference> head(g2.reference_free);
  if (g2.repository_head(&head.p, repo.p) == 0) {
    const git_oid* oid = g2.reference_target(head.p);
    if (oid) {
      char buf[GIT_OID_HEXSZ + 1] = {};
      g2.oid_tostr(buf, sizeof buf, oid);
      g["commit"] = buf;
    }
    if (g2.reference_is_branch(head.p)) g["branch"] = g2.reference_shorthand(head.p);
  } else {
    g["commit"] = nullptr;  // an empty repository or unborn branch
  }
  // The project may be a folder of a larger repository: report where, and
  // whether that folder (not the whole repository) has uncommitted changes.
  std::string sub;
  if (workdir) {
    std::error_code ec;
    fs::path rel =
        fs::weakly_canonical(path, ec).lexically_relative(fs::weakly_canonical(workdir, ec));
    if (!rel.empty() && rel != "." && *rel.begin() != "..") sub = rel.generic_string();
  }
  if (!sub.empty()) g["path_in_repo"] = sub;
  GitPtr<git_status_list> status(g2.status_list_free);
  git_status_options opts{};
  opts.version = GIT_STATUS_OPTIONS_VERSION;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  std::string spec = sub + "/";
  char* specs[] = {spec.data()};
  if (!sub.empty()) {
    opts.pathspec.strings = specs;
    opts.pathspec.count = 1;
  }
  if (g2.status_list_new(&status.p, repo.p, &opts) == 0) {
    g["dirty"] = g2.status_list_entrycount(status.p) > 0;
  }
  return g;
}

Result<Json> DescribeTree(const std::string& root_text, const TreeLimits& limits,
                          const std::function<bool()>& stopping) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(root_text, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return problems::InvalidInput("'" + root_text + "' is not a folder");
  }
  std::vector<std::pair<std::string, std::string>> entries;  // path -> digest
  Json outside = Json::array();
  std::uint64_t files = 0, bytes = 0, links = 0, skipped_large = 0;
  bool truncated = false;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return problems::InvalidInput("cannot read '" + root.string() + "': " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (stopping && stopping()) return problems::Cancelled("stopped while reading the tree");
    const fs::directory_entry& e = *it;
    const std::string name = e.path().filename().string();
    if (e.is_directory(ec) && !e.is_symlink(ec) &&
        (name == ".git" || name == ".prodsprint" || name == "node_modules")) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string rel = e.path().lexically_relative(root).generic_string();
    if (e.is_symlink(ec)) {
      ++links;
      fs::path target = fs::read_symlink(e.path(), ec);
      fs::path resolved = target.is_absolute() ? target : e.path().parent_path() / target;
      if (!Inside(root, fs::weakly_canonical(resolved, ec))) {
        outside.push_back({{"path", rel}, {"target", target.string()}});
      }
      entries.emplace_back(rel, "link:" + target.string());
      continue;  // never followed
    }
    if (!e.is_regular_file(ec)) continue;
    if (++files > limits.max_files) {
      truncated = true;
      break;
    }
    const auto size = e.file_size(ec);
    bytes += size;
    if (size > limits.max_file_bytes) {
      ++skipped_large;
      entries.emplace_back(rel, "size:" + std::to_string(size));
      continue;
    }
    auto digest = Sha256File(e.path());
    entries.emplace_back(rel, digest.ok() ? *digest : "unreadable");
  }
  std::sort(entries.begin(), entries.end());
  std::string manifest;
  for (const auto& [p, d] : entries) manifest += p + '\0' + d + '\n';
  return Json{{"root", root.string()},
              {"files", files},
              {"bytes", bytes},
              {"symlinks", links},
              {"symlinks_outside", outside},
              {"large_files_not_hashed", skipped_large},
              {"truncated", truncated},
              {"fingerprint", "sha256:" + Sha256Hex(manifest)}};
}

Result<Json> DescribeRevision(const std::string& path, const std::string& rev,
                              const TreeLimits& limits, const std::function<bool()>& stopping) {
  PS_ASSIGN(std::unique_ptr<audit::RepoView> view, audit::OpenGitRevision(path, rev));
  const std::string commit = view->Commit();
  Json outside = Json::array();
  std::uint64_t files = 0, bytes = 0, links = 0;
  bool truncated = false;
  audit::WalkOptions wo;
  wo.max_files = limits.max_files;
  wo.stopping = stopping;
  PS_ASSIGN(audit::WalkStats stats, view->Walk(wo, [&](const audit::FileEntry& e) {
    if (e.symlink) {
      ++links;
      // A link in a revision is resolved against the tree's own
      // layout: one that climbs out of it (or is absolute) leaves it.
      const fs::path target(e.link_target);
      const fs::path resolved =
          (fs::path("/tree") / fs::path(e.path).parent_path() / target).lexically_normal();
      if (target.is_absolute() || !Inside("/tree", resolved))
        outside.push_back({{"path", e.path}, {"target", e.link_target}});
      return;
    }
    ++files;
    bytes += e.size;
  }));
  truncated = stats.truncated;
  if (stopping && stopping()) return problems::Cancelled("stopped while reading the revision");
  // A commit names its whole tree: the revision's content fingerprint.
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return Json{{"root", root.string()},
              {"ref", rev},
              {"files", files},
              {"bytes", bytes},
              {"symlinks", links},
              {"symlinks_outside", outside},
              {"large_files_not_hashed", 0},
              {"truncated", truncated},
              {"fingerprint", "git:" + commit}};
}

Json DescribeGitRevision(const std::string& path, const std::string& rev,
                         const std::string& commit) {
  Json g = DescribeGit(path);
  // The revision, not the working tree: its commit, the name it was asked
  // by, and no uncommitted changes (they are not part of it).
  g["commit"] = commit;
  g["ref"] = rev;
  g.erase("branch");
  g["dirty"] = false;
  return g;
}

Result<engine::StageOutput> SourceStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  // With input.ref, every stage of the pipeline reads that revision (from
  // git's object database), not the working tree: so does this one.
  const std::string ref = input.value("ref", "");
  ctx.log().Info("reading repository", {{"path", path}, {"ref", ref}});
  ctx.Progress(0.0, "reading " + path + (ref.empty() ? "" : "@" + ref));
  Json tree, git;
  if (ref.empty()) {
    PS_ASSIGN(tree, DescribeTree(path, {}, [&] { return ctx.Stopping(); }));
    git = DescribeGit(path);
  } else {
    PS_ASSIGN(tree, DescribeRevision(path, ref, {}, [&] { return ctx.Stopping(); }));
    git = DescribeGitRevision(path, ref, tree["fingerprint"].get<std::string>().substr(4));
  }
  ctx.Progress(1.0, "read " + std::to_string(tree["files"].get<std::uint64_t>()) + " files");
  ctx.log().Info("repository read", {{"files", Dump(tree["files"])},
                                     {"bytes", Dump(tree["bytes"])},
                                     {"commit", Dump(git.value("commit", Json()))}});
  for (const auto& o : tree["symlinks_outside"]) {
    ctx.log().Warn(
        "symbolic link points outside the repository; not followed",
        {{"path", o["path"].get<std::string>()}, {"target", o["target"].get<std::string>()}});
  }
  engine::StageOutput out;
  out.facts = {{"tree", tree}, {"git", git}};
  out.metrics = {{"files", tree["files"]}, {"bytes", tree["bytes"]}};
  return out;
}

}  // namespace ps::stages
