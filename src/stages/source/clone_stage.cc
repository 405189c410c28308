#include "stages/source/clone_stage.h"

#include <filesystem>

#include "core/fs.h"
#include "core/process.h"
#include "stages/repository.h"

namespace ps::stages {

namespace fs = std::filesystem;

std::string RedactUrl(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto host_end = url.find('/', scheme + 3);
  const auto at = url.rfind('@', host_end);
  if (at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

namespace {

struct Git {
  engine::StageContext& ctx;
  std::string log;

  // Runs git with a clean environment: no global or system config (which
  // could name hooks, credential helpers or aliases), no terminal prompts.
  Result<ExitStatus> Run(std::vector<std::string> args, const std::string& cwd = {}) {
    SpawnOptions o;
    o.argv = {"git",
              "-c",
              "core.hooksPath=/dev/null",
              "-c",
              "protocol.ext.allow=never",
              "-c",
              "submodule.recurse=false",
              "-c",
              "advice.detachedHead=false"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.cwd = cwd;
    o.env = {{"GIT_TERMINAL_PROMPT", "0"},
             {"GIT_CONFIG_NOSYSTEM", "1"},
             {"GIT_CONFIG_GLOBAL", "/dev/null"},
             {"GIT_ASKPASS", "/bin/false"},
             {"SSH_ASKPASS", "/bin/false"},
             {"GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"},
             {"LC_ALL", "C"}};
    o.log_path = log;
    return RunToCompletion(o, 30 * 60'000, [this] { return ctx.Stopping(); });
  }
};

Problem GitFailed(const std::string& what, const ExitStatus& st, const std::string& log) {
  return Problem::Make("clone-failed", "Clone failed", 422,
                       what + " (" + st.Describe() + "): " + LogTail(log, 1024));
}

}  // namespace

Result<engine::StageOutput> CloneStage::Run(engine::StageContext& ctx) {
  const std::string url = ctx.project().repo_url;
  if (!IsGitUrl(url)) {
    return problems::InvalidInput("project '" + ctx.project().name + "' is not a git URL");
  }
  PS_ASSIGN(const std::string dir, RepositoryFolder(ctx));
  const std::string ref = ctx.run_input().value("ref", "");
  if (!ref.empty() && (ref.front() == '-' || ref.find("..") != std::string::npos)) {
    return problems::InvalidInput("'" + ref + "' is not a revision");
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  Git git{
      ctx,
      (fs::path(dir).parent_path() / (fs::path(dir).filename().string() + ".git.log")).string()};
  fs::remove(git.log, ec);
  const bool fresh = !fs::exists(fs::path(dir) / ".git", ec);
  ctx.Progress(0.0, (fresh ? "cloning " : "fetching ") + RedactUrl(url));
  if (fresh) {
    fs::remove_all(dir, ec);  // a clone that died half-way
    PS_ASSIGN(ExitStatus st, git.Run({"clone", "--quiet", "--no-checkout", "--", url, dir}));
    if (!st.ok()) return GitFailed("git clone " + RedactUrl(url), st, git.log);
  } else {
    PS_ASSIGN(ExitStatus st, git.Run({"fetch", "--quiet", "--force", "--tags", "--prune", "origin",
                                      "+refs/heads/*:refs/remotes/origin/*"},
                                     dir));
    if (!st.ok()) return GitFailed("git fetch " + RedactUrl(url), st, git.log);
  }
  // The revision: the ref as given (a tag, a commit), else the remote's
  // branch of that name, else the remote's default branch.
  std::vector<std::string> candidates;
  if (ref.empty()) {
    candidates = {"origin/HEAD", "HEAD"};
  } else {
    candidates = {ref, "origin/" + ref};
  }
  bool checked_out = false;
  for (const auto& rev : candidates) {
    PS_ASSIGN(ExitStatus st,
              git.Run({"checkout", "--quiet", "--force", "--detach", rev, "--"}, dir));
    if (st.ok()) {
      checked_out = true;
      break;
    }
  }
  if (!checked_out) {
    return Problem::Make(
        "clone-failed", "Clone failed", 422,
        "no revision '" + (ref.empty() ? std::string("HEAD") : ref) + "' in " + RedactUrl(url));
  }
  PS_ASSIGN(ExitStatus cleaned, git.Run({"clean", "-ffdxq"}, dir));
  if (!cleaned.ok()) return GitFailed("git clean", cleaned, git.log);
  SpawnOptions head;
  head.argv = {"git", "rev-parse", "HEAD"};
  head.cwd = dir;
  const std::string out = (fs::path(dir).parent_path() / "rev-parse.out").string();
  head.log_path = out;
  fs::remove(out, ec);
  (void)RunToCompletion(head, 10'000);
  auto commit = ReadFile(out, 4096);
  fs::remove(out, ec);
  std::string sha = commit.ok() ? *commit : std::string();
  while (!sha.empty() && (sha.back() == '\n' || sha.back() == '\r')) sha.pop_back();
  ctx.Progress(1.0, "checked out " + sha.substr(0, 12));
  engine::StageOutput o;
  o.facts = {{"url", RedactUrl(url)}, {"ref", ref}, {"commit", sha}, {"fresh", fresh}};
  return o;
}

}  // namespace ps::stages
