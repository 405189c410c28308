// `prodsprint check --gate security` and `prodsprint db` end to end, with
// the real binary: a repository with lockfiles of three ecosystems,
// Dockerfile / Kubernetes / Terraform findings, a license policy, the
// advisory set of tests/fixtures/osv; SBOMs validated against the published
// CycloneDX 1.5 schema and SPDX 2.3's rules; baselines and ignores.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <set>

#include <filesystem>

#include "core/json.h"
#include "security/secrets.h"
#include "testing/testing.h"

namespace ps {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = PS_SOURCE_DIR;
const fs::path kSchemas =
    kSource / "build/tools/node_modules/@cyclonedx/cyclonedx-library/res/schema";

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    db_ = (dir_ / "advisories.db").string();
    env_ = {"NO_COLOR=1", "PRODSPRINT_ADVISORY_DB=" + db_,
            "XDG_CACHE_HOME=" + (dir_ / "cache").string()};
    testing::WriteText(repo_ / "LICENSE",
                       "MIT License\n\nPermission is hereby granted, free of charge, to any "
                       "person obtaining a copy\nof this software...\n");
    testing::WriteText(
        repo_ / "web/package.json",
        R"({"name": "web", "dependencies": {"lodash": "^4", "express": "^4", "gpl-thing": "1"}})");
    testing::WriteText(repo_ / "web/package-lock.json", R"({"lockfileVersion": 3, "packages": {
      "": {"dependencies": {"lodash": "^4", "express": "^4", "gpl-thing": "1"}},
      "node_modules/lodash": {"version": "4.17.11", "license": "MIT"},
      "node_modules/express": {"version": "4.19.2", "license": "MIT", "dependencies": {"debug": "2"}},
      "node_modules/debug": {"version": "2.6.9", "license": "MIT"},
      "node_modules/gpl-thing": {"version": "1.0.0", "license": "GPL-3.0-only"}}})");
    testing::WriteText(repo_ / "api/requirements.txt", "urllib3==1.26.4\nflask==3.0.0\n");
    testing::WriteText(
        repo_ / "api/Dockerfile",
        "FROM python:3.12-slim\nENV SECRET_KEY=hunter2hunter2\nUSER 10001\nHEALTHCHECK NONE\n");
    testing::WriteText(repo_ / "deploy/web.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: web
      image: ghcr.io/acme/web:1.0.0
      securityContext: {privileged: true, runAsNonRoot: true, allowPrivilegeEscalation: false}
      resources: {limits: {cpu: 100m, memory: 64Mi}}
)");
    testing::WriteText(repo_ / "infra/main.tf", R"(resource "aws_security_group_rule" "ssh" {
  type        = "ingress"
  from_port   = 22
  to_port     = 22
  protocol    = "tcp"
  cidr_blocks = ["0.0.0.0/0"]
}
)");
  }

  testing::CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return testing::RunCommand(args, dir_.path(), env_);
  }

  testing::TempDir dir_;
  fs::path repo_;
  std::string db_;
  std::vector<std::string> env_;
};

TEST_F(GateTest, WithoutADatabaseVulnerabilitiesAreNotCheckedAndSaySo) {
  auto r = Run({"check", "--gate", "security", repo_.string(), "--json"});
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["vulnerabilities"]["checked"], false);
  EXPECT_NE(j["vulnerabilities"]["database"].get<std::string>().find("prodsprint db import"),
            std::string::npos);
  EXPECT_EQ(j["dependencies"]["components"], 6);
  r = Run({"db", "status"});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // not found
}

TEST_F(GateTest, FindsEverythingBlocksOnPolicyAndWritesStandardFiles) {
  auto imp = Run({"db", "import", (kSource / "tests/fixtures/osv").string(), "--json"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(Json::parse(imp.out)["imports"][0]["added"], 8);
  testing::WriteText(repo_ / "prodsprint.yaml",
                     "policy:\n  security:\n    licenses:\n      deny: [GPL-*, AGPL-*]\n");
  const auto sarif = (dir_ / "out.sarif").string();
  const auto cdx = (dir_ / "bom.cdx.json").string();
  auto r = Run(
      {"check", "--gate", "security", repo_.string(), "--json", "--sarif", sarif, "--sbom", cdx});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["passed"], false);
  // Vulnerabilities: lodash (critical, npm) and urllib3 (high, PyPI); express 4.19.2 is fixed.
  std::set<std::string> ids;
  for (const auto& v : j["vulnerabilities"]["list"])
    ids.insert(v["id"].get<std::string>() + " " + v["package"].get<std::string>());
  EXPECT_EQ(ids,
            (std::set<std::string>{"GHSA-jf85-cpcp-j695 lodash", "GHSA-q2q7-5pp4-w6pg urllib3"}));
  // License policy: the GPL package is denied; the project's own license read from LICENSE.
  ASSERT_EQ(j["licenses"]["list"].size(), 1u);
  EXPECT_EQ(j["licenses"]["list"][0]["package"], "gpl-thing");
  EXPECT_EQ(j["licenses"]["list"][0]["verdict"], "denied");
  EXPECT_EQ(j["licenses"]["project"], "MIT");
  // IaC: the secret in ENV (DF004, high), the privileged pod (K8S001, critical), SSH open (TF002).
  std::set<std::string> rules;
  for (const auto& f : j["iac"]) rules.insert(f["rule"].get<std::string>());
  EXPECT_EQ(rules, (std::set<std::string>{"DF004", "K8S001", "TF002"}));
  EXPECT_EQ(r.out.find("hunter2hunter2"), std::string::npos);
  EXPECT_EQ(j["blockers"].size(), 3u) << j["blockers"].dump();

  // SARIF names every kind of finding, each with a rule and a location.
  Json s = Json::parse(testing::ReadText(sarif));
  std::set<std::string> sarif_rules;
  for (const auto& res : s["runs"][0]["results"]) {
    sarif_rules.insert(res["ruleId"].get<std::string>());
    EXPECT_EQ(s["runs"][0]["tool"]["driver"]["rules"][res["ruleIndex"].get<int>()]["id"],
              res["ruleId"]);
    EXPECT_FALSE(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                     .get<std::string>()
                     .empty());
  }
  for (const char* id : {"GHSA-jf85-cpcp-j695", "GHSA-q2q7-5pp4-w6pg", "license-denied", "DF004",
                         "K8S001", "TF002"}) {
    EXPECT_TRUE(sarif_rules.count(id)) << id;
  }

  // The SBOMs: CycloneDX 1.5 against the published schema, SPDX 2.3 against its rules.
  ASSERT_TRUE(fs::exists(kSchemas / "bom-1.5.SNAPSHOT.schema.json"))
      << "run scripts/install-deps (it installs @cyclonedx/cyclonedx-library into build/tools)";
  auto v = testing::RunCommand(
      {"/usr/bin/python3", (kSource / "tests/security/validate_sbom.py").string(), "cyclonedx", cdx,
       kSchemas.string()},
      dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  Json bom = Json::parse(testing::ReadText(cdx));
  EXPECT_EQ(bom["specVersion"], "1.5");
  EXPECT_EQ(bom["components"].size(), 6u);
  EXPECT_EQ(bom["metadata"]["component"]["licenses"][0]["expression"], "MIT");
  const auto spdx = (dir_ / "bom.spdx.json").string();
  r = Run({"check", "--gate", "security", repo_.string(), "--sbom", spdx});
  v = testing::RunCommand(
      {"/usr/bin/python3", (kSource / "tests/security/validate_sbom.py").string(), "spdx", spdx},
      dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(Json::parse(testing::ReadText(spdx))["packages"].size(), 7u);  // the project and 6

  // Accepting today's findings: a baseline passes the gate; new findings still block.
  const auto baseline = (dir_ / "baseline.json").string();
  r = Run({"check", "--gate", "security", repo_.string(), "--write-baseline", baseline});
  EXPECT_EQ(r.exit_code, 1);
  r = Run({"check", "--gate", "security", repo_.string(), "--baseline", baseline, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Json::parse(r.out)["accepted"].size(), 6u);  // 2 advisories, 1 license, 3 rules
  testing::WriteText(repo_ / "infra/db.tf",
                     "resource \"aws_db_instance\" \"x\" {\n  publicly_accessible = true\n}\n");
  r = Run({"check", "--gate", "security", repo_.string(), "--baseline", baseline, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  // policy.security.ignore accepts by advisory id, alias or rule id.
  fs::remove(repo_ / "infra/db.tf");
  testing::WriteText(repo_ / "prodsprint.yaml",
                     "policy:\n  security:\n    ignore: [CVE-2019-10744, GHSA-q2q7-5pp4-w6pg, "
                     "DF004, K8S001, TF002]\n");
  r = Run({"check", "--gate", "security", repo_.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Human output says what was found and why it passes.
  r = Run({"check", "--gate", "security", repo_.string()});
  EXPECT_NE(r.out.find("PASSED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Accepted, not counted"), std::string::npos) << r.out;
}

TEST_F(GateTest, DbImportRefusesBadInputAndChangesNothing) {
  testing::WriteText(dir_ / "bad.zip", "PK\x03\x04 not really a zip");
  auto r = Run({"db", "import", (dir_ / "bad.zip").string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // the file is skipped, and said so
  EXPECT_EQ(Json::parse(r.out)["imports"][0]["skipped"].size(), 1u);
  r = Run({"db", "import", (dir_ / "missing").string()});
  EXPECT_EQ(r.exit_code, 3);
  r = Run({"db", "status", "--json"});
  EXPECT_EQ(Json::parse(r.out)["advisories"], 0);
  testing::WriteText(dir_ / "baseline.json", "[1, 2]");
  r = Run({"check", "--gate", "security", repo_.string(), "--baseline",
           (dir_ / "baseline.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Run(
      {"check", "--gate", "security", repo_.string(), "--sbom", "x.json", "--sbom-format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(GateTest, DbUpdateFetchesExportsOverHttp) {
  // OSV's layout (<base>/<ecosystem>/all.zip) served on loopback by Python's http.server.
  fs::create_directories(dir_ / "www/npm");
  auto zip = testing::RunCommand(
      {"/usr/bin/python3", "-c",
       "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); "
       "z.write(sys.argv[2],'GHSA-jf85-cpcp-j695.json'); z.close()",
       (dir_ / "www/npm/all.zip").string(),
       (kSource / "tests/fixtures/osv/GHSA-jf85-cpcp-j695.json").string()},
      dir_.path());
  ASSERT_EQ(zip.exit_code, 0) << zip.err;
  const std::string port_file = (dir_ / "port").string();
  // The server picks a free port and writes it down; killed when the test ends.
  auto server = testing::RunCommand(
      {"/bin/bash", "-c",
       "cd www && (python3 -c 'import http.server,socketserver,sys\n"
       "s=socketserver.TCPServer((\"127.0.0.1\",0),http.server.SimpleHTTPRequestHandler)\n"
       "open(sys.argv[1],\"w\").write(str(s.server_address[1]))\ns.handle_request()\ns.handle_"
       "request()' " +
           port_file + " >/dev/null 2>&1 &) ; for i in $(seq 100); do [ -s " + port_file +
           " ] && break; sleep 0.05; done; cat " + port_file},
      dir_.path());
  ASSERT_EQ(server.exit_code, 0);
  const std::string url = "http://127.0.0.1:" + server.out;
  auto r =
      Run({"db", "update", "--url", url, "--ecosystem", "npm", "--ecosystem", "PyPI", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // PyPI is not served: a partial update says so
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["updates"][0]["added"], 1);
  EXPECT_TRUE(j["updates"][1].contains("error"));
  r = Run({"db", "status", "--json"});
  EXPECT_EQ(Json::parse(r.out)["advisories"], 1);
  EXPECT_EQ(Json::parse(r.out)["meta"]["update_source"], url);
}

TEST_F(GateTest, ReadinessRunStoresSbomsAndEmitsSecurityPassedOrStopsUp) {
  // A passing repository: the readiness run's security stage stores the
  // SBOMs and SARIF as artifacts and emits security.passed.
  const fs::path ok = dir_ / "ok";
  testing::WriteText(ok / "package.json",
                     R"({"name": "ok", "scripts": {"start": "node s.js", "test": "node --test"}})");
  testing::WriteText(ok / "s.test.js", "require('node:test')('runs', () => {});\n");
  testing::WriteText(ok / "s.js",
                     "require('http').createServer((q, r) => r.end('ok'))"
                     ".listen(process.env.PORT || 3000)\n");
  const std::string state = (dir_ / "state").string();
  auto r = Run({"--state", state, "up", ok.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Json j = Json::parse(r.out);
  const Json& rr = j["readiness_run"];
  EXPECT_EQ(rr["run"]["status"], "done");
  std::set<std::string> names;
  for (const auto& a : rr["artifacts"]) {
    EXPECT_EQ(a["type"], "sbom");
    names.insert(a["name"].get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"sbom.cdx.json", "sbom.spdx.json", "security.sarif"}));
  EXPECT_EQ(j["checklist"]["ready"], true);
  for (const auto& st : rr["stages"]) {
    if (st["name"] == "checklist") continue;
    EXPECT_EQ(st["output"]["passed"], true) << st.dump();
    // Without --apply nothing is provisioned: the tests did not run, and say why.
    if (st["name"] == "tests") {
      EXPECT_NE(st["output"]["skipped_reason"].get<std::string>().find("--apply"),
                std::string::npos);
    }
  }
  auto ev = Run({"--state", state, "events", "--json"});
  EXPECT_NE(ev.out.find("\"name\":\"security.passed\""), std::string::npos);

  // With --apply the tests run in staging's release folder: node --test, one test; the
  // routes the OpenAPI document declares become the smoke suite, run against staging.
  testing::WriteText(ok / "openapi.yaml",
                     "openapi: 3.0.0\npaths:\n  /items: {get: {}}\n  /items/{id}: {get: {}}\n");
  // The performance gate loads the suite: briefly here.
  testing::WriteText(ok / "prodsprint.yaml",
                     "policy:\n  performance:\n    rate: 100\n    duration: 2s\n");
  r = Run({"--state", state, "up", ok.string(), "--apply", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  j = Json::parse(r.out);
  // The first measurement is the baseline (perf.baselined, artifacts of type perf).
  for (const auto& st : j["readiness_run"]["stages"]) {
    if (st["name"] != "performance") continue;
    const Json& p = st["output"];
    EXPECT_EQ(p["passed"], true) << p.dump();
    ASSERT_EQ(p["services"].size(), 1u) << p.dump();
    // Nothing to compare with yet: said so, and this measurement is the reference.
    EXPECT_EQ(p["services"][0]["baseline"]["paired"], false) << p.dump();
    EXPECT_NE(p["services"][0]["baseline"]["note"].get<std::string>().find("no earlier version"),
              std::string::npos);
    EXPECT_EQ(p["services"][0]["reference"]["updated"], true) << p.dump();
    EXPECT_EQ(p["services"][0]["routes"][0]["route"], "/items");
    EXPECT_GE(p["services"][0]["summary"]["requests"].get<int>(), 150) << p.dump();
  }
  std::set<std::string> perf;
  for (const auto& a : j["readiness_run"]["artifacts"]) {
    if (a["type"] == "perf") perf.insert(a["name"].get<std::string>());
  }
  EXPECT_EQ(perf, (std::set<std::string>{"perf-ok.json", "perf-baseline-ok.json"}));
  ev = Run({"--state", state, "events", "--json"});
  EXPECT_NE(ev.out.find("\"name\":\"perf.baselined\""), std::string::npos);
  std::set<std::string> tests;
  for (const auto& a : j["readiness_run"]["artifacts"]) {
    if (a["type"] == "tests") tests.insert(a["name"].get<std::string>());
  }
  EXPECT_EQ(tests, (std::set<std::string>{"tests.junit.xml", "tests-ok.log", "smoke-ok.json"}));
  bool ran = false;
  for (const auto& st : j["readiness_run"]["stages"]) {
    if (st["name"] != "tests") continue;
    ran = true;
    EXPECT_EQ(st["output"]["passed"], true) << st.dump();
    EXPECT_EQ(st["output"]["tests"], 1) << st.dump();
    EXPECT_EQ(st["output"]["services"][0]["runner"], "node:test");
    const Json& smoke = st["output"]["smoke"][0];
    EXPECT_EQ(smoke["routes"], 2) << smoke.dump();
    EXPECT_EQ(smoke["ran"], true) << smoke.dump();
    EXPECT_EQ(smoke["failed"], 0) << smoke.dump();
    ASSERT_EQ(smoke["results"].size(), 1u) << smoke.dump();
    EXPECT_EQ(smoke["results"][0]["path"], "/items");
    EXPECT_EQ(smoke["results"][0]["status"], 200);
  }
  EXPECT_TRUE(ran);

  // `check` of a version staging does not run (the working tree changed, no
  // apply): the performance gate says it measured nothing, which version it
  // checked and which staging runs; the checklist does not call it passed.
  testing::WriteText(ok / "s.js",
                     "require('http').createServer((q, r) => r.end('ok!'))"
                     ".listen(process.env.PORT || 3000)\n");
  r = Run({"--state", state, "check", ok.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  j = Json::parse(r.out);
  EXPECT_EQ(j["performance"]["measured"], false) << j["performance"].dump();
  EXPECT_NE(j["performance"]["skipped_reason"].get<std::string>().find("staging runs version"),
            std::string::npos)
      << j["performance"].dump();
  bool not_measured = false;
  for (const auto& g : j["checklist"]["gates"]) {
    if (g["gate"] == "performance") not_measured = g["status"] == "not measured";
  }
  EXPECT_TRUE(not_measured) << j["checklist"].dump();

  // A version 40 ms slower per request: the gate runs production's version
  // beside it on staging (a folder outside git: the run staging served
  // before), finds the regression real, and blocks.
  testing::WriteText(ok / "s.js",
                     "require('http').createServer((q, r) => setTimeout(() => r.end('ok'), 40))"
                     ".listen(process.env.PORT || 3000)\n");
  r = Run({"--state", state, "up", ok.string(), "--apply"});
  auto down = Run({"--state", state, "down", ok.string()});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("Performance gate: blocked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok /items: median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("measured at the same time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x performance  failed"), std::string::npos) << r.out;

  // The repository with blocking findings: up stops with the gate's reasons.
  r = Run({"--state", state, "up", repo_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("Security gate: blocked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("container/IaC finding(s) at or above high"), std::string::npos) << r.out;
}

// The day `days` from now, as YYYY-MM-DD (UTC).
std::string DayFromNow(int days) {
  const std::time_t t = std::time(nullptr) + days * 86400;
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

TEST_F(GateTest, AWaiverLetsAFailedGateThroughTheChecklistUntilItExpires) {
  const std::string state = (dir_ / "state").string();
  auto r = Run({"--state", state, "up", repo_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("Readiness: not ready"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x security  failed"), std::string::npos) << r.out;

  // Refused, and nothing recorded: no such gate, no reason, dates past, too far or not dates.
  const std::string path = repo_.string();
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"waive", "speed", "--path", path, "--reason", "later", "--until", DayFromNow(3)},
           {"waive", "security", "--path", path, "--reason", "", "--until", DayFromNow(3)},
           {"waive", "security", "--path", path, "--reason", "later", "--until", "2020-01-01"},
           {"waive", "security", "--path", path, "--reason", "later", "--until", DayFromNow(91)},
           {"waive", "security", "--path", path, "--reason", "later", "--until", "2030-02-31"},
           {"waive", "security", "--path", path, "--reason", "later", "--until", "tomorrow"}}) {
    std::vector<std::string> args = {"--state", state};
    args.insert(args.end(), bad.begin(), bad.end());
    auto w = Run(args);
    EXPECT_EQ(w.exit_code, 2) << bad[1] << " " << bad[7] << ": " << w.out << w.err;
  }
  auto list = Run({"--state", state, "waivers", path, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Json::parse(list.out).empty());

  auto w = Run({"--state", state, "waive", "security", "--path", path, "--reason",
                "IaC findings tracked in OPS-42", "--until", DayFromNow(7), "--json"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(Json::parse(w.out)["gate"], "security");
  list = Run({"--state", state, "waivers", path, "--json"});
  Json l = Json::parse(list.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["active"], true);
  EXPECT_EQ(l[0]["reason"], "IaC findings tracked in OPS-42");

  // The next readiness run counts it: the gate still fails, the checklist is ready.
  r = Run({"--state", state, "up", path, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["checklist"]["ready"], true);
  for (const auto& g : j["checklist"]["gates"]) {
    if (g["gate"] == "security") {
      EXPECT_EQ(g["status"], "waived");
      EXPECT_EQ(g["waiver"]["reason"], "IaC findings tracked in OPS-42");
    }
  }
  auto ev = Run({"--state", state, "events", "--json"});
  EXPECT_NE(ev.out.find("\"name\":\"readiness.ready\""), std::string::npos);
}

TEST_F(GateTest, CheckRunsTheTestGateAndWritesTheGatesAsJUnit) {
  // A service whose one test fails: check --gate tests prepares it in the
  // staging folder, runs node --test there, and the checklist is not ready.
  const fs::path bad = dir_ / "bad";
  testing::WriteText(
      bad / "package.json",
      R"({"name": "bad", "scripts": {"start": "node s.js", "test": "node --test"}})");
  testing::WriteText(bad / "s.js",
                     "require('http').createServer((q, r) => r.end('ok'))"
                     ".listen(process.env.PORT || 3000)\n");
  testing::WriteText(bad / "s.test.js",
                     "const test = require('node:test');\nconst assert = require('node:assert');\n"
                     "test('adds', () => assert.strictEqual(1 + 1, 3));\n");
  const std::string state = (dir_ / "state").string();
  const std::string junit = (dir_ / "gates.xml").string();
  const std::string sarif = (dir_ / "gates.sarif").string();
  auto r = Run({"--state", state, "check", bad.string(), "--gate", "tests", "--junit", junit,
                "--sarif", sarif});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("Test gate: blocked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 failing test(s) (policy.tests.max_failures: 0): adds"), std::string::npos)
      << r.out;
  std::string xml = testing::ReadText(junit);
  EXPECT_NE(xml.find(R"(<testcase classname="readiness" name="tests"><failure)"), std::string::npos)
      << xml;
  // SARIF 2.1.0: the security gate's own run, then the checklist's: the
  // failed gate's blocker as an error of rule readiness/tests.
  Json sj = Json::parse(testing::ReadText(sarif));
  EXPECT_EQ(sj["version"], "2.1.0");
  ASSERT_EQ(sj["runs"].size(), 2u) << sj.dump();
  const Json& gates_run = sj["runs"][1];
  EXPECT_EQ(gates_run["tool"]["driver"]["name"], "ProdSprint readiness");
  bool tests_result = false;
  for (const auto& res : gates_run["results"]) {
    if (res["ruleId"] == "readiness/tests") {
      tests_result = true;
      EXPECT_EQ(res["level"], "error");
      EXPECT_NE(res["message"]["text"].get<std::string>().find("adds"), std::string::npos);
      EXPECT_FALSE(res.contains("suppressions"));
    }
  }
  EXPECT_TRUE(tests_result) << gates_run.dump();

  auto w = Run({"--state", state, "waive", "tests", "--path", bad.string(), "--reason",
                "known failure, fix in progress", "--until", DayFromNow(2)});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  r = Run({"--state", state, "check", bad.string(), "--junit", junit, "--sarif", sarif, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["checklist"]["ready"], true);
  EXPECT_EQ(j["tests"]["failed"], 1);
  xml = testing::ReadText(junit);
  EXPECT_NE(xml.find(R"(<skipped message="waived until )"), std::string::npos) << xml;
  EXPECT_NE(xml.find("known failure, fix in progress"), std::string::npos) << xml;
  sj = Json::parse(testing::ReadText(sarif));
  for (const auto& res : sj["runs"][1]["results"]) {
    if (res["ruleId"] != "readiness/tests") continue;
    EXPECT_EQ(res["suppressions"][0]["kind"], "external") << res.dump();
    EXPECT_NE(res["suppressions"][0]["justification"].get<std::string>().find("known failure"),
              std::string::npos);
  }
  // Options of the security scan alone are refused with the readiness run.
  auto bad_opts = Run({"--state", state, "check", bad.string(), "--history"});
  EXPECT_EQ(bad_opts.exit_code, 2) << bad_opts.out << bad_opts.err;
  EXPECT_NE(bad_opts.err.find("go with --gate security"), std::string::npos) << bad_opts.err;

  // A version that does not build: the gate cannot run; the run failed (exit 1), and says why.
  const fs::path broken = dir_ / "broken";
  testing::WriteText(broken / "package.json", R"({"name": "broken", "scripts": {
      "start": "node s.js", "build": "echo no compiler >&2; exit 3", "test": "node --test"}})");
  testing::WriteText(broken / "s.js", "require('http').createServer().listen(process.env.PORT)\n");
  r = Run({"--state", state, "check", broken.string(), "--gate", "tests"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("build failed"), std::string::npos) << r.out << r.err;
}

TEST_F(GateTest, ImportsTheRepositorysGitleaksConfigAndThePolicysAllowlist) {
  const fs::path r = dir_ / "gl";
  testing::WriteText(r / ".gitleaks.toml", R"TOML(
[[rules]]
id = "acme-token"
regex = '''acme_[a-z0-9]{24}'''
[[rules]]
id = "broken"
regex = '''(?<=x)y'''
)TOML");
  testing::WriteText(r / "app.py", "KEY = 'acme_q8w7e6r5t4y3u2i1o9p0a1s2'\n");
  testing::WriteText(r / "docs/example.py", "KEY = 'acme_z8w7e6r5t4y3u2i1o9p0a1s2'\n");
  auto res = Run({"check", "--gate", "security", r.string(), "--json"});
  EXPECT_EQ(res.exit_code, 1) << res.out;
  Json j = Json::parse(res.out);
  EXPECT_EQ(j["gitleaks"]["rules"], 1);
  EXPECT_EQ(j["secrets"].size(), 2u);
  EXPECT_EQ(j["secrets"][0]["rule"], "acme-token");
  bool warned = false;
  for (const auto& w : j["warnings"])
    warned = warned || w["message"].get<std::string>().find("broken") != std::string::npos;
  EXPECT_TRUE(warned) << j["warnings"].dump();
  // The policy's allowlist: docs/ is not scanned for secrets.
  testing::WriteText(r / "prodsprint.yaml",
                     "policy:\n  security:\n    allowlist:\n      paths: ['^docs/']\n");
  j = Json::parse(Run({"check", "--gate", "security", r.string(), "--json"}).out);
  ASSERT_EQ(j["secrets"].size(), 1u);
  EXPECT_EQ(j["secrets"][0]["file"], "app.py");
  // A malformed gitleaks file is a clear error, not a crash.
  testing::WriteText(r / ".gitleaks.toml", "[[rules]\n");
  res = Run({"check", "--gate", "security", r.string()});
  EXPECT_EQ(res.exit_code, 2) << res.err;
}

TEST_F(GateTest, HistoryScanFindsRemovedSecretsAndRemembersWhatItRead) {
  // A token built at test time (valid checksum), committed, then removed.
  const std::string body = "Zq3XbW9pLr7TnV2mKc8YdF4hJs6GaE";
  const std::string token = "ghp_" + body + security::TokenChecksum(body);
  const fs::path repo = dir_ / "hist";
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"/usr/bin/git", "-c", "user.email=t@example.com", "-c", "user.name=t"});
    auto r =
        testing::RunCommand(args, repo, {"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir_.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  fs::create_directories(repo);
  git({"init", "-q", "-b", "main"});
  testing::WriteText(repo / "app.py", "TOKEN = \"" + token + "\"\n");
  testing::WriteText(repo / "README.md", "hello\n");
  git({"add", "."});
  git({"commit", "-qm", "one"});
  const std::string first = git({"rev-parse", "HEAD"}).substr(0, 40);
  testing::WriteText(repo / "app.py", "TOKEN = os.environ['TOKEN']\n");
  git({"commit", "-qam", "two"});

  auto r = Run({"check", "--gate", "security", repo.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << "the working tree is clean: " << r.out;
  r = Run({"check", "--gate", "security", repo.string(), "--history", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find(token), std::string::npos);
  Json j = Json::parse(r.out);
  ASSERT_EQ(j["secrets"].size(), 1u);
  EXPECT_EQ(j["secrets"][0]["commit"], first);
  EXPECT_EQ(j["secrets"][0]["file"], "app.py");
  EXPECT_EQ(j["history"]["new_commits"], 2);
  EXPECT_EQ(j["history"]["blobs_scanned"], 3);  // README, app.py twice
  // Again: nothing new is read, the finding is remembered.
  j = Json::parse(Run({"check", "--gate", "security", repo.string(), "--history", "--json"}).out);
  EXPECT_EQ(j["history"]["new_commits"], 0);
  EXPECT_EQ(j["history"]["blobs_scanned"], 0);
  EXPECT_EQ(j["secrets"].size(), 1u);
  // A new commit: only its new blob is read.
  testing::WriteText(repo / "deploy.sh", "export GH=" + token + "\n");
  git({"add", "deploy.sh"});
  git({"commit", "-qm", "three"});
  j = Json::parse(Run({"check", "--gate", "security", repo.string(), "--history", "--json"}).out);
  EXPECT_EQ(j["history"]["new_commits"], 1);
  EXPECT_EQ(j["history"]["blobs_scanned"], 1);
  EXPECT_EQ(j["secrets"].size(), 3u);  // two in history (one still in the tree) + the tree's
  // Not a git repository: a clear error.
  fs::create_directories(dir_ / "plain");
  r = Run({"check", "--gate", "security", (dir_ / "plain").string(), "--history"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// Fail closed: what the gate could not read blocks (policy.security.unscanned:
// block by default), counted and listed, with truncated: true — an
// unreadable file and folder (read as a user who may not), a file past the
// system's path limit, corrupt git objects in --history and --ref.
class FailClosed : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::permissions(dir_.path(), fs::perms::all);
    repo_ = dir_ / "repo";
    testing::WriteText(repo_ / "app.py", "print('hello')\n");
    env_ = {"NO_COLOR=1", "PRODSPRINT_ADVISORY_DB=" + (dir_ / "none.db").string(),
            "XDG_CACHE_HOME=" + (dir_ / "cache").string(), "HOME=" + dir_.path().string()};
  }
  // As the user nobody when root (root reads whatever the modes say).
  testing::CommandResult Run(std::vector<std::string> args, bool as_nobody = false) {
    args.insert(args.begin(), PS_BINARY);
    if (as_nobody && ::geteuid() == 0) {
      args.insert(args.begin(),
                  {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
    }
    return testing::RunCommand(args, dir_.path(), env_);
  }
  Json Gate(std::vector<std::string> extra, int expect_exit, bool as_nobody = false) {
    std::vector<std::string> args = {"check", "--gate", "security", repo_.string(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Run(args, as_nobody);
    EXPECT_EQ(r.exit_code, expect_exit) << r.out << r.err;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j;
  }
  static std::set<std::string> Paths(const Json& j) {
    std::set<std::string> out;
    for (const auto& u : j["unscanned"]["list"]) out.insert(u["path"].get<std::string>());
    return out;
  }
  testing::TempDir dir_;
  fs::path repo_;
  std::vector<std::string> env_;
};

TEST_F(FailClosed, UnreadableFilesAndFoldersBlock) {
  testing::WriteText(repo_ / "locked/creds.py", "x = 1\n");
  testing::WriteText(repo_ / "shut.py", "y = 2\n");
  for (const auto& p : {repo_, repo_ / "locked"}) {
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  }
  fs::permissions(repo_ / "app.py", fs::perms::owner_read | fs::perms::others_read);
  fs::permissions(repo_ / "locked", fs::perms::none);
  fs::permissions(repo_ / "shut.py", fs::perms::none);
  Json j = Gate({}, 1, true);
  fs::permissions(repo_ / "locked", fs::perms::owner_all);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["unscanned"]["count"], 2) << j["unscanned"].dump();
  EXPECT_EQ(Paths(j), (std::set<std::string>{"locked", "shut.py"}));
  EXPECT_EQ(j["scanned"]["truncated"], true);
  EXPECT_EQ(j["scanned"]["files"], 1);  // app.py
  ASSERT_EQ(j["blockers"].size(), 1u);
  EXPECT_NE(j["blockers"][0].get<std::string>().find("could not be read"), std::string::npos);
  // policy.security.unscanned: warn — a note, the gate passes.
  testing::WriteText(repo_ / "prodsprint.yaml", "policy:\n  security:\n    unscanned: warn\n");
  fs::permissions(repo_ / "prodsprint.yaml", fs::perms::owner_all | fs::perms::others_read);
  fs::permissions(repo_ / "locked", fs::perms::none);
  j = Gate({}, 0, true);
  fs::permissions(repo_ / "locked", fs::perms::owner_all);
  EXPECT_EQ(j["passed"], true);
  EXPECT_EQ(j["unscanned"]["count"], 2);
  EXPECT_FALSE(j["notes"].empty());
}

TEST_F(FailClosed, APathPastTheSystemsLimitBlocks) {
  // 2,100 nested folders (past PATH_MAX from the repository's root), a file
  // at the bottom: made with openat, one level at a time.
  int fd = ::open(repo_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2100; ++i) {
    ASSERT_EQ(::mkdirat(fd, "d", 0755), 0);
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
    ::close(fd);
    ASSERT_GE(next, 0);
    fd = next;
  }
  const int file = ::openat(fd, "deep.py", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::write(file, "z = 3\n", 6), 6);
  ::close(file);
  ::close(fd);
  Json j = Gate({}, 1);
  EXPECT_EQ(j["unscanned"]["count"], 1) << j["unscanned"].dump();
  EXPECT_EQ(j["scanned"]["truncated"], true);
  ASSERT_EQ(j["unscanned"]["list"].size(), 1u);
  EXPECT_NE(j["unscanned"]["list"][0]["why"].get<std::string>().find("too long"), std::string::npos)
      << j["unscanned"].dump();
  // rm copes with any depth; the folder's own clean-up may not.
  testing::RunCommand({"/bin/rm", "-rf", (repo_ / "d").string()}, dir_.path());
}

TEST_F(FailClosed, CorruptGitObjectsAreNamedAndBlock) {
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.email=t@example.com", "-c",
                               "user.name=t", "-c", "commit.gpgsign=false"});
    auto r =
        testing::RunCommand(args, repo_, {"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir_.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  git({"init", "-q", "-b", "main"});
  testing::WriteText(repo_ / "lib/secret.py", "KEY = 'nothing here'\n");
  git({"add", "."});
  git({"commit", "-qm", "one"});
  const std::string blob = git({"rev-parse", "HEAD:lib/secret.py"});
  const std::string tree = git({"rev-parse", "HEAD:lib"});
  // A blob whose compressed bytes are damaged (loose objects are read-only).
  auto damage = [&](const std::string& oid) {
    const fs::path obj = repo_ / ".git/objects" / oid.substr(0, 2) / oid.substr(2);
    fs::permissions(obj, fs::perms::owner_read | fs::perms::owner_write);
    std::string bytes = testing::ReadText(obj);
    ASSERT_GT(bytes.size(), 12u);
    for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    testing::WriteText(obj, bytes);
  };
  damage(blob);
  Json j = Gate({"--history"}, 1);
  EXPECT_EQ(j["history"]["unreadable"], 1) << j["history"].dump();
  ASSERT_GE(j["unscanned"]["list"].size(), 1u);
  EXPECT_EQ(
      j["unscanned"]["list"][0]["path"].get<std::string>().rfind("history: lib/secret.py @ ", 0),
      0u)
      << j["unscanned"].dump();
  EXPECT_NE(j["unscanned"]["list"][0]["why"].get<std::string>().find(blob), std::string::npos);
  // Remembered: the next scan reads nothing new and still says so.
  j = Gate({"--history"}, 1);
  EXPECT_EQ(j["history"]["new_commits"], 0);
  EXPECT_EQ(j["history"]["unreadable"], 1);
  // --ref: the blob, then a damaged tree, named.
  j = Gate({"--ref", "HEAD"}, 1);
  EXPECT_EQ(Paths(j), std::set<std::string>{"lib/secret.py"}) << j["unscanned"].dump();
  damage(tree);
  j = Gate({"--ref", "HEAD"}, 1);
  EXPECT_EQ(Paths(j), std::set<std::string>{"lib"}) << j["unscanned"].dump();
  EXPECT_NE(j["unscanned"]["list"][0]["why"].get<std::string>().find(tree), std::string::npos);
  // The root tree damaged: a clear error naming what is corrupt, exit 2.
  damage(git({"rev-parse", "HEAD^{tree}"}));
  auto r = Run({"check", "--gate", "security", repo_.string(), "--ref", "HEAD"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the repository is corrupt: the tree of commit"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace ps
