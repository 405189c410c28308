#include "targets/local/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/fs.h"
#include "core/net.h"
#include "core/process.h"

namespace ps::targets::local {
namespace {

constexpr Millis kBackoffFirst = 500, kBackoffMax = 30'000, kStableAfter = 10'000;
constexpr Millis kProbeStarting = 100, kProbeRunning = 1000, kProbeTimeout = 500;
// A process without a health check is healthy once it has stayed up this long.
constexpr Millis kMinUp = 1000;

// Field 22 of /proc/PID/stat: when the process started (clock ticks since
// boot). With the pid it names one process, even after pids wrap.
std::uint64_t StartTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  auto paren = s.rfind(')');
  if (paren == std::string::npos) return 0;
  std::size_t pos = paren + 2;
  for (int field = 3; field < 22 && pos < s.size(); ++field) {
    pos = s.find(' ', pos);
    if (pos == std::string::npos) return 0;
    ++pos;
  }
  return std::strtoull(s.c_str() + pos, nullptr, 10);
}

bool Probe(const HealthCheck& h) {
  if (h.kind == "http") {
    const int code = HttpGetStatus("127.0.0.1", h.port, h.path, kProbeTimeout);
    return code >= 200 && code < 400;
  }
  if (h.kind == "tcp") return TcpAccepts("127.0.0.1", h.port, kProbeTimeout);
  return true;
}

}  // namespace

Json ProcessSpec::ToJson() const {
  return {{"name", name},
          {"argv", argv},
          {"cwd", cwd},
          {"env", env},
          {"log", log},
          {"run_as", run_as},
          {"secrets_file", secrets_file},
          {"health", {{"kind", health.kind}, {"port", health.port}, {"path", health.path}}},
          {"stop_grace_ms", stop_grace_ms},
          {"reload_signal", reload_signal},
          {"reload_key", reload_key}};
}

Result<ProcessSpec> ProcessSpec::FromJson(const Json& j) {
  try {
    ProcessSpec s;
    s.name = j.at("name").get<std::string>();
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.cwd = j.value("cwd", "");
    s.env = j.value("env", std::map<std::string, std::string>{});
    s.log = j.value("log", "");
    s.run_as = j.value("run_as", "");
    s.secrets_file = j.value("secrets_file", "");
    if (j.contains("health")) {
      const auto& h = j["health"];
      s.health.kind = h.value("kind", "none");
      s.health.port = h.value("port", 0);
      s.health.path = h.value("path", "/");
    }
    s.stop_grace_ms = j.value("stop_grace_ms", Millis{10'000});
    s.reload_signal = j.value("reload_signal", 0);
    s.reload_key = j.value("reload_key", "");
    if (s.name.empty() || s.argv.empty()) {
      return problems::InvalidInput("a process needs a name and a command");
    }
    return s;
  } catch (const std::exception& e) {
    return problems::InvalidInput(std::string("process spec: ") + e.what());
  }
}

std::string ProcessSpec::Fingerprint() const {
  Json j = ToJson();
  j.erase("health");  // probing differently does not need a restart
  j.erase("stop_grace_ms");
  if (reload_signal != 0) j.erase("reload_key");  // a reload, not a restart
  return Sha256Hex(j.dump());
}

Json ProcessStatus::ToJson() const {
  return {{"name", name},
          {"pid", pid},
          {"state", state},
          {"healthy", healthy},
          {"restarts", restarts},
          {"last_exit", last_exit},
          {"started_at", started_at},
          {"healthy_since", healthy_since},
          {"next_start_at", next_start_at},
          {"start_ticks", start_ticks}};
}

ProcessStatus ProcessStatus::FromJson(const Json& j) {
  ProcessStatus s;
  s.name = j.value("name", "");
  s.pid = j.value("pid", 0);
  s.state = j.value("state", "");
  s.healthy = j.value("healthy", false);
  s.restarts = j.value("restarts", 0);
  s.last_exit = j.value("last_exit", "");
  s.started_at = j.value("started_at", Millis{0});
  s.healthy_since = j.value("healthy_since", Millis{0});
  s.next_start_at = j.value("next_start_at", Millis{0});
  s.start_ticks = j.value("start_ticks", std::uint64_t{0});
  return s;
}

// --- Supervisor ---------------------------------------------------------------

Supervisor::~Supervisor() { StopAll(); }

void Supervisor::Start(Entry& e) {
  SpawnOptions o;
  o.argv = e.spec.argv;
  o.cwd = e.spec.cwd;
  o.env = e.spec.env;
  o.log_path = e.spec.log;
  o.run_as = e.spec.run_as;
  o.secrets_file = e.spec.secrets_file;
  const Millis now = clock_.Now();
  auto pid = Spawn(o);
  e.status.healthy = false;
  e.status.healthy_since = 0;
  if (!pid.ok()) {
    e.status.pid = 0;
    e.status.state = "backoff";
    e.status.last_exit = pid.problem().Message();
    ++e.consecutive_failures;
    e.status.next_start_at =
        now + std::min(kBackoffMax, kBackoffFirst << std::min(e.consecutive_failures - 1, 10));
    return;
  }
  e.status.pid = *pid;
  e.status.start_ticks = StartTicks(*pid);
  e.status.state = "running";
  e.status.started_at = now;
  e.status.next_start_at = 0;
  e.next_probe_at = now;
}

void Supervisor::SetDesired(std::vector<ProcessSpec> specs) {
  std::map<std::string, ProcessSpec> want;
  for (auto& s : specs) want[s.name] = std::move(s);
  // Stop what goes away or changes, all at once (each waits for its grace).
  std::vector<std::thread> stops;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto w = want.find(it->first);
    if (w == want.end() || w->second.Fingerprint() != it->second.fingerprint) {
      if (it->second.status.pid > 0) {
        stops.emplace_back([pid = it->second.status.pid, grace = it->second.spec.stop_grace_ms] {
          StopGroup(pid, grace);
        });
      }
      it = entries_.erase(it);
    } else {
      Entry& e = it->second;
      if (e.spec.reload_signal != 0 && e.spec.reload_key != w->second.reload_key &&
          e.status.pid > 0) {
        kill(e.status.pid, e.spec.reload_signal);  // the process itself, not its group
      }
      e.spec = w->second;  // health settings may change in place
      ++it;
    }
  }
  for (auto& t : stops) t.join();
  for (auto& [name, spec] : want) {
    if (entries_.count(name)) continue;
    Entry e;
    e.fingerprint = spec.Fingerprint();
    e.spec = std::move(spec);
    e.status.name = name;
    auto [it, _] = entries_.emplace(name, std::move(e));
    Start(it->second);
  }
}

bool Supervisor::Tick() {
  bool changed = false;
  const Millis now = clock_.Now();
  for (auto& [name, e] : entries_) {
    auto& st = e.status;
    if (st.state == "running") {
      if (auto exit = TryReap(st.pid)) {
        SignalGroup(st.pid, SIGKILL);  // what it left behind
        const bool was_stable = now - st.started_at >= kStableAfter;
        e.consecutive_failures = was_stable ? 1 : e.consecutive_failures + 1;
        st.last_exit = exit->Describe();
        st.pid = 0;
        st.healthy = false;
        st.healthy_since = 0;
        ++st.restarts;
        st.state = "backoff";
        st.next_start_at =
            now + std::min(kBackoffMax, kBackoffFirst << std::min(e.consecutive_failures - 1, 10));
        changed = true;
        continue;
      }
      if (now >= e.next_probe_at) {
        const bool ok = e.spec.health.kind == "none" || e.spec.health.kind.empty()
                            ? now - st.started_at >= kMinUp
                            : Probe(e.spec.health);
        if (ok != st.healthy) {
          st.healthy = ok;
          st.healthy_since = ok ? now : 0;
          changed = true;
        }
        if (ok && now - st.started_at >= kStableAfter) e.consecutive_failures = 0;
        e.next_probe_at = clock_.Now() + (ok ? kProbeRunning : kProbeStarting);
      }
    } else if (st.state == "backoff" && now >= st.next_start_at) {
      Start(e);
      changed = true;
    }
  }
  return changed;
}

void Supervisor::StopAll() {
  std::vector<std::thread> stops;
  for (auto& [name, e] : entries_) {
    if (e.status.pid > 0) {
      stops.emplace_back(
          [pid = e.status.pid, grace = e.spec.stop_grace_ms] { StopGroup(pid, grace); });
    }
  }
  for (auto& t : stops) t.join();
  entries_.clear();
}

std::vector<ProcessStatus> Supervisor::Status() const {
  std::vector<ProcessStatus> out;
  for (const auto& [name, e] : entries_) out.push_back(e.status);
  return out;
}

// --- the daemon -------------------------------------------------------------

namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

struct DesiredFile {
  std::int64_t generation = 0;
  std::vector<ProcessSpec> specs;
};

Result<DesiredFile> ReadDesired(const std::filesystem::path& path) {
  PS_ASSIGN(auto text, ReadFile(path, 16 << 20));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return problems::InvalidInput("desired.json is not JSON");
  DesiredFile d;
  d.generation = j.value("generation", std::int64_t{0});
  if (j.contains("processes") && j["processes"].is_array()) {
    for (const auto& p : j["processes"]) {
      PS_ASSIGN(auto s, ProcessSpec::FromJson(p));
      d.specs.push_back(std::move(s));
    }
  }
  return d;
}

// Kills what a previous daemon (killed itself) left running: each pid whose
// start time still matches, so a reused pid is never hit.
void KillOrphans(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("processes")) return;
  for (const auto& p : j["processes"]) {
    auto st = ProcessStatus::FromJson(p);
    if (st.pid > 0 && st.start_ticks != 0 && StartTicks(st.pid) == st.start_ticks) {
      SignalGroup(st.pid, SIGTERM);
      for (int i = 0; i < 200 && StartTicks(st.pid) == st.start_ticks; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      SignalGroup(st.pid, SIGKILL);
    }
  }
}

}  // namespace

int RunSupervisorDaemon(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto lock_path = dir / "supervisor.lock";
  int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) return 0;  // one runs already
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  const auto desired_path = dir / "desired.json";
  const auto state_path = dir / "state.json";
  // What a previous daemon recorded, then a fresh record naming this one:
  // clients wait for it before trusting state.json.
  auto previous = ReadFile(state_path);
  (void)WriteFileAtomic(
      state_path,
      Json{{"pid", getpid()}, {"observed_generation", -1}, {"processes", Json::array()}}.dump());
  if (previous.ok()) KillOrphans(*previous);

  auto& clock = SystemClock::Instance();
  Supervisor sup(clock);
  std::int64_t observed = -1;
  struct timespec seen_mtime {};
  off_t seen_size = -1;
  auto write_state = [&](bool stopping) {
    Json procs = Json::array();
    for (const auto& s : sup.Status()) procs.push_back(s.ToJson());
    Json j{{"pid", getpid()},
           {"observed_generation", observed},
           {"updated_at", clock.Now()},
           {"stopping", stopping},
           {"processes", procs}};
    (void)WriteFileAtomic(state_path, j.dump(2));
  };
  write_state(false);
  struct stat locked {};
  fstat(lock, &locked);
  Millis next_lock_check = clock.Now() + 1000;
  while (!g_stop) {
    // The folder deleted (or replaced) under a running daemon: a new one may
    // already run there with a new lock file. This one stops its processes
    // and exits rather than run a second copy of everything beside it.
    if (clock.Now() >= next_lock_check) {
      next_lock_check = clock.Now() + 1000;
      struct stat now_at {};
      if (stat(lock_path.c_str(), &now_at) != 0 || now_at.st_ino != locked.st_ino ||
          now_at.st_dev != locked.st_dev) {
        sup.StopAll();
        return 0;
      }
    }
    bool changed = false;
    struct stat st {};
    if (stat(desired_path.c_str(), &st) == 0 &&
        (st.st_mtim.tv_sec != seen_mtime.tv_sec || st.st_mtim.tv_nsec != seen_mtime.tv_nsec ||
         st.st_size != seen_size)) {
      seen_mtime = st.st_mtim;
      seen_size = st.st_size;
      if (auto d = ReadDesired(desired_path); d.ok() && d->generation != observed) {
        sup.SetDesired(std::move(d->specs));
        observed = d->generation;
        changed = true;
      }
    }
    changed |= sup.Tick();
    if (changed) write_state(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  write_state(true);
  sup.StopAll();
  Json j{{"pid", 0},
         {"observed_generation", observed},
         {"updated_at", clock.Now()},
         {"processes", Json::array()}};
  (void)WriteFileAtomic(state_path, j.dump(2));
  return 0;
}

// --- client -----------------------------------------------------------------

namespace {
Result<Json> ReadJsonFile(const std::filesystem::path& p) {
  PS_ASSIGN(auto text, ReadFile(p, 16 << 20));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return problems::InvalidInput(p.string() + " is not JSON");
  return j;
}
}  // namespace

bool SupervisorClient::Running() const {
  const auto lock_path = dir_ / "supervisor.lock";
  int fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return held;
}

Status SupervisorClient::Ensure(Millis timeout_ms) {
  if (Running()) return Ok();
  PS_TRY(EnsureDir(dir_));
  SpawnOptions o;
  o.argv = {exe_, "__supervise", dir_.string()};
  o.log_path = (dir_ / "supervisor.log").string();
  PS_ASSIGN(const pid_t pid, Spawn(o));  // its own session; reparented to init when we exit
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto j = ReadJsonFile(dir_ / "state.json"); j.ok() && j->value("pid", 0) == pid) {
      return Ok();
    }
    if (auto exit = TryReap(pid)) {
      // Lost the race to another daemon for this folder: that one serves.
      if (Running()) return Ok();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Problem::Make("supervisor-unavailable", "The process supervisor did not start", 503,
                       "no supervisor for " + dir_.string() + " after " +
                           std::to_string(timeout_ms) + " ms; see " +
                           (dir_ / "supervisor.log").string());
}

std::vector<ProcessSpec> SupervisorClient::Desired() const {
  auto d = ReadDesired(dir_ / "desired.json");
  return d.ok() ? std::move(d->specs) : std::vector<ProcessSpec>{};
}

Status SupervisorClient::Apply(const std::vector<ProcessSpec>& specs, Millis timeout_ms) {
  std::int64_t generation = 1;
  if (auto d = ReadDesired(dir_ / "desired.json"); d.ok()) generation = d->generation + 1;
  Json procs = Json::array();
  for (const auto& s : specs) procs.push_back(s.ToJson());
  PS_TRY(EnsureDir(dir_));
  PS_TRY(WriteFileAtomic(dir_ / "desired.json",
                         Json{{"generation", generation}, {"processes", procs}}.dump(2), 0600));
  PS_TRY(Ensure());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto j = ReadJsonFile(dir_ / "state.json");
        j.ok() && j->value("observed_generation", std::int64_t{-1}) >= generation) {
      return Ok();
    }
    if (!Running()) PS_TRY(Ensure());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return problems::Timeout("the supervisor did not take the new process set within " +
                           std::to_string(timeout_ms / 1000) + " s");
}

Result<std::vector<ProcessStatus>> SupervisorClient::Read() const {
  std::vector<ProcessStatus> out;
  if (!Running()) return out;
  PS_ASSIGN(auto j, ReadJsonFile(dir_ / "state.json"));
  if (j.contains("processes") && j["processes"].is_array()) {
    for (const auto& p : j["processes"]) out.push_back(ProcessStatus::FromJson(p));
  }
  return out;
}

Status SupervisorClient::WaitHealthy(const std::string& name, Millis timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string log;
  for (const auto& s : Desired())
    if (s.name == name) log = s.log;
  ProcessStatus last;
  while (true) {
    PS_ASSIGN(auto all, Read());
    bool found = false;
    for (const auto& s : all) {
      if (s.name != name) continue;
      found = true;
      last = s;
      if (s.state == "running" && s.healthy) return Ok();
    }
    const bool crashing = found && last.restarts >= 3;
    if (crashing || std::chrono::steady_clock::now() >= deadline) {
      std::string detail =
          crashing ? "'" + name + "' keeps exiting (" + std::to_string(last.restarts) +
                         " restarts, last: " + last.last_exit + ")"
                   : "'" + name + "' did not become healthy within " +
                         std::to_string(timeout_ms / 1000) + " s" +
                         (last.last_exit.empty() ? "" : " (last exit: " + last.last_exit + ")");
      auto p = Problem::Make("unhealthy", "The service did not become healthy", 422, detail);
      if (!log.empty()) p = p.With("log", log).With("log_tail", LogTail(log, 1500));
      return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status SupervisorClient::Shutdown(Millis timeout_ms) {
  if (!Running()) return Ok();
  auto j = ReadJsonFile(dir_ / "state.json");
  const pid_t pid = j.ok() ? j->value("pid", 0) : 0;
  if (pid <= 0 || kill(pid, SIGTERM) != 0) {
    return problems::Internal("cannot signal the supervisor of " + dir_.string());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return problems::Timeout("the supervisor did not stop within " +
                               std::to_string(timeout_ms / 1000) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Ok();
}

}  // namespace ps::targets::local
