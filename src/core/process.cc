#include "core/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/fs.h"
#include "core/json.h"

extern char** environ;

namespace ps {
namespace {

struct User {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
  std::string home;
};

Result<User> LookupUser(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return problems::NotFound("user", name);
  }
  User u{pw.pw_uid, pw.pw_gid, {}, pw.pw_dir ? pw.pw_dir : "/"};
  int n = 64;
  u.groups.resize(n);
  if (getgrouplist(name.c_str(), pw.pw_gid, u.groups.data(), &n) < 0) {
    u.groups.resize(n);
    getgrouplist(name.c_str(), pw.pw_gid, u.groups.data(), &n);
  }
  u.groups.resize(n);
  return u;
}

// Writes errno to the pipe and exits: the parent reports it.
[[noreturn]] void ChildFail(int fd, int stage) {
  const int err[2] = {stage, errno};
  ssize_t w = write(fd, err, sizeof err);
  (void)w;
  _exit(127);
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by SIG") + (name ? name : std::to_string(signal).c_str());
  }
  return "exit " + std::to_string(code);
}

std::string SecretRef(const std::string& name) { return "${secret:" + name + "}"; }

Result<std::map<std::string, std::string>> ResolveSecretRefs(
    const std::map<std::string, std::string>& env, const std::string& secrets_file) {
  static constexpr std::string_view kOpen = "${secret:";
  Json secrets;  // read on the first reference
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : env) {
    std::string value;
    std::size_t at = 0;
    while (true) {
      const std::size_t ref = v.find(kOpen, at);
      if (ref == std::string::npos) break;
      const std::size_t end = v.find('}', ref + kOpen.size());
      if (end == std::string::npos) break;
      const std::string name = v.substr(ref + kOpen.size(), end - ref - kOpen.size());
      if (secrets.is_null()) {
        if (secrets_file.empty()) {
          return problems::InvalidInput("$" + k + " refers to secret '" + name +
                                        "' but no secrets file was given");
        }
        PS_ASSIGN(std::string text, ReadFile(secrets_file, 16 << 20));
        secrets = Json::parse(text, nullptr, false);
        if (!secrets.is_object()) {
          return problems::InvalidInput(secrets_file + " is not a JSON object of secrets");
        }
      }
      auto it = secrets.find(name);
      if (it == secrets.end() || !it->is_string()) {
        return problems::NotFound("secret", name + " (for $" + k + ", in " + secrets_file + ")");
      }
      value.append(v, at, ref - at);
      value += it->get<std::string>();
      at = end + 1;
    }
    value.append(v, at, std::string::npos);
    out.emplace(k, std::move(value));
  }
  return out;
}

Result<pid_t> Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return problems::InvalidInput("nothing to run: the command is empty");
  PS_ASSIGN(const auto own_env, ResolveSecretRefs(o.env, o.secrets_file));
  std::optional<User> user;
  if (!o.run_as.empty() && geteuid() == 0) {
    PS_ASSIGN(auto u, LookupUser(o.run_as));
    user = std::move(u);
  }
  // Environment: inherited, then overridden.
  std::map<std::string, std::string> env;
  if (o.inherit_env) {
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string_view::npos) env[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
    }
  }
  for (const auto& [k, v] : own_env) env[k] = v;
  if (user) {
    env["HOME"] = user->home;
    env["USER"] = o.run_as;
  }
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = o.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  // The program, resolved against PATH now (execvpe reads the parent's PATH
  // otherwise, and is not async-signal-safe).
  std::string program = args[0];
  if (program.find('/') == std::string::npos) {
    const std::string path = env.count("PATH") ? env["PATH"] : "/usr/local/bin:/usr/bin:/bin";
    std::string found;
    std::size_t start = 0;
    while (start <= path.size()) {
      auto end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(start, end - start);
      if (dir.empty()) dir = ".";
      std::string candidate = dir + "/" + program;
      if (access(candidate.c_str(), X_OK) == 0) {
        found = candidate;
        break;
      }
      start = end + 1;
    }
    if (found.empty()) {
      return Problem::Make("command-not-found", "Command not found", 422,
                           "'" + program + "' is not on the PATH");
    }
    program = found;
  }

  int out = -1;
  if (!o.log_path.empty()) {
    out = open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out < 0) {
      return Problem::Make("spawn-failed", "Cannot open the log", 500,
                           o.log_path + ": " + std::strerror(errno));
    }
    if (user && fchown(out, user->uid, user->gid) != 0) {
      // Not fatal: the child writes through the inherited descriptor.
    }
  } else {
    out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    close(out);
    close(in);
    return problems::Internal(std::string("pipe: ") + std::strerror(errno));
  }

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(out);
    close(in);
    close(report[0]);
    close(report[1]);
    return Problem::Make("spawn-failed", "Cannot start a process", 503,
                         std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);
    if (setsid() < 0) ChildFail(report[1], 1);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) ChildFail(report[1], 2);
    if (!o.cwd.empty() && chdir(o.cwd.c_str()) != 0) ChildFail(report[1], 3);
    if (user) {
      if (setgroups(user->groups.size(), user->groups.data()) != 0 || setgid(user->gid) != 0 ||
          setuid(user->uid) != 0) {
        ChildFail(report[1], 4);
      }
    }
    execve(program.c_str(), argv.data(), envp.data());
    ChildFail(report[1], 5);
  }
  close(report[1]);
  close(out);
  close(in);
  int err[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    int status;
    waitpid(pid, &status, 0);
    static const char* const kWhat[] = {
        "", "setsid", "redirect output", "enter the folder", "switch user", "execute"};
    std::string detail = std::string("cannot ") + kWhat[err[0] < 6 ? err[0] : 0] + " for '" +
                         args[0] + "': " + std::strerror(err[1]);
    if (err[0] == 3) detail += " (" + o.cwd + ")";
    return Problem::Make("spawn-failed", "Cannot start a process", 422, detail);
  }
  return pid;
}

bool SignalGroup(pid_t pid, int sig) {
  if (pid <= 0) return false;
  if (kill(-pid, sig) == 0) return true;
  return kill(pid, sig) == 0;
}

namespace {
ExitStatus FromWait(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}
}  // namespace

std::optional<ExitStatus> TryReap(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) return FromWait(status);
  if (r < 0 && errno == ECHILD) return ExitStatus{};  // not ours, or already reaped
  return std::nullopt;
}

ExitStatus StopGroup(pid_t pid, Millis grace_ms) {
  SignalGroup(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto s = TryReap(pid)) {
      SignalGroup(pid, SIGKILL);  // stragglers of the group
      return *s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  SignalGroup(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return FromWait(status);
}

Result<ExitStatus> RunToCompletion(const SpawnOptions& options, Millis timeout_ms,
                                   const std::function<bool()>& stopping) {
  PS_ASSIGN(const pid_t pid, Spawn(options));
  const auto start = std::chrono::steady_clock::now();
  Millis sleep = 1;
  while (true) {
    if (auto s = TryReap(pid)) {
      SignalGroup(pid, SIGKILL);  // background children it left behind
      return *s;
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    if (elapsed >= timeout_ms) {
      StopGroup(pid, 2000);
      return problems::Timeout("'" + options.argv.back() + "' did not finish within " +
                               std::to_string(timeout_ms / 1000) + " s");
    }
    if (stopping && stopping()) {
      StopGroup(pid, 2000);
      return problems::Cancelled("stopped while running '" + options.argv.back() + "'");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep));
    sleep = std::min<Millis>(sleep * 2, 50);
  }
}

std::string LogTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  const std::size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string s(size - from, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  if (from > 0) {
    auto nl = s.find('\n');
    if (nl != std::string::npos) s.erase(0, nl + 1);
  }
  return s;
}

}  // namespace ps
