#include "security/iac.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/fs.h"
#include "core/yaml.h"
#include "security/secrets.h"

namespace ps::security {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string TrimWs(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}
// glibc's memmem: 2.4x string_view::find over YAML files (that one stops
// at every first letter of the needle and compares).
bool Contains(std::string_view s, std::string_view needle) {
  return ::memmem(s.data(), s.size(), needle.data(), needle.size()) != nullptr;
}

}  // namespace

const std::vector<IacRule>& BuiltinIacRules() {
  static const std::vector<IacRule> kRules = {
      {"DF001", "dockerfile", "Base image not pinned", "medium",
       "Use a version tag (or a digest) in FROM so that builds are repeatable; never :latest."},
      {"DF002", "dockerfile", "Container runs as root", "medium",
       "Create an unprivileged user and switch to it with USER in the final stage."},
      {"DF003", "dockerfile", "No HEALTHCHECK", "low",
       "Add a HEALTHCHECK that calls the service's health route."},
      {"DF004", "dockerfile", "Secret written into the image", "high",
       "Pass secrets at run time (environment or a secret mount), never in ENV or ARG."},
      {"DF005", "dockerfile", "ADD downloads from a URL without a checksum", "medium",
       "Use ADD --checksum=sha256:... or download and verify in a RUN step."},
      {"DF006", "dockerfile", "Package install without cleanup", "low",
       "apt-get install --no-install-recommends ... && rm -rf /var/lib/apt/lists/* in the same "
       "RUN; apk add --no-cache; yum/dnf ... && yum/dnf clean all."},
      {"DF007", "dockerfile", "Remote script piped into a shell", "medium",
       "Download the script, verify its checksum or signature, then run it."},
      {"K8S001", "kubernetes", "Privileged container", "critical",
       "Remove securityContext.privileged; grant only the capabilities the process needs."},
      {"K8S002", "kubernetes", "hostPath volume", "high",
       "Use a persistentVolumeClaim, emptyDir, configMap or secret instead of the node's files."},
      {"K8S003", "kubernetes", "Container may run as root", "medium",
       "Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) on the pod or "
       "container."},
      {"K8S004", "kubernetes", "No CPU or memory limits", "medium",
       "Set resources.limits.cpu and resources.limits.memory on every container."},
      {"K8S005", "kubernetes", "Image with the latest tag or no tag", "medium",
       "Reference images by a version tag or a digest."},
      {"K8S006", "kubernetes", "Host namespaces shared", "high",
       "Remove hostNetwork, hostPID and hostIPC from the pod spec."},
      {"K8S007", "kubernetes", "Privilege escalation allowed", "low",
       "Set securityContext.allowPrivilegeEscalation: false on every container."},
      {"K8S008", "kubernetes", "Dangerous capabilities added", "high",
       "Drop ALL capabilities and add back only what is needed (never SYS_ADMIN, NET_ADMIN or "
       "ALL)."},
      {"TF001", "terraform", "Publicly readable storage bucket", "high",
       "Keep buckets private (block public ACLs and policies); serve public files through a CDN "
       "with an origin access identity."},
      {"TF002", "terraform", "Admin or database port open to the internet", "critical",
       "Restrict ingress on SSH, RDP and database ports to known address ranges or a bastion/VPN."},
      {"TF003", "terraform", "Storage or database not encrypted at rest", "high",
       "Enable encryption at rest (storage_encrypted, encrypted, at_rest_encryption_enabled)."},
      {"TF004", "terraform", "IAM policy grants every action", "high",
       "Grant only the actions and resources the principal needs; never Action \"*\" on Resource "
       "\"*\"."},
      {"TF005", "terraform", "Database without deletion protection", "medium",
       "Set deletion_protection = true on production databases."},
      {"TF006", "terraform", "Database reachable from the internet", "high",
       "Set publicly_accessible = false and reach the database through the private network."},
  };
  return kRules;
}

const IacRule* FindIacRule(std::string_view id) {
  for (const auto& r : BuiltinIacRules()) {
    if (id == r.id) return &r;
  }
  return nullptr;
}

Json IacFinding::ToJson() const {
  Json j = {{"rule", rule_id},
            {"severity", severity},
            {"title", title},
            {"message", message},
            {"file", file},
            {"line", line},
            {"remediation", remediation},
            {"fingerprint", Fingerprint()}};
  if (!resource.empty()) j["resource"] = resource;
  return j;
}

std::string IacFinding::Fingerprint() const {
  return Sha256Hex(rule_id + "\n" + file + "\n" + resource + "\n" + message).substr(0, 32);
}

namespace {

IacFinding Make(const char* rule, const std::string& file, int line, const std::string& resource,
                std::string message) {
  const IacRule* r = FindIacRule(rule);
  IacFinding f;
  f.rule_id = rule;
  f.severity = r ? r->severity : "medium";
  f.title = r ? r->title : rule;
  f.remediation = r ? r->remediation : "";
  f.message = std::move(message);
  f.file = file;
  f.line = line;
  f.resource = resource;
  return f;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string BaseName(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

std::string IacKindOf(std::string_view path, std::string_view content) {
  const std::string base = BaseName(path);
  const std::string lower = Lower(base);
  if (lower == "dockerfile" || lower.rfind("dockerfile.", 0) == 0 ||
      EndsWith(lower, ".dockerfile") || lower == "containerfile") {
    return "dockerfile";
  }
  if (EndsWith(lower, ".tf")) return "terraform";
  if ((EndsWith(lower, ".yaml") || EndsWith(lower, ".yml")) && Contains(content, "apiVersion:") &&
      Contains(content, "kind:")) {
    return "kubernetes";
  }
  return "";
}

// --- Dockerfiles -----------------------------------------------------------------

std::vector<DockerInstruction> ParseDockerfile(std::string_view text) {
  std::vector<DockerInstruction> out;
  std::string pending;
  int n = 0, start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++n;
    std::string t = TrimWs(line);
    if (pending.empty() && (t.empty() || t[0] == '#')) continue;
    if (pending.empty()) start = n;
    if (!t.empty() && t.back() == '\\') {
      pending += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    if (!t.empty() && t[0] == '#') continue;  // comments inside continuations
    pending += t;
    auto sp = pending.find_first_of(" \t");
    DockerInstruction ins;
    ins.op = Upper(pending.substr(0, sp));
    ins.args = sp == std::string::npos ? "" : TrimWs(pending.substr(sp + 1));
    ins.line = start;
    out.push_back(std::move(ins));
    pending.clear();
  }
  return out;
}

namespace {

// ENV NAME=value / ENV NAME value / ARG NAME=value with a secret-named key
// and a literal value (not a ${REFERENCE}, not empty).
std::optional<std::string> SecretAssignment(const std::string& args) {
  std::istringstream in(args);
  std::string first;
  in >> first;
  std::vector<std::pair<std::string, std::string>> pairs;
  if (first.find('=') != std::string::npos) {
    // Possibly several NAME=value pairs.
    std::string word = first;
    do {
      auto eq = word.find('=');
      if (eq != std::string::npos) pairs.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    } while (in >> word);
  } else {
    std::string rest;
    std::getline(in, rest);
    pairs.emplace_back(first, TrimWs(rest));
  }
  for (auto& [name, value] : pairs) {
    value.erase(0, value.find_first_not_of(" \"'"));
    if (IsSecretName(name) && !value.empty() && value[0] != '$') {
      return name;
    }
  }
  return std::nullopt;
}

bool PipesRemoteScriptToShell(const std::string& run) {
  const bool fetch = Contains(run, "curl ") || Contains(run, "wget ");
  if (!fetch) return false;
  for (const char* sh :
       {"| sh", "|sh", "| bash", "|bash", "| sudo sh", "| sudo bash", "| python"}) {
    if (Contains(run, sh)) return true;
  }
  return false;
}

}  // namespace

std::vector<IacFinding> CheckDockerfile(const std::string& path, std::string_view text) {
  std::vector<IacFinding> out;
  const auto ins = ParseDockerfile(text);
  std::size_t last_from = 0;
  bool any_from = false;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    if (ins[i].op == "FROM") last_from = i, any_from = true;
  }
  if (!any_from) return out;  // not a Dockerfile we can judge
  std::set<std::string> stages;
  std::map<std::string, std::string> args;  // ARG defaults, for FROM ${X}
  bool user = false, root_user = false, health = false;
  int root_line = 0;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    const auto& x = ins[i];
    if (x.op == "FROM") {
      std::istringstream in(x.args);
      std::string image, as, name;
      in >> image;
      while (!image.empty() && image.rfind("--", 0) == 0) {  // --platform=...
        if (!(in >> image)) image.clear();  // "FROM --x" and nothing after: no image
      }
      if (in >> as >> name) stages.insert(Lower(name));
      if (image.empty() || stages.count(Lower(image)) || image == "scratch" ||
          image.find('$') != std::string::npos) {
        continue;
      }
      const auto colon = image.rfind(':');
      const bool digest = image.find('@') != std::string::npos;
      const bool tagged =
          digest || (colon != std::string::npos && image.find('/', colon) == std::string::npos);
      if (!tagged || (!digest && image.substr(colon + 1) == "latest")) {
        out.push_back(Make("DF001", path, x.line, "", "base image '" + image + "' is not pinned"));
      }
    }
    if (i < last_from) continue;
    if (x.op == "USER") {
      user = true;
      const std::string u = x.args.substr(0, x.args.find(':'));
      root_user = u == "root" || u == "0";
      if (root_user) root_line = x.line;
    }
    // HEALTHCHECK NONE is a stated decision (a worker without a route), not an omission.
    if (x.op == "HEALTHCHECK") health = true;
  }
  for (const auto& x : ins) {
    if (x.op == "ENV" || x.op == "ARG") {
      if (auto name = SecretAssignment(x.args)) {
        out.push_back(Make("DF004", path, x.line, "",
                           "a secret is written into the image (" + x.op + " " + *name + ")"));
      }
    }
    if (x.op == "ADD" && (Contains(x.args, "http://") || Contains(x.args, "https://")) &&
        !Contains(x.args, "--checksum=")) {
      out.push_back(Make("DF005", path, x.line, "", "ADD downloads a file without checking it"));
    }
    if (x.op == "RUN") {
      const std::string& r = x.args;
      if (Contains(r, "apt-get install") || Contains(r, "apt install")) {
        if (!Contains(r, "--no-install-recommends")) {
          out.push_back(
              Make("DF006", path, x.line, "", "apt-get install pulls recommended packages too"));
        } else if (!Contains(r, "/var/lib/apt/lists")) {
          out.push_back(Make("DF006", path, x.line, "",
                             "apt-get install leaves the package lists in the image"));
        }
      }
      if (Contains(r, "apk add") && !Contains(r, "--no-cache")) {
        out.push_back(Make("DF006", path, x.line, "", "apk add keeps its cache in the image"));
      }
      for (const char* pm : {"yum install", "dnf install"}) {
        if (Contains(r, pm) && !Contains(r, "clean all")) {
          out.push_back(Make("DF006", path, x.line, "",
                             std::string(pm).substr(0, 3) + " install without '" +
                                 std::string(pm).substr(0, 3) + " clean all'"));
        }
      }
      if (PipesRemoteScriptToShell(r)) {
        out.push_back(
            Make("DF007", path, x.line, "", "a downloaded script is run without verification"));
      }
    }
  }
  if (!user || root_user) {
    out.push_back(Make("DF002", path, root_line, "", "the container runs as root"));
  }
  if (!health) out.push_back(Make("DF003", path, 0, "", "no HEALTHCHECK"));
  std::stable_sort(out.begin(), out.end(),
                   [](const IacFinding& a, const IacFinding& b) { return a.line < b.line; });
  return out;
}

// --- Kubernetes --------------------------------------------------------------------

namespace {

int LineOf(const YAML::Node& n) {
  const auto m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

bool IsTrue(const YAML::Node& n) { return n && n.IsScalar() && Lower(n.Scalar()) == "true"; }

void CheckContainer(const YAML::Node& c, const YAML::Node& pod_sc, const std::string& path,
                    const std::string& resource, std::vector<IacFinding>& out) {
  if (!c.IsMap()) return;
  const std::string name = c["name"] && c["name"].IsScalar() ? c["name"].Scalar() : "?";
  const std::string where = "container '" + name + "'";
  const YAML::Node sc = c["securityContext"];
  const int line = LineOf(c);
  if (sc && sc.IsMap() && IsTrue(sc["privileged"])) {
    out.push_back(Make("K8S001", path, LineOf(sc), resource, where + " is privileged"));
  }
  auto run_as_non_root = [](const YAML::Node& s) {
    return s && s.IsMap() && IsTrue(s["runAsNonRoot"]);
  };
  auto run_as_user = [](const YAML::Node& s) -> std::optional<std::string> {
    if (s && s.IsMap() && s["runAsUser"] && s["runAsUser"].IsScalar())
      return s["runAsUser"].Scalar();
    return std::nullopt;
  };
  const auto user = run_as_user(sc) ? run_as_user(sc) : run_as_user(pod_sc);
  const bool nonroot =
      run_as_non_root(sc) || (run_as_non_root(pod_sc) && !(sc && sc.IsMap() && sc["runAsNonRoot"]));
  if ((user && *user == "0") || (!nonroot && !(user && *user != "0"))) {
    out.push_back(Make("K8S003", path, line, resource, where + " may run as root"));
  }
  const YAML::Node limits =
      c["resources"] && c["resources"].IsMap() ? c["resources"]["limits"] : YAML::Node();
  if (!limits || !limits.IsMap() || !limits["cpu"] || !limits["memory"]) {
    out.push_back(Make("K8S004", path, line, resource, where + " has no CPU or memory limit"));
  }
  if (c["image"] && c["image"].IsScalar()) {
    const std::string image = c["image"].Scalar();
    const auto colon = image.rfind(':');
    const bool digest = image.find('@') != std::string::npos;
    const bool tagged =
        digest || (colon != std::string::npos && image.find('/', colon) == std::string::npos);
    if (!tagged || (!digest && image.substr(colon + 1) == "latest")) {
      out.push_back(Make("K8S005", path, LineOf(c["image"]), resource,
                         where + " uses image '" + image + "' without a version"));
    }
  }
  if (!(sc && sc.IsMap() && sc["allowPrivilegeEscalation"] &&
        sc["allowPrivilegeEscalation"].IsScalar() &&
        Lower(sc["allowPrivilegeEscalation"].Scalar()) == "false")) {
    out.push_back(
        Make("K8S007", path, line, resource, where + " does not forbid privilege escalation"));
  }
  if (sc && sc.IsMap() && sc["capabilities"] && sc["capabilities"].IsMap()) {
    const YAML::Node add = sc["capabilities"]["add"];
    if (add && add.IsSequence()) {
      for (const auto& cap : add) {
        if (!cap.IsScalar()) continue;
        std::string v = Upper(cap.Scalar());
        if (v.rfind("CAP_", 0) == 0) v = v.substr(4);
        if (v == "SYS_ADMIN" || v == "NET_ADMIN" || v == "ALL" || v == "SYS_PTRACE" ||
            v == "SYS_MODULE") {
          out.push_back(
              Make("K8S008", path, LineOf(cap), resource, where + " adds capability " + v));
        }
      }
    }
  }
}

void CheckPodSpec(const YAML::Node& spec, const std::string& path, const std::string& resource,
                  std::vector<IacFinding>& out) {
  if (!spec || !spec.IsMap()) return;
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (IsTrue(spec[host])) {
      out.push_back(
          Make("K8S006", path, LineOf(spec[host]), resource, std::string(host) + " is on"));
    }
  }
  if (spec["volumes"] && spec["volumes"].IsSequence()) {
    for (const auto& v : spec["volumes"]) {
      if (v.IsMap() && v["hostPath"]) {
        const std::string p =
            v["hostPath"].IsMap() && v["hostPath"]["path"] && v["hostPath"]["path"].IsScalar()
                ? v["hostPath"]["path"].Scalar()
                : "?";
        out.push_back(Make("K8S002", path, LineOf(v), resource, "mounts the node's " + p));
      }
    }
  }
  const YAML::Node pod_sc = spec["securityContext"];
  for (const char* list : {"initContainers", "containers"}) {
    if (spec[list] && spec[list].IsSequence()) {
      for (const auto& c : spec[list]) CheckContainer(c, pod_sc, path, resource, out);
    }
  }
}

// The rules for one document of a manifest.
void CheckManifest(const YAML::Node& doc, const std::string& path, std::vector<IacFinding>& out) {
  if (!doc.IsMap() || !doc["kind"] || !doc["kind"].IsScalar()) return;
  const std::string kind = doc["kind"].Scalar();
  const std::string name = doc["metadata"] && doc["metadata"].IsMap() && doc["metadata"]["name"] &&
                                   doc["metadata"]["name"].IsScalar()
                               ? doc["metadata"]["name"].Scalar()
                               : "?";
  const std::string resource = kind + "/" + name;
  const YAML::Node spec = doc["spec"];
  if (!spec || !spec.IsMap()) return;
  if (kind == "Pod") {
    CheckPodSpec(spec, path, resource, out);
  } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
             kind == "ReplicaSet" || kind == "Job" || kind == "ReplicationController") {
    if (spec["template"] && spec["template"].IsMap())
      CheckPodSpec(spec["template"]["spec"], path, resource, out);
  } else if (kind == "CronJob") {
    const YAML::Node jt = spec["jobTemplate"];
    if (jt && jt.IsMap() && jt["spec"] && jt["spec"].IsMap() && jt["spec"]["template"] &&
        jt["spec"]["template"].IsMap()) {
      CheckPodSpec(jt["spec"]["template"]["spec"], path, resource, out);
    }
  }
}

}  // namespace

std::vector<IacFinding> CheckKubernetes(const std::string& path, std::string_view text,
                                        std::vector<std::string>* warnings) {
  std::vector<IacFinding> out;
  if (!YamlNestingWithinLimit(text)) {
    if (warnings) warnings->push_back("nested too deeply; not checked");
    return out;
  }
  std::vector<YamlDocument> docs;
  try {
    docs = LoadYamlStream(text);
  } catch (const YAML::Exception& e) {
    if (warnings) warnings->push_back("malformed YAML: " + e.msg);
    return out;
  }
  try {
    for (const auto& [doc, first_line] : docs) {
      const std::size_t before = out.size();
      CheckManifest(doc, path, out);
      // Marks count from the document's own first line.
      for (std::size_t i = before; i < out.size(); ++i)
        if (out[i].line > 0) out[i].line += first_line;
    }
  } catch (const YAML::Exception& e) {
    if (warnings) warnings->push_back("unexpected YAML shape: " + e.msg);
  }
  return out;
}

// --- Terraform ----------------------------------------------------------------------

namespace {

struct HclAttr {
  std::string raw;  // the expression's text
  int line = 0;
};

struct HclBlock {
  std::string type;
  std::vector<std::string> labels;
  int line = 0;
  std::map<std::string, HclAttr> attrs;
  std::vector<HclBlock> blocks;
};

// A reader of HCL's structure (blocks, labels, attributes); expressions are
// kept as text, which the rules read with the helpers below.
class HclParser {
 public:
  explicit HclParser(std::string_view s) : s_(s) {}
  bool Parse(HclBlock& root) {
    if (!Body(root, 0, false)) return false;
    return true;
  }
  std::string error() const { return error_ + " (line " + std::to_string(line_) + ")"; }

 private:
  bool Fail(std::string why) {
    error_ = std::move(why);
    return false;
  }
  // Skips spaces, newlines and comments.
  void Skip(bool newlines = true) {
    while (pos_ < s_.size()) {
      const char ch = s_[pos_];
      if (ch == '\n') {
        if (!newlines) return;
        ++line_, ++pos_;
      } else if (ch == ' ' || ch == '\t' || ch == '\r') {
        ++pos_;
      } else if (ch == '#' || (ch == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/')) {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (ch == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        pos_ = std::min(pos_ + 2, s_.size());
        while (pos_ + 1 < s_.size() && !(s_[pos_] == '*' && s_[pos_ + 1] == '/')) {
          if (s_[pos_] == '\n') ++line_;
          ++pos_;
        }
        pos_ = std::min(pos_ + 2, s_.size());
      } else {
        return;
      }
    }
  }
  std::string Ident() {
    const std::size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '-')) {
      ++pos_;
    }
    return std::string(s_.substr(b, pos_ - b));
  }
  // A quoted string (templates and nested strings inside them), from '"'.
  bool String(int depth) {
    if (depth > 32) return Fail("templates nested too deeply");
    ++pos_;
    int tdepth = 0;
    while (pos_ < s_.size()) {
      const char ch = s_[pos_];
      if (ch == '\\') {
        pos_ = std::min(pos_ + 2, s_.size());
        continue;
      }
      if (ch == '\n') {
        if (tdepth == 0) return Fail("unterminated string");
        ++line_;
      }
      if ((ch == '$' || ch == '%') && pos_ + 1 < s_.size() && s_[pos_ + 1] == '{') {
        ++tdepth;
        pos_ = std::min(pos_ + 2, s_.size());
        continue;
      }
      if (ch == '}' && tdepth > 0) --tdepth;
      if (ch == '"') {
        if (tdepth == 0) {
          ++pos_;
          return true;
        }
        if (!String(depth + 1)) return false;
        continue;
      }
      ++pos_;
    }
    return Fail("unterminated string");
  }
  // An expression's text: to the end of the line outside brackets.
  bool Expression(std::string& out) {
    const std::size_t b = pos_;
    int depth = 0;
    while (pos_ < s_.size()) {
      const char ch = s_[pos_];
      if (ch == '"') {
        if (!String(0)) return false;
        continue;
      }
      if (ch == '<' && s_.substr(pos_, 2) == "<<") {
        // Heredoc: <<EOF or <<-EOF ... EOF
        std::size_t p = pos_ + 2;
        if (p < s_.size() && s_[p] == '-') ++p;
        const std::size_t tb = p;
        while (p < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p])) || s_[p] == '_'))
          ++p;
        const std::string tag(s_.substr(tb, p - tb));
        if (!tag.empty()) {
          auto nl = s_.find('\n', p);
          while (nl != std::string_view::npos) {
            ++line_;
            const auto next = s_.find('\n', nl + 1);
            const std::string l = TrimWs(s_.substr(
                nl + 1, next == std::string_view::npos ? std::string_view::npos : next - nl - 1));
            if (l == tag) {
              pos_ = next == std::string_view::npos ? s_.size() : next;
              break;
            }
            nl = next;
          }
          if (nl == std::string_view::npos) return Fail("unterminated heredoc");
          continue;
        }
      }
      const bool line_comment =
          ch == '#' || (ch == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/');
      if (line_comment && depth == 0) break;  // the attribute ends here
      if (line_comment || (ch == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*')) {
        Skip(false);  // stops before the newline
        continue;
      }
      if (ch == '(' || ch == '[' || ch == '{') ++depth;
      if (ch == ')' || ch == ']' || ch == '}') {
        if (depth == 0) break;  // closes the enclosing one-line block
        --depth;
      }
      if (ch == '\n') {
        if (depth == 0) break;
        ++line_;
      }
      ++pos_;
    }
    if (depth != 0) return Fail("unbalanced brackets");
    out = TrimWs(s_.substr(b, pos_ - b));
    return true;
  }
  bool Body(HclBlock& block, int depth, bool braced) {
    if (depth > 64) return Fail("blocks nested too deeply");
    while (true) {
      Skip();
      if (pos_ >= s_.size()) return braced ? Fail("missing '}'") : true;
      if (s_[pos_] == '}') {
        if (!braced) return Fail("unexpected '}'");
        ++pos_;
        return true;
      }
      const int start_line = line_;
      const std::string name = Ident();
      if (name.empty()) return Fail(std::string("unexpected '") + s_[pos_] + "'");
      Skip(false);
      if (pos_ < s_.size() && (s_[pos_] == '=' || s_[pos_] == ':') && s_.substr(pos_, 2) != "==") {
        ++pos_;
        Skip(false);
        HclAttr a;
        a.line = start_line + 1;
        if (!Expression(a.raw)) return false;
        block.attrs[name] = std::move(a);
        continue;
      }
      HclBlock child;
      child.type = name;
      child.line = start_line + 1;
      while (pos_ < s_.size() && s_[pos_] != '{') {
        if (s_[pos_] == '"') {
          const std::size_t b = pos_;
          if (!String(0)) return false;
          child.labels.emplace_back(s_.substr(b + 1, pos_ - b - 2));
        } else {
          const std::string label = Ident();
          if (label.empty()) return Fail("expected a block label or '{' after " + name);
          child.labels.push_back(label);
        }
        Skip(false);
      }
      if (pos_ >= s_.size()) return Fail("missing '{' after " + name);
      ++pos_;
      if (!Body(child, depth + 1, true)) return false;
      block.blocks.push_back(std::move(child));
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int line_ = 0;
  std::string error_;
};

// "\"public-read\"" -> "public-read"; nullopt for non-literals.
std::optional<std::string> Literal(const HclBlock& b, const char* attr) {
  auto it = b.attrs.find(attr);
  if (it == b.attrs.end()) return std::nullopt;
  const std::string& r = it->second.raw;
  if (r.size() >= 2 && r.front() == '"' && r.back() == '"' && r.find("${") == std::string::npos) {
    return r.substr(1, r.size() - 2);
  }
  return r;
}

bool AttrIs(const HclBlock& b, const char* attr, std::string_view value) {
  auto v = Literal(b, attr);
  return v && Lower(*v) == value;
}

// Quoted strings of a list attribute.
std::vector<std::string> Strings(const HclBlock& b, const char* attr) {
  std::vector<std::string> out;
  auto it = b.attrs.find(attr);
  if (it == b.attrs.end()) return out;
  const std::string& r = it->second.raw;
  std::size_t p = 0;
  while ((p = r.find('"', p)) != std::string::npos) {
    auto e = r.find('"', p + 1);
    if (e == std::string::npos) break;
    out.push_back(r.substr(p + 1, e - p - 1));
    p = e + 1;
  }
  return out;
}

std::optional<long> Number(const HclBlock& b, const char* attr) {
  auto v = Literal(b, attr);
  if (!v || v->empty()) return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(v->c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return n;
}

int LineOfAttr(const HclBlock& b, const char* attr) {
  auto it = b.attrs.find(attr);
  return it == b.attrs.end() ? b.line : it->second.line;
}

const std::map<long, const char*>& SensitivePorts() {
  static const std::map<long, const char*> kPorts = {
      {22, "SSH"},          {23, "Telnet"},          {3389, "RDP"},        {5432, "PostgreSQL"},
      {3306, "MySQL"},      {1433, "SQL Server"},    {1521, "Oracle"},     {6379, "Redis"},
      {27017, "MongoDB"},   {9200, "Elasticsearch"}, {11211, "Memcached"}, {5984, "CouchDB"},
      {2375, "Docker API"}, {2376, "Docker API"},    {9042, "Cassandra"},  {5601, "Kibana"}};
  return kPorts;
}

// The first sensitive port in [from, to], or "all ports".
std::optional<std::string> SensitiveIn(long from, long to) {
  if (from <= 0 && (to <= 0 || to >= 65535)) return std::string("all ports");
  for (const auto& [port, name] : SensitivePorts()) {
    if (port >= from && port <= to) return std::string(name) + " (" + std::to_string(port) + ")";
  }
  return std::nullopt;
}

bool OpenToWorld(const std::vector<std::string>& cidrs) {
  return std::any_of(cidrs.begin(), cidrs.end(), [](const std::string& c) {
    return c == "0.0.0.0/0" || c == "::/0" || c == "*" || Lower(c) == "internet" || c == "any";
  });
}

// Ports of a "22", "8000-9000", "*" port expression.
std::pair<long, long> PortRange(const std::string& p) {
  if (p == "*" || p.empty()) return {0, 65535};
  auto dash = p.find('-');
  char* end = nullptr;
  const long a = std::strtol(p.c_str(), &end, 10);
  if (dash == std::string::npos) return {a, a};
  return {a, std::strtol(p.c_str() + dash + 1, &end, 10)};
}

bool PolicyAllowsEverything(const std::string& raw) {
  // "Action": "*" / Action = "*" / "Action": ["*"], together with a "*" resource.
  auto star_after = [&](const char* key) {
    for (std::size_t p = raw.find(key); p != std::string::npos; p = raw.find(key, p + 1)) {
      std::size_t q = p + std::char_traits<char>::length(key);
      while (q < raw.size() && (raw[q] == '"' || raw[q] == ' ' || raw[q] == '\\')) ++q;
      if (q < raw.size() && (raw[q] == ':' || raw[q] == '=')) ++q;
      while (q < raw.size() && (raw[q] == ' ' || raw[q] == '[' || raw[q] == '\\' || raw[q] == '\n'))
        ++q;
      if (raw.compare(q, 3, "\"*\"") == 0 || raw.compare(q, 5, "\\\"*\\\"") == 0) return true;
    }
    return false;
  };
  return (star_after("Action") || star_after("actions")) &&
         (star_after("Resource") || star_after("resources"));
}

void CheckResource(const HclBlock& r, const std::string& path, std::vector<IacFinding>& out) {
  if (r.labels.size() < 2) return;
  const std::string& type = r.labels[0];
  const std::string res = type + "." + r.labels[1];
  auto add = [&](const char* rule, int line, std::string msg) {
    out.push_back(Make(rule, path, line, res, std::move(msg)));
  };
  // TF001: public buckets.
  if ((type == "aws_s3_bucket" || type == "aws_s3_bucket_acl") &&
      (AttrIs(r, "acl", "public-read") || AttrIs(r, "acl", "public-read-write"))) {
    add("TF001", LineOfAttr(r, "acl"), "the bucket's ACL is " + *Literal(r, "acl"));
  }
  if (type == "aws_s3_bucket_public_access_block") {
    for (const char* a : {"block_public_acls", "block_public_policy", "ignore_public_acls",
                          "restrict_public_buckets"}) {
      if (AttrIs(r, a, "false")) add("TF001", LineOfAttr(r, a), std::string(a) + " is false");
    }
  }
  if (type == "google_storage_bucket_iam_member" || type == "google_storage_bucket_iam_binding") {
    for (const char* a : {"member", "members"}) {
      for (const auto& m : Strings(r, a)) {
        if (m == "allUsers" || m == "allAuthenticatedUsers") {
          add("TF001", LineOfAttr(r, a), "the bucket is granted to " + m);
        }
      }
    }
  }
  if (type == "azurerm_storage_container" && (AttrIs(r, "container_access_type", "blob") ||
                                              AttrIs(r, "container_access_type", "container"))) {
    add("TF001", LineOfAttr(r, "container_access_type"), "the container allows anonymous reads");
  }
  if (type == "azurerm_storage_account" && AttrIs(r, "allow_nested_items_to_be_public", "true")) {
    add("TF001", LineOfAttr(r, "allow_nested_items_to_be_public"), "blobs may be made public");
  }
  // TF002: admin/database ports open to the world.
  auto check_rule = [&](const HclBlock& b, const std::vector<std::string>& cidrs, int line) {
    if (!OpenToWorld(cidrs)) return;
    const long from = Number(b, "from_port").value_or(0);
    const long to = Number(b, "to_port").value_or(from);
    const bool all = AttrIs(b, "protocol", "-1") || AttrIs(b, "protocol", "all") ||
                     AttrIs(b, "ip_protocol", "-1");
    if (auto what = all ? std::optional<std::string>("all ports") : SensitiveIn(from, to)) {
      add("TF002", line, *what + " open to " + (cidrs.empty() ? "the internet" : cidrs.front()));
    }
  };
  if (type == "aws_security_group") {
    for (const auto& b : r.blocks) {
      if (b.type != "ingress") continue;
      auto cidrs = Strings(b, "cidr_blocks");
      for (auto& c : Strings(b, "ipv6_cidr_blocks")) cidrs.push_back(c);
      check_rule(b, cidrs, b.line);
    }
  }
  if (type == "aws_security_group_rule" && AttrIs(r, "type", "ingress")) {
    auto cidrs = Strings(r, "cidr_blocks");
    for (auto& c : Strings(r, "ipv6_cidr_blocks")) cidrs.push_back(c);
    check_rule(r, cidrs, r.line);
  }
  if (type == "aws_vpc_security_group_ingress_rule") {
    std::vector<std::string> cidrs;
    for (const char* a : {"cidr_ipv4", "cidr_ipv6"}) {
      if (auto v = Literal(r, a)) cidrs.push_back(*v);
    }
    check_rule(r, cidrs, r.line);
  }
  if (type == "google_compute_firewall" && !AttrIs(r, "direction", "egress")) {
    const auto ranges = Strings(r, "source_ranges");
    if (OpenToWorld(ranges)) {
      for (const auto& allow : r.blocks) {
        if (allow.type != "allow") continue;
        const auto ports = Strings(allow, "ports");
        if (ports.empty() &&
            (AttrIs(allow, "protocol", "all") || AttrIs(allow, "protocol", "tcp"))) {
          add("TF002", allow.line, "all ports open to " + ranges.front());
        }
        for (const auto& p : ports) {
          auto [a, b] = PortRange(p);
          if (auto what = SensitiveIn(a, b))
            add("TF002", allow.line, *what + " open to " + ranges.front());
        }
      }
    }
  }
  if (type == "azurerm_network_security_rule" && AttrIs(r, "direction", "inbound") &&
      AttrIs(r, "access", "allow")) {
    std::vector<std::string> src;
    if (auto v = Literal(r, "source_address_prefix")) src.push_back(*v);
    if (OpenToWorld(src)) {
      auto [a, b] = PortRange(Literal(r, "destination_port_range").value_or("*"));
      if (auto what = SensitiveIn(a, b)) add("TF002", r.line, *what + " open to " + src.front());
    }
  }
  // TF003: encryption at rest.
  if ((type == "aws_db_instance" || type == "aws_rds_cluster") &&
      !AttrIs(r, "storage_encrypted", "true")) {
    add("TF003", LineOfAttr(r, "storage_encrypted"), "storage_encrypted is not true");
  }
  if ((type == "aws_ebs_volume" || type == "aws_efs_file_system") &&
      !AttrIs(r, "encrypted", "true")) {
    add("TF003", LineOfAttr(r, "encrypted"), "encrypted is not true");
  }
  if (type == "aws_elasticache_replication_group" &&
      !AttrIs(r, "at_rest_encryption_enabled", "true")) {
    add("TF003", LineOfAttr(r, "at_rest_encryption_enabled"),
        "at_rest_encryption_enabled is not true");
  }
  // TF004: wildcard IAM.
  if (type == "aws_iam_policy" || type == "aws_iam_role_policy" || type == "aws_iam_user_policy" ||
      type == "aws_iam_group_policy") {
    auto it = r.attrs.find("policy");
    if (it != r.attrs.end() && PolicyAllowsEverything(it->second.raw)) {
      add("TF004", it->second.line, "the policy allows every action on every resource");
    }
  }
  if ((type == "google_project_iam_member" || type == "google_project_iam_binding") &&
      (AttrIs(r, "role", "roles/owner") || AttrIs(r, "role", "roles/editor"))) {
    add("TF004", LineOfAttr(r, "role"), "grants the primitive role " + *Literal(r, "role"));
  }
  // TF005 / TF006: databases.
  if ((type == "aws_db_instance" || type == "aws_rds_cluster") &&
      !AttrIs(r, "deletion_protection", "true")) {
    add("TF005", LineOfAttr(r, "deletion_protection"), "deletion_protection is not true");
  }
  if (type == "google_sql_database_instance" && AttrIs(r, "deletion_protection", "false")) {
    add("TF005", LineOfAttr(r, "deletion_protection"), "deletion_protection is false");
  }
  if (type == "aws_db_instance" && AttrIs(r, "publicly_accessible", "true")) {
    add("TF006", LineOfAttr(r, "publicly_accessible"), "publicly_accessible is true");
  }
  if (type == "google_sql_database_instance") {
    for (const auto& settings : r.blocks) {
      for (const auto& ip : settings.blocks) {
        if (ip.type != "ip_configuration") continue;
        for (const auto& net : ip.blocks) {
          if (net.type == "authorized_networks" &&
              OpenToWorld({Literal(net, "value").value_or("")})) {
            add("TF006", net.line, "authorized_networks admits 0.0.0.0/0");
          }
        }
      }
    }
  }
}

void CheckPolicyDocument(const HclBlock& d, const std::string& path, std::vector<IacFinding>& out) {
  if (d.labels.size() < 2 || d.labels[0] != "aws_iam_policy_document") return;
  for (const auto& st : d.blocks) {
    if (st.type != "statement" || AttrIs(st, "effect", "deny")) continue;
    const auto actions = Strings(st, "actions");
    const auto resources = Strings(st, "resources");
    if (std::count(actions.begin(), actions.end(), "*") &&
        std::count(resources.begin(), resources.end(), "*")) {
      out.push_back(Make("TF004", path, st.line, "data.aws_iam_policy_document." + d.labels[1],
                         "a statement allows every action on every resource"));
    }
  }
}

}  // namespace

std::vector<IacFinding> CheckTerraform(const std::string& path, std::string_view text,
                                       std::vector<std::string>* warnings) {
  std::vector<IacFinding> out;
  HclBlock root;
  HclParser parser(text);
  if (!parser.Parse(root)) {
    if (warnings) warnings->push_back("not readable as HCL: " + parser.error());
    return out;
  }
  for (const auto& b : root.blocks) {
    if (b.type == "resource") CheckResource(b, path, out);
    if (b.type == "data") CheckPolicyDocument(b, path, out);
  }
  return out;
}

std::vector<IacFinding> CheckIacFile(const std::string& path, std::string_view text,
                                     std::vector<std::string>* warnings) {
  const std::string kind = IacKindOf(path, text);
  if (kind == "dockerfile") return CheckDockerfile(path, text);
  if (kind == "kubernetes") return CheckKubernetes(path, text, warnings);
  if (kind == "terraform") return CheckTerraform(path, text, warnings);
  return {};
}

}  // namespace ps::security
