#include "targets/local/environment.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "core/fs.h"
#include "core/net.h"
#include "core/process.h"

namespace ps::targets::local {
namespace {

namespace fs = std::filesystem;
constexpr const char* kColours[] = {"blue", "green"};
constexpr Millis kDrainTimeout = 10'000;

std::string Other(const std::string& c) { return c == "blue" ? "green" : "blue"; }

Json RunToJson(const ServiceRun& r) {
  return {{"name", r.name},
          {"kind", r.kind},
          {"cwd", r.cwd},
          {"command", r.command},
          {"env", r.env},
          {"instances", r.instances},
          {"health_path", r.health_path},
          {"version", r.version}};
}

ServiceRun RunFromJson(const Json& j) {
  ServiceRun r;
  r.name = j.value("name", "");
  r.kind = j.value("kind", "web");
  r.cwd = j.value("cwd", "");
  r.command = j.value("command", "");
  r.env = j.value("env", std::map<std::string, std::string>{});
  r.instances = j.value("instances", 1);
  r.health_path = j.value("health_path", "");
  r.version = j.value("version", "");
  return r;
}

std::string Hex(std::size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  in.read(raw.data(), static_cast<std::streamsize>(bytes));
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string ProcessName(const std::string& service, const std::string& colour, int i) {
  return service + "-" + colour + std::to_string(i);
}

// The newest installed PostgreSQL's binaries folder.
std::string PostgresBin() {
  std::error_code ec;
  std::string best;
  int best_version = 0;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const int v = std::atoi(e.path().filename().c_str());
    if (v > best_version && fs::exists(e.path() / "bin" / "postgres", ec)) {
      best_version = v;
      best = (e.path() / "bin").string();
    }
  }
  return best;
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (access((p.substr(start, end - start) + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> LockHolder(const fs::path& env_dir) {
  const auto path = env_dir / "env.lock";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> holder;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
    char buf[256] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "another command";
  }
  close(fd);
  return holder;
}

fs::path SocketDir(const fs::path& dir) {
  // sun_path holds 108 bytes; the longest name used is "requests.sock".
  if (dir.string().size() + 20 < 100) return dir;
  return fs::path("/tmp") / ("prodsprint-" + Sha256Hex(dir.string()).substr(0, 12));
}

LocalEnvironment::LocalEnvironment(LocalEnvironment&& o) noexcept { *this = std::move(o); }
LocalEnvironment& LocalEnvironment::operator=(LocalEnvironment&& o) noexcept {
  if (this != &o) {
    if (lock_fd_ >= 0) close(lock_fd_);
    dir_ = std::move(o.dir_);
    exe_ = std::move(o.exe_);
    lock_fd_ = o.lock_fd_;
    o.lock_fd_ = -1;
    health_timeout_ = o.health_timeout_;
    state_ = std::move(o.state_);
    sup_ = std::move(o.sup_);
    requests_ = std::move(o.requests_);
  }
  return *this;
}
LocalEnvironment::~LocalEnvironment() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

Result<LocalEnvironment> LocalEnvironment::Open(fs::path dir, std::string executable,
                                                std::string project, std::string env) {
  LocalEnvironment e;
  e.dir_ = std::move(dir);
  e.exe_ = std::move(executable);
  PS_TRY(EnsureDir(e.dir_));
  PS_TRY(EnsureDir(e.dir_ / "logs"));
  PS_TRY(EnsureDir(SocketDir(e.dir_)));
  e.sup_.emplace(e.dir_ / "supervisor", e.exe_);
  const auto path = e.dir_ / "env.json";
  std::error_code ec;
  if (fs::exists(path, ec)) {
    PS_ASSIGN(auto text, ReadFile(path));
    e.state_ = Json::parse(text, nullptr, false);
    if (!e.state_.is_object()) {
      return Problem::Make("environment-corrupt", "The environment's state is unreadable", 500,
                           path.string() +
                               " is not a JSON object; remove the folder with "
                               "'prodsprint down' or by hand to start over");
    }
  } else {
    e.state_ = {{"project", project},         {"env", env},
                {"services", Json::object()}, {"backing", Json::object()},
                {"router", Json::object()},   {"ports", Json::array()}};
  }
  return e;
}

Status LocalEnvironment::Lock(const std::string& operation) {
  if (lock_fd_ >= 0) return Ok();
  const auto path = dir_ / "env.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return problems::Internal("cannot open " + path.string());
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[256] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "another command";
    return Problem::Make("environment-busy", "The environment is busy", 409,
                         "'" + state_.value("env", std::string()) + "' is held by " + holder +
                             "; wait for it to finish, or stop it (prodsprint abort)")
        .With("holder", holder);
  }
  const std::string who = operation + " (pid " + std::to_string(getpid()) + ")";
  if (ftruncate(fd, 0) == 0) {
    ssize_t w = pwrite(fd, who.data(), who.size(), 0);
    (void)w;
  }
  lock_fd_ = fd;
  return Ok();
}

fs::path LocalEnvironment::ReleaseDir(const std::string& commit) const {
  return dir_ / "releases" / commit;
}

std::string LocalEnvironment::SocketPath(const std::string& name) const {
  return (SocketDir(dir_) / name).string();
}
std::string LocalEnvironment::request_log_socket() const { return SocketPath("requests.sock"); }

Status LocalEnvironment::Save() {
  return WriteFileAtomic(dir_ / "env.json", state_.dump(2) + "\n", 0600);
}

Result<std::string> LocalEnvironment::Secret(const std::string& name) {
  const auto path = dir_ / "secrets.json";
  Json secrets = Json::object();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    PS_ASSIGN(auto text, ReadFile(path));
    secrets = Json::parse(text, nullptr, false);
    if (!secrets.is_object()) secrets = Json::object();
  }
  if (secrets.contains(name) && secrets[name].is_string()) return secrets[name].get<std::string>();
  const std::string value = Hex(24);
  secrets[name] = value;
  PS_TRY(WriteFileAtomic(path, secrets.dump(2), 0600));
  return value;
}

Result<int> LocalEnvironment::AllocatePort() {
  std::set<int> used;
  for (const auto& p : state_["ports"]) used.insert(p.get<int>());
  for (int tries = 0; tries < 50; ++tries) {
    const int port = FreeLoopbackPort();
    if (port > 0 && !used.count(port)) {
      state_["ports"].push_back(port);
      return port;
    }
  }
  return problems::Internal("no free loopback port");
}

// --- processes ----------------------------------------------------------------

std::vector<ProcessSpec> LocalEnvironment::DesiredSpecs() const {
  std::vector<ProcessSpec> specs;
  const auto& backing = state_["backing"];
  if (backing.contains("postgres")) {
    const auto& pg = backing["postgres"];
    ProcessSpec s;
    s.name = "postgres";
    s.argv = {pg.value("bin", "") + "/postgres",
              "-D",
              pg.value("data", ""),
              "-p",
              std::to_string(pg.value("port", 0)),
              "-k",
              pg.value("sockets", ""),
              "-c",
              "listen_addresses=127.0.0.1",
              "-c",
              "fsync=off"};
    s.run_as = pg.value("run_as", "");
    s.log = (dir_ / "logs" / "postgres.log").string();
    s.health = {"tcp", pg.value("port", 0), ""};
    s.stop_grace_ms = 20'000;
    specs.push_back(std::move(s));
  }
  if (backing.contains("redis")) {
    const int port = backing["redis"].value("port", 0);
    ProcessSpec s;
    s.name = "redis";
    s.argv = {"redis-server", "--bind", "127.0.0.1",    "--port", std::to_string(port),
              "--save",       "",       "--appendonly", "no"};
    s.log = (dir_ / "logs" / "redis.log").string();
    s.health = {"tcp", port, ""};
    specs.push_back(std::move(s));
  }
  if (state_["router"].contains("layout")) {
    ProcessSpec s;
    s.name = "haproxy";
    // Master-worker: a new layout (another frontend) is a seamless reload
    // (SIGUSR2; the new worker takes the listening sockets over, the old one
    // finishes its connections). Weights and addresses need not even that.
    s.argv = {"haproxy", "-W", "-db", "-f", (dir_ / "haproxy.cfg").string()};
    s.reload_signal = SIGUSR2;
    s.reload_key = state_["router"]["layout"].get<std::string>();
    s.log = (dir_ / "logs" / "haproxy.log").string();
    s.health = {"tcp", state_["router"].value("metrics_port", 0), ""};
    s.stop_grace_ms = 5000;
    specs.push_back(std::move(s));
  }
  for (const auto& [name, svc] : state_["services"].items()) {
    for (const char* colour : kColours) {
      const auto& c = svc["colours"][colour];
      if (!c.contains("run") || c["run"].is_null()) continue;
      const ServiceRun run = RunFromJson(c["run"]);
      const auto& ports = c["ports"];
      for (int i = 0; i < run.instances && i < static_cast<int>(ports.size()); ++i) {
        ProcessSpec s;
        s.name = ProcessName(name, colour, i);
        s.argv = {"/bin/sh", "-c", "exec " + run.command};
        s.cwd = run.cwd;
        s.env = run.env;
        s.secrets_file = SecretsFile();
        const int port = ports[i].get<int>();
        s.env["PORT"] = std::to_string(port);
        s.log = (dir_ / "logs" / (s.name + ".log")).string();
        if (run.kind == "web") {
          s.health = run.health_path.empty() ? HealthCheck{"tcp", port, ""}
                                             : HealthCheck{"http", port, run.health_path};
        }
        specs.push_back(std::move(s));
      }
    }
  }
  return specs;
}

Status LocalEnvironment::ApplyProcesses() { return sup_->Apply(DesiredSpecs()); }

RouterConfig LocalEnvironment::Router() const {
  RouterConfig rc;
  rc.admin_socket = SocketPath("admin.sock");
  rc.log_socket = request_log_socket();
  rc.metrics_port = state_["router"].value("metrics_port", 0);
  for (const auto& [name, svc] : state_["services"].items()) {
    if (svc.value("kind", "web") != "web") continue;
    RouterBackend b;
    b.name = name;
    b.frontend_port = svc.value("frontend_port", 0);
    b.health_path = svc.value("health_path", "");
    const int n = svc.value("instances", 1);
    for (const char* colour : kColours) {
      const auto& c = svc["colours"][colour];
      const bool running = c.contains("run") && !c["run"].is_null();
      for (int i = 0; i < n; ++i) {
        RouterSlot s;
        s.name = std::string(colour) + std::to_string(i);
        s.port = running && i < static_cast<int>(c["ports"].size()) ? c["ports"][i].get<int>() : 0;
        s.weight = running ? c.value("weight", 0) : 0;
        b.slots.push_back(s);
      }
    }
    rc.backends.push_back(std::move(b));
  }
  return rc;
}

Status LocalEnvironment::EnsureRouter(const ProgressFn& progress) {
  bool any_web = false;
  for (const auto& [name, svc] : state_["services"].items())
    any_web |= svc.value("kind", "web") == "web";
  if (!any_web) return Ok();
  if (!OnPath("haproxy")) {
    return Problem::Make("router-missing", "HAProxy is not installed", 424,
                         "the local target routes traffic through HAProxy; install it "
                         "(apt-get install haproxy, or scripts/install-deps)");
  }
  if (!state_["router"].contains("metrics_port")) {
    PS_ASSIGN(int p, AllocatePort());
    state_["router"]["metrics_port"] = p;
  }
  // The layout: frontends and slot names. Ports and weights are not in it.
  std::string layout;
  for (const auto& [name, svc] : state_["services"].items()) {
    if (svc.value("kind", "web") != "web") continue;
    layout += name + ":" + std::to_string(svc.value("frontend_port", 0)) + ":" +
              std::to_string(svc.value("instances", 1)) + ":" + svc.value("health_path", "") + ";";
  }
  layout = Sha256Hex(layout).substr(0, 16);
  PS_TRY(WriteFileAtomic(dir_ / "haproxy.cfg", RenderHaproxyConfig(Router())));
  const bool changed = state_["router"].value("layout", "") != layout;
  state_["router"]["layout"] = layout;
  PS_TRY(Save());
  if (changed && progress) progress("starting HAProxy");
  PS_TRY(ApplyProcesses());
  PS_TRY(sup_->WaitHealthy("haproxy", 15'000));
  HaproxyAdmin admin(SocketPath("admin.sock"));
  for (int i = 0; i < 200 && !admin.Alive(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!admin.Alive()) {
    return Problem::Make("router-unavailable", "HAProxy is not answering", 503,
                         "its runtime API at " + SocketPath("admin.sock") +
                             " does not answer; see " + (dir_ / "logs" / "haproxy.log").string());
  }
  // After a reload the old worker may still answer for a moment: wait for
  // the one that knows every slot of the new layout.
  if (changed) {
    const RouterConfig rc = Router();
    for (int i = 0; i < 1000; ++i) {
      bool all = true;
      for (const auto& b : rc.backends) {
        for (const auto& slot : b.slots) all = all && admin.ServerStat(b.name, slot.name).ok();
      }
      if (all) return Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Problem::Make("router-unavailable", "HAProxy did not take the new routes", 503,
                         "after a reload its runtime API still lacks a server; see " +
                             (dir_ / "logs" / "haproxy.log").string());
  }
  return Ok();
}

Status LocalEnvironment::ApplyWeights(const std::string& service) {
  const auto& svc = state_["services"][service];
  if (svc.value("kind", "web") != "web") return Ok();
  // The file first: a restart in between comes back with the new split.
  // If it cannot be written (a full disk), the running router is still told
  // (its runtime API needs no disk: taking a candidate out must work then),
  // and the file's error is returned after.
  Status file = WriteFileAtomic(dir_ / "haproxy.cfg", RenderHaproxyConfig(Router()));
  HaproxyAdmin admin(SocketPath("admin.sock"));
  const int n = svc.value("instances", 1);
  // Raise the colour gaining weight before lowering the other, so that for
  // an instant both serve rather than neither.
  std::vector<std::string> order = {"blue", "green"};
  if (svc["colours"]["green"].value("weight", 0) > svc["colours"]["blue"].value("weight", 0)) {
    order = {"green", "blue"};
  }
  for (const auto& colour : order) {
    const auto& c = svc["colours"][colour];
    const bool running = c.contains("run") && !c["run"].is_null();
    for (int i = 0; i < n; ++i) {
      const std::string slot = colour + std::to_string(i);
      if (running && i < static_cast<int>(c["ports"].size())) {
        const int w = c.value("weight", 0);
        PS_TRY(admin.PointSlot(service, slot, c["ports"][i].get<int>()));
        PS_TRY(admin.SetWeight(service, slot, w));
      } else {
        PS_TRY(admin.ParkSlot(service, slot));
      }
    }
  }
  return file;
}

Status LocalEnvironment::StartColour(const std::string& service, const std::string& colour,
                                     const ServiceRun& run, const ProgressFn& progress) {
  Json& c = state_["services"][service]["colours"][colour];
  // Ports: kept per slot across versions, replaced if something else took one.
  Json ports = c.value("ports", Json::array());
  for (int i = 0; i < run.instances; ++i) {
    if (i < static_cast<int>(ports.size()) && !TcpAccepts("127.0.0.1", ports[i].get<int>(), 100)) {
      continue;
    }
    PS_ASSIGN(int p, AllocatePort());
    if (i < static_cast<int>(ports.size())) {
      ports[i] = p;
    } else {
      ports.push_back(p);
    }
  }
  c["ports"] = ports;
  c["run"] = RunToJson(run);
  c["weight"] = 0;
  PS_TRY(Save());
  if (progress) {
    progress("starting " + service + " " + run.version.substr(0, 12) + " (" + colour + ", " +
             std::to_string(run.instances) + " instance" + (run.instances > 1 ? "s" : "") + ")");
  }
  Status st = ApplyProcesses();
  for (int i = 0; st.ok() && i < run.instances; ++i) {
    st = sup_->WaitHealthy(ProcessName(service, colour, i), health_timeout_);
  }
  if (!st.ok()) {
    // Leave the stable version as it was: stop what was started.
    c["run"] = nullptr;
    (void)Save();
    (void)ApplyProcesses();
    return st;
  }
  return Ok();
}

Status LocalEnvironment::StopColour(const std::string& service, const std::string& colour,
                                    bool drain) {
  Json& svc = state_["services"][service];
  Json& c = svc["colours"][colour];
  if (!c.contains("run") || c["run"].is_null()) return Ok();
  c["weight"] = 0;
  if (svc.value("kind", "web") == "web") {
    HaproxyAdmin admin(SocketPath("admin.sock"));
    const int n = svc.value("instances", 1);
    for (int i = 0; i < n; ++i) {
      const std::string slot = colour + std::to_string(i);
      (void)admin.SetWeight(service, slot, 0);
    }
    if (drain) {
      // Requests already sent to the colour finish before it stops.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(kDrainTimeout);
      for (int i = 0; i < n; ++i) {
        const std::string slot = colour + std::to_string(i);
        while (std::chrono::steady_clock::now() < deadline) {
          auto cur = admin.CurrentSessions(service, slot);
          if (!cur.ok() || *cur <= 0) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    }
    for (int i = 0; i < n; ++i) (void)admin.ParkSlot(service, colour + std::to_string(i));
  }
  c["run"] = nullptr;
  PS_TRY(Save());
  PS_TRY(ApplyProcesses());
  if (svc.value("kind", "web") == "web") {
    PS_TRY(WriteFileAtomic(dir_ / "haproxy.cfg", RenderHaproxyConfig(Router())));
  }
  return Ok();
}

// --- backing servers ------------------------------------------------------------

Result<BackingInfo> LocalEnvironment::EnsureBacking(const std::string& name,
                                                    const std::string& service) {
  BackingInfo info;
  info.name = name;
  Json& backing = state_["backing"];
  if (name == "redis") {
    if (!OnPath("redis-server")) {
      return Problem::Make("backing-missing", "Redis is not installed", 424,
                           "the service uses Redis; install it (apt-get install redis-server)");
    }
    if (!backing.contains("redis")) {
      PS_ASSIGN(int p, AllocatePort());
      backing["redis"] = {{"port", p}};
      PS_TRY(Save());
    }
    PS_TRY(ApplyProcesses());
    PS_TRY(sup_->WaitHealthy("redis", 20'000));
    info.port = backing["redis"]["port"].get<int>();
    info.env["REDIS_URL"] = "redis://127.0.0.1:" + std::to_string(info.port) + "/0";
    return info;
  }
  if (name != "postgres") {
    return Problem::Make("backing-unsupported", "Backing service not available locally", 422,
                         "the local target runs PostgreSQL and Redis; '" + name +
                             "' is not provisioned (set its variables in prodsprint.yaml)");
  }
  const std::string bin = PostgresBin();
  if (bin.empty()) {
    return Problem::Make("backing-missing", "PostgreSQL is not installed", 424,
                         "the service uses PostgreSQL; install it (apt-get install postgresql)");
  }
  if (!backing.contains("postgres")) {
    // PostgreSQL refuses to run as root, and its folder (and every folder
    // above it) must be readable by the user it runs as: under /var/tmp.
    const bool root = geteuid() == 0;
    const fs::path base =
        fs::path("/var/tmp") / ("prodsprint-pg-" + Sha256Hex(dir_.string()).substr(0, 12));
    PS_ASSIGN(int p, AllocatePort());
    backing["postgres"] = {{"port", p},
                           {"bin", bin},
                           {"data", (base / "data").string()},
                           {"sockets", (base / "sock").string()},
                           {"run_as", root ? "postgres" : ""},
                           {"databases", Json::object()}};
    std::error_code ec;
    fs::create_directories(base / "sock", ec);
    if (root) {
      std::string cmd = "chown -R postgres:postgres '" + base.string() + "'";
      SpawnOptions chown;
      chown.argv = {"/bin/sh", "-c", cmd};
      PS_TRY(RunToCompletion(chown, 10'000));
    }
  }
  const Json& pg = backing["postgres"];
  const std::string data = pg["data"];
  std::error_code ec;
  if (!fs::exists(fs::path(data) / "PG_VERSION", ec)) {
    SpawnOptions init;
    init.argv = {bin + "/initdb",   "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8"};
    init.run_as = pg.value("run_as", "");
    init.cwd = "/";
    init.log_path = (dir_ / "logs" / "postgres-initdb.log").string();
    PS_ASSIGN(auto exit, RunToCompletion(init, 120'000));
    if (!exit.ok()) {
      return Problem::Make("backing-failed", "PostgreSQL could not be initialised", 500,
                           "initdb " + exit.Describe() + ": " + LogTail(init.log_path, 800));
    }
  }
  PS_TRY(Save());
  PS_TRY(ApplyProcesses());
  PS_TRY(sup_->WaitHealthy("postgres", 60'000));
  info.port = pg["port"].get<int>();
  // A role and database per service, created once.
  const std::string db = "app_" + [&] {
    std::string s;
    for (char ch : service)
      s += std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
    return s;
  }();
  PS_ASSIGN(std::string password, Secret("postgres-" + db));
  if (!pg["databases"].contains(db)) {
    // One psql invocation: SQL in, exit status out, output to `out`.
    // The SQL goes in through the environment and stdin, never the command
    // line (other users see a process's arguments; it holds a password).
    auto psql = [&](const std::string& sql, const std::string& out) -> Result<ExitStatus> {
      SpawnOptions o;
      o.argv = {"/bin/sh", "-c",
                "printf '%s' \"$PRODSPRINT_SQL\" | exec '" + bin + "/psql' -h 127.0.0.1 -p " +
                    std::to_string(info.port) + " -U postgres -v ON_ERROR_STOP=1 -qAt -f -"};
      o.env["PRODSPRINT_SQL"] = sql;
      o.cwd = "/";
      o.log_path = out;
      return RunToCompletion(o, 30'000);
    };
    auto run_sql = [&](const std::string& sql) -> Status {
      const std::string log = (dir_ / "logs" / "postgres-setup.log").string();
      PS_ASSIGN(auto exit, psql(sql, log));
      if (!exit.ok()) {
        return Problem::Make("backing-failed", "PostgreSQL setup failed", 500,
                             sql.substr(0, sql.find(' ', 12)) + ": " + LogTail(log, 600));
      }
      return Ok();
    };
    PS_TRY(run_sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + db +
                   "') THEN CREATE ROLE " + db + " LOGIN PASSWORD '" + password +
                   "'; END IF; END $$;"));
    // CREATE DATABASE cannot run in a DO block: check first.
    const auto out_path = (dir_ / "logs" / ("postgres-probe-" + db + ".out")).string();
    fs::remove(out_path, ec);
    PS_ASSIGN(auto exit, psql("SELECT 1 FROM pg_database WHERE datname = '" + db + "'", out_path));
    auto out = ReadFile(out_path);
    if (!exit.ok() || !out.ok() || out->find('1') == std::string::npos) {
      PS_TRY(run_sql("CREATE DATABASE " + db + " OWNER " + db));
    }
    state_["backing"]["postgres"]["databases"][db] = {{"service", service}};
    PS_TRY(Save());
  }
  const std::string url = "postgres://" + db + ":" + SecretRef("postgres-" + db) +
                          "@127.0.0.1:" + std::to_string(info.port) + "/" + db;
  info.env["DATABASE_URL"] = url;
  return info;
}

// --- deploy -------------------------------------------------------------------

Result<Json> LocalEnvironment::Deploy(const std::vector<ServiceRun>& runs,
                                      const ProgressFn& progress) {
  Json report = Json::array();
  // New services first get their frontend ports, so one router start covers them.
  for (const auto& run : runs) {
    Json& services = state_["services"];
    if (services.contains(run.name)) continue;
    Json svc = {{"kind", run.kind},
                {"instances", run.instances},
                {"health_path", run.health_path},
                {"stable", nullptr},
                {"candidate", nullptr},
                {"warm", nullptr},
                {"colours",
                 {{"blue", {{"ports", Json::array()}, {"weight", 0}, {"run", nullptr}}},
                  {"green", {{"ports", Json::array()}, {"weight", 0}, {"run", nullptr}}}}}};
    if (run.kind == "web") {
      PS_ASSIGN(int p, AllocatePort());
      svc["frontend_port"] = p;
    }
    services[run.name] = svc;
  }
  for (const auto& run : runs) {
    Json& svc = state_["services"][run.name];
    if (!svc["candidate"].is_null()) {
      return Problem::Make("release-in-progress", "A release is in progress", 409,
                           "service '" + run.name +
                               "' has a candidate running; promote or abort the release, or "
                               "(if it was killed) 'prodsprint rollback'");
    }
    // Instance count or health path changes are a layout change.
    svc["instances"] = run.instances;
    svc["health_path"] = run.health_path;
  }
  PS_TRY(Save());
  for (const auto& run : runs) {
    Json& svc = state_["services"][run.name];
    const Json stable = svc["stable"];
    if (stable.is_string()) {
      const Json& cur = svc["colours"][stable.get<std::string>()]["run"];
      if (!cur.is_null() && cur == RunToJson(run)) {
        report.push_back({{"service", run.name},
                          {"action", "unchanged"},
                          {"version", run.version},
                          {"colour", stable}});
        continue;
      }
    }
    const std::string colour = stable.is_string() ? Other(stable.get<std::string>()) : "blue";
    // A warm previous version (blue/green) gives its slots to the new one.
    if (svc["warm"].is_string() && svc["warm"] == colour) {
      PS_TRY(StopColour(run.name, colour, true));
      svc["warm"] = nullptr;
    }
    PS_TRY(StartColour(run.name, colour, run, progress));
    svc["colours"][colour]["weight"] = 100;
    if (stable.is_string()) {
      svc["previous"] = svc["colours"][stable.get<std::string>()]["run"];
      svc["colours"][stable.get<std::string>()]["weight"] = 0;
    }
    svc["stable"] = colour;
    PS_TRY(Save());
    PS_TRY(EnsureRouter(progress));
    PS_TRY(ApplyWeights(run.name));
    if (stable.is_string()) {
      if (progress) progress("draining and stopping the previous " + run.name);
      PS_TRY(StopColour(run.name, stable.get<std::string>(), true));
    }
    report.push_back({{"service", run.name},
                      {"action", stable.is_string() ? "replaced" : "started"},
                      {"version", run.version},
                      {"colour", colour}});
  }
  PS_TRY(EnsureRouter(progress));
  for (const auto& run : runs) PS_TRY(ApplyWeights(run.name));
  return report;
}

// --- releases -------------------------------------------------------------------

Status LocalEnvironment::StartCandidate(const ServiceRun& run, const ProgressFn& progress) {
  Json& services = state_["services"];
  if (!services.contains(run.name) || !services[run.name]["stable"].is_string()) {
    return Problem::Make("nothing-to-release-against", "No stable version", 409,
                         "service '" + run.name +
                             "' is not running in this environment; run "
                             "'prodsprint apply' first");
  }
  Json& svc = services[run.name];
  if (!svc["candidate"].is_null()) {
    return Problem::Make("release-in-progress", "A release is in progress", 409,
                         "service '" + run.name +
                             "' already has a candidate; if its release was killed, "
                             "'prodsprint rollback' removes it");
  }
  const std::string colour = Other(svc["stable"].get<std::string>());
  if (svc["warm"].is_string()) {
    PS_TRY(StopColour(run.name, colour, true));
    svc["warm"] = nullptr;
  }
  PS_TRY(StartColour(run.name, colour, run, progress));
  svc["candidate"] = colour;
  PS_TRY(Save());
  return ApplyWeights(run.name);
}

std::optional<ServiceRun> LocalEnvironment::PreviousRun(const std::string& service) const {
  if (!state_.contains("services") || !state_["services"].contains(service)) return std::nullopt;
  const Json& svc = state_["services"][service];
  if (!svc.contains("previous") || !svc["previous"].is_object()) return std::nullopt;
  ServiceRun r = RunFromJson(svc["previous"]);
  std::error_code ec;
  if (r.cwd.empty() || !fs::is_directory(r.cwd, ec)) return std::nullopt;
  return r;
}

Status LocalEnvironment::SetCandidateWeight(const std::string& service, int percent) {
  Json& svc = state_["services"][service];
  if (!svc["candidate"].is_string()) return problems::Conflict("no candidate for " + service);
  percent = std::clamp(percent, 0, 100);
  svc["colours"][svc["candidate"].get<std::string>()]["weight"] = percent;
  svc["colours"][svc["stable"].get<std::string>()]["weight"] = 100 - percent;
  PS_TRY(ApplyWeights(service));
  return Save();
}

Status LocalEnvironment::PromoteCandidate(const std::string& service, bool keep_old_warm) {
  Json& svc = state_["services"][service];
  if (!svc["candidate"].is_string()) return problems::Conflict("no candidate for " + service);
  const std::string cand = svc["candidate"], old = svc["stable"];
  svc["previous"] = svc["colours"][old]["run"];
  svc["colours"][cand]["weight"] = 100;
  svc["colours"][old]["weight"] = 0;
  svc["stable"] = cand;
  svc["candidate"] = nullptr;
  PS_TRY(Save());
  PS_TRY(ApplyWeights(service));
  if (keep_old_warm) {
    svc["warm"] = old;
    return Save();
  }
  return StopColour(service, old, true);
}

Status LocalEnvironment::RollbackCandidate(const std::string& service) {
  Json& svc = state_["services"][service];
  if (!svc["candidate"].is_string()) return problems::Conflict("no candidate for " + service);
  const std::string cand = svc["candidate"], stable = svc["stable"];
  svc["colours"][cand]["weight"] = 0;
  svc["colours"][stable]["weight"] = 100;
  svc["candidate"] = nullptr;
  PS_TRY(Save());
  PS_TRY(ApplyWeights(service));  // weight 0 at once
  return StopColour(service, cand, true);
}

Status LocalEnvironment::SwitchBack(const std::string& service) {
  Json& svc = state_["services"][service];
  if (!svc["warm"].is_string()) {
    return Problem::Make("nothing-to-switch-back", "No previous version is warm", 409,
                         "service '" + service + "' has no warm previous version");
  }
  const std::string warm = svc["warm"], cur = svc["stable"];
  svc["previous"] = svc["colours"][cur]["run"];
  svc["colours"][warm]["weight"] = 100;
  svc["colours"][cur]["weight"] = 0;
  svc["stable"] = warm;
  svc["warm"] = nullptr;
  PS_TRY(Save());
  PS_TRY(ApplyWeights(service));
  return StopColour(service, cur, true);
}

Result<Json> LocalEnvironment::RollbackToPrevious(const ProgressFn& progress) {
  Json report = Json::array();
  std::vector<ServiceRun> redeploy;
  std::vector<std::string> names;
  for (const auto& [name, svc] : state_["services"].items()) names.push_back(name);
  // The environment's lock is ours, so no release runs: a candidate is what
  // a killed release left. Undoing that release is the whole rollback.
  for (const auto& name : names) {
    Json& svc = state_["services"][name];
    if (!svc["candidate"].is_string()) continue;
    const std::string version =
        svc["colours"][svc["candidate"].get<std::string>()]["run"].value("version", "");
    PS_TRY(RollbackCandidate(name));
    report.push_back({{"service", name},
                      {"action", "rolled back an abandoned candidate"},
                      {"from", version},
                      {"version", svc["colours"][svc["stable"].get<std::string>()]["run"].value(
                                      "version", "")}});
  }
  if (!report.empty()) return report;
  for (const auto& name : names) {
    Json& svc = state_["services"][name];
    if (svc["warm"].is_string()) {
      const std::string from =
          svc["colours"][svc["stable"].get<std::string>()]["run"].value("version", "");
      PS_TRY(SwitchBack(name));
      report.push_back({{"service", name},
                        {"action", "switched back"},
                        {"from", from},
                        {"version", svc["colours"][svc["stable"].get<std::string>()]["run"].value(
                                        "version", "")}});
    } else if (svc.contains("previous") && svc["previous"].is_object()) {
      redeploy.push_back(RunFromJson(svc["previous"]));
    }
  }
  if (!redeploy.empty()) {
    PS_ASSIGN(Json r, Deploy(redeploy, progress));
    for (auto& x : r) {
      x["action"] = x["action"] == "unchanged" ? "unchanged" : "redeployed previous";
      report.push_back(x);
    }
  }
  if (report.empty()) {
    return Problem::Make("nothing-to-roll-back", "Nothing to roll back to", 409,
                         "no service of this environment has a previous version");
  }
  return report;
}

Health LocalEnvironment::CandidateHealth(const std::string& service) const {
  Health h;
  const Json& svc = state_["services"][service];
  if (!svc.contains("candidate") || !svc["candidate"].is_string()) {
    h.detail = "no candidate";
    return h;
  }
  const std::string colour = svc["candidate"];
  const int n = svc.value("instances", 1);
  auto all = sup_->Read();
  if (!all.ok()) {
    h.detail = all.problem().Message();
    return h;
  }
  int healthy = 0;
  for (int i = 0; i < n; ++i) {
    const std::string pname = ProcessName(service, colour, i);
    for (const auto& p : *all) {
      if (p.name != pname) continue;
      h.restarts += p.restarts;
      if (p.state == "running" && p.healthy) {
        ++healthy;
      } else if (h.detail.empty()) {
        h.detail = pname + " " + p.state + (p.last_exit.empty() ? "" : " (" + p.last_exit + ")");
      }
    }
  }
  h.healthy = healthy == n;
  // HAProxy's own check (the service's health path) must pass too: a
  // version that runs but fails it gets no traffic, and is not healthy.
  if (h.healthy && svc.value("kind", "web") == "web") {
    HaproxyAdmin admin(SocketPath("admin.sock"));
    for (int i = 0; i < n; ++i) {
      const std::string slot = colour + std::to_string(i);
      auto row = admin.ServerStat(service, slot);
      if (!row.ok()) continue;
      const std::string status = (*row)["status"];
      if (status.rfind("DOWN", 0) == 0) {
        h.healthy = false;
        h.detail = slot + " fails HAProxy's health check (" +
                   (svc.value("health_path", "").empty() ? std::string("TCP")
                                                         : "GET " + svc.value("health_path", "")) +
                   "): " + (*row)["check_status"] + " " + (*row)["last_chk"];
        break;
      }
    }
  }
  return h;
}

std::string LocalEnvironment::RoleOfServer(const std::string& service,
                                           const std::string& server) const {
  const Json& svc = state_["services"].contains(service) ? state_["services"][service] : Json();
  if (!svc.is_object()) return "";
  auto starts = [&](const Json& colour) {
    return colour.is_string() && server.rfind(colour.get<std::string>(), 0) == 0;
  };
  if (starts(svc["candidate"])) return "candidate";
  if (starts(svc["stable"])) return "stable";
  return "";
}

Status LocalEnvironment::OpenRequests() {
  requests_ = std::make_unique<RequestLogReader>();
  return requests_->Open(request_log_socket());
}

std::vector<targets::RequestOutcome> LocalEnvironment::ReadRequests(Millis max_wait_ms) {
  std::vector<targets::RequestOutcome> out;
  if (!requests_) return out;
  for (const auto& rec : requests_->Read(max_wait_ms)) {
    // A record of a server that is neither colour (a slot being replaced)
    // tells nothing about either version.
    const std::string role = RoleOfServer(rec.backend, rec.server);
    if (role.empty()) continue;
    out.push_back(
        {rec.backend, role == "candidate", rec.failed(), static_cast<double>(rec.total_ms)});
  }
  return out;
}

std::vector<std::string> LocalEnvironment::Services() const {
  std::vector<std::string> names;
  if (state_.contains("services") && state_["services"].is_object()) {
    for (const auto& [name, svc] : state_["services"].items()) names.push_back(name);
  }
  return names;
}

std::optional<Serving> LocalEnvironment::ColourOf(const std::string& service,
                                                  const char* role) const {
  if (!state_.contains("services") || !state_["services"].contains(service)) return std::nullopt;
  const Json& svc = state_["services"][service];
  if (!svc.contains(role) || !svc[role].is_string()) return std::nullopt;
  const Json colour =
      svc.value("colours", Json::object()).value(svc[role].get<std::string>(), Json::object());
  if (!colour.contains("run") || !colour["run"].is_object()) return std::nullopt;
  Serving s;
  s.run = RunFromJson(colour["run"]);
  for (const auto& p : colour.value("ports", Json::array())) {
    if (p.is_number_integer()) s.ports.push_back(p.get<int>());
  }
  return s;
}

std::optional<Serving> LocalEnvironment::Stable(const std::string& service) const {
  return ColourOf(service, "stable");
}

std::optional<Serving> LocalEnvironment::Candidate(const std::string& service) const {
  return ColourOf(service, "candidate");
}

int LocalEnvironment::FrontendPort(const std::string& service) const {
  const Json& s = state_["services"];
  return s.contains(service) ? s[service].value("frontend_port", 0) : 0;
}

Json LocalEnvironment::Describe() const {
  Json out = state_;
  Json procs = Json::object();
  bool supervisor = sup_->Running();
  if (auto all = sup_->Read(); all.ok()) {
    for (const auto& p : *all) procs[p.name] = p.ToJson();
  }
  out["supervisor"] = supervisor ? "running" : "stopped";
  out["folder"] = dir_.string();
  out["processes"] = procs;
  // A frontend port is the router's only if no other process listens on it
  // too (a squatter bound first, or beside it with SO_REUSEPORT): healthy
  // instances behind a port that answers someone else's are not healthy.
  const int router_pid = procs.contains("haproxy") ? procs["haproxy"].value("pid", 0) : 0;
  const auto ours = SocketInodesOfGroup(router_pid);
  for (auto& [name, svc] : out["services"].items()) {
    const int port = svc.value("frontend_port", 0);
    if (port <= 0 || router_pid <= 0) continue;
    const auto listening = ListeningSocketInodes(port);
    bool mine = false, other = false;
    for (const auto inode : listening) {
      (std::find(ours.begin(), ours.end(), inode) != ours.end() ? mine : other) = true;
    }
    svc["frontend"] = {{"port", port}, {"routed", mine}, {"another_listener", other}};
  }
  return out;
}

Status LocalEnvironment::Down() {
  PS_TRY(sup_->Shutdown());
  for (auto& [name, svc] : state_["services"].items()) {
    for (const char* colour : kColours) svc["colours"][colour]["run"] = nullptr;
    svc["stable"] = nullptr;
    svc["candidate"] = nullptr;
    svc["warm"] = nullptr;
  }
  state_["router"].erase("layout");
  return Save();
}

}  // namespace ps::targets::local
