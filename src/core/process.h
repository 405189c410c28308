// Process spawning: a child in its own session (so a whole process tree can
// be signalled at once), its output appended to a log file, environment and
// working folder set, optionally as another user (PostgreSQL refuses root).
// Everything the child needs is prepared before fork(): between fork and
// exec only async-signal-safe calls run, so spawning is safe from threads.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/problem.h"

namespace ps {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH if it has no '/'
  std::string cwd;                         // empty: the caller's
  std::map<std::string, std::string> env;  // set over the inherited environment
  bool inherit_env = true;
  std::string log_path;  // stdout and stderr appended here; empty: /dev/null
  std::string run_as;    // user name to switch to (only when running as root)
  // Secrets stay out of every file but this one (a JSON object of name ->
  // value, mode 0600): an env value may hold references "${secret:NAME}",
  // replaced by NAME's value when the child starts, in its environment only.
  std::string secrets_file;
};

// "${secret:NAME}": how a stored environment refers to a secret.
std::string SecretRef(const std::string& name);

// `env` with every "${secret:NAME}" replaced from `secrets_file` (a JSON
// object of strings). A Problem naming the reference when NAME is missing
// or the file cannot be read; `env` unchanged when it holds no reference.
Result<std::map<std::string, std::string>> ResolveSecretRefs(
    const std::map<std::string, std::string>& env, const std::string& secrets_file);

struct ExitStatus {
  int code = -1;   // exit code, or -1 when killed by a signal
  int signal = 0;  // the signal that ended it, or 0
  bool ok() const { return code == 0; }
  std::string Describe() const;  // "exit 0", "exit 3", "killed by SIGKILL"
};

// Starts the child; it leads a new session and process group (pgid == pid).
// A Problem if the program cannot be executed (not found, not executable).
Result<pid_t> Spawn(const SpawnOptions& options);

// Signals the child's whole process group; false if it no longer exists.
bool SignalGroup(pid_t pid, int sig);

// Non-blocking reap: the status if the child has exited.
std::optional<ExitStatus> TryReap(pid_t pid);

// Stops a child: SIGTERM to its group, SIGKILL after `grace_ms`; reaps it.
ExitStatus StopGroup(pid_t pid, Millis grace_ms);

// Runs to completion. The group is killed when `timeout_ms` passes or
// `stopping()` turns true; the Problem then says which.
Result<ExitStatus> RunToCompletion(const SpawnOptions& options, Millis timeout_ms,
                                   const std::function<bool()>& stopping = {});

// The last `max_bytes` of a log file, for error messages.
std::string LogTail(const std::string& path, std::size_t max_bytes = 2048);

}  // namespace ps
