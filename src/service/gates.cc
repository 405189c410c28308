#include "service/gates.h"

#include "core/clock.h"
#include "core/xml.h"

namespace ps::service {

// The gates as JUnit XML, for CI: one test case per gate; a failed gate is a
// failure holding its blockers, a waived one is skipped with the waiver, one
// that measured nothing is skipped with the reason (never a pass).
std::string GatesJUnit(const Json& checklist) {
  const auto esc = [](const std::string& v) { return XmlEscape(v); };
  int failures = 0, skipped = 0;
  std::string cases;
  for (const auto& g : checklist["gates"]) {
    const std::string status = g.value("status", "");
    cases += "    <testcase classname=\"readiness\" name=\"" + esc(g.value("gate", "")) + "\">";
    if (status == "failed" || status == "not run") {
      ++failures;
      std::string body;
      for (const auto& b : g.value("blockers", Json::array())) {
        body += (b.is_string() ? b.get<std::string>() : b.dump()) + "\n";
      }
      cases += "<failure message=\"" + esc(status) + "\">" + esc(body) + "</failure>";
    } else if (status == "not measured") {
      // Not a pass: the gate ran and could measure nothing (the note says why).
      ++skipped;
      cases += "<skipped message=\"" + esc("not measured: " + g.value("note", "")) + "\"/>";
    } else if (status == "waived") {
      ++skipped;
      const Json& w = g["waiver"];
      cases += "<skipped message=\"" +
               esc("waived until " + FormatTime(w.value("until", Millis{0})) + " by " +
                   w.value("by", "") + ": " + w.value("reason", "")) +
               "\"/>";
    }
    cases += "</testcase>\n";
  }
  const std::string n = std::to_string(checklist["gates"].size());
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"prodsprint readiness\">\n"
         "  <testsuite name=\"readiness\" tests=\"" +
         n + "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"" +
         std::to_string(skipped) + "\">\n" + cases + "  </testsuite>\n</testsuites>\n";
}

// The gates as SARIF 2.1.0, for code-scanning tools: the security gate's own
// run (every finding with its location, as `check --gate security --sarif`
// writes it) when it is given, then a run of the checklist: one result per
// blocker of a failed gate (level error), a waived gate's blockers as
// suppressed results with the waiver as justification.
Json GatesSarif(const Json& checklist, const Json& security_sarif) {
  Json runs = Json::array();
  if (security_sarif.is_object() && security_sarif.contains("runs") &&
      security_sarif["runs"].is_array()) {
    for (const auto& r : security_sarif["runs"]) runs.push_back(r);
  }
  Json rules = Json::array();
  Json results = Json::array();
  int index = 0;
  for (const auto& g : checklist["gates"]) {
    const std::string gate = g.value("gate", "");
    const std::string status = g.value("status", "");
    const std::string id = "readiness/" + gate;
    rules.push_back({{"id", id},
                     {"name", gate + " gate"},
                     {"shortDescription", {{"text", "The " + gate + " readiness gate blocks"}}},
                     {"help",
                      {{"text", "docs/READINESS.md: what the " + gate +
                                    " gate checks, its policy and how to waive it"}}},
                     {"defaultConfiguration", {{"level", "error"}}}});
    if (status == "failed" || status == "waived" || status == "not run") {
      Json blockers = g.value("blockers", Json::array());
      if (blockers.empty()) blockers.push_back(status == "not run" ? "did not run" : "failed");
      for (const auto& b : blockers) {
        Json r = {{"ruleId", id},
                  {"ruleIndex", index},
                  {"level", "error"},
                  {"message", {{"text", b.is_string() ? b.get<std::string>() : b.dump()}}},
                  {"locations",
                   {{{"physicalLocation",
                      {{"artifactLocation", {{"uri", "prodsprint.yaml"}}},
                       {"region", {{"startLine", 1}}}}}}}}};
        if (status == "waived" && g.contains("waiver")) {
          const Json& w = g["waiver"];
          r["suppressions"] = {
              {{"kind", "external"},
               {"status", "accepted"},
               {"justification", w.value("reason", "") + " (waived by " + w.value("by", "") +
                                     " until " + FormatTime(w.value("until", Millis{0})) + ")"}}};
        }
        results.push_back(std::move(r));
      }
    } else if (status == "not measured") {
      results.push_back({{"ruleId", id},
                         {"ruleIndex", index},
                         {"level", "note"},
                         {"kind", "notApplicable"},
                         {"message", {{"text", "not measured: " + g.value("note", "")}}},
                         {"locations",
                          {{{"physicalLocation",
                             {{"artifactLocation", {{"uri", "prodsprint.yaml"}}},
                              {"region", {{"startLine", 1}}}}}}}}});
    }
    ++index;
  }
  runs.push_back({{"tool",
                   {{"driver",
                     {{"name", "ProdSprint readiness"},
                      {"version", PS_VERSION},
                      {"informationUri", "https://prodsprint.dev/docs/readiness"},
                      {"rules", rules}}}}},
                  {"results", results},
                  {"properties", {{"ready", checklist.value("ready", false)}}}});
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", runs}};
}

}  // namespace ps::service
