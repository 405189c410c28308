#include "stages/readiness/checklist_stage.h"

namespace ps::stages {

Json MakeChecklist(const std::vector<std::pair<std::string, Json>>& gates, const Json& waivers,
                   Millis now_ms) {
  Json list = Json::array();
  Json blockers = Json::array();
  bool ready = true;
  for (const auto& [gate, out] : gates) {
    Json item = {{"gate", gate}};
    if (!out.is_object() || !out.contains("passed")) {
      item["status"] = "not run";
      ready = false;
      blockers.push_back(gate + ": did not run");
      list.push_back(item);
      continue;
    }
    item["blockers"] = out.value("blockers", Json::array());
    if (out.contains("skipped_reason")) item["note"] = out["skipped_reason"];
    // A gate that measured nothing did not pass: it says so, and why (it
    // blocks only when its own policy requires it, which it reports as a
    // blocker).
    if (!out.value("measured", true) && out.value("blockers", Json::array()).empty()) {
      item["status"] = "not measured";
      list.push_back(item);
      continue;
    }
    if (out["passed"].get<bool>()) {
      item["status"] = "passed";
      list.push_back(item);
      continue;
    }
    // The newest waiver of this gate that has not expired.
    const Json* waiver = nullptr;
    if (waivers.is_array()) {
      for (const auto& w : waivers) {
        if (!w.is_object() || w.value("gate", "") != gate) continue;
        if (!w.contains("until") || !w["until"].is_number() || w["until"].get<Millis>() <= now_ms)
          continue;
        if (!waiver || w.value("at", Millis{0}) > waiver->value("at", Millis{0})) waiver = &w;
      }
    }
    if (waiver) {
      item["status"] = "waived";
      item["waiver"] = *waiver;
    } else {
      item["status"] = "failed";
      ready = false;
      for (const auto& b : item["blockers"]) {
        blockers.push_back(gate + ": " + (b.is_string() ? b.get<std::string>() : b.dump()));
      }
      if (item["blockers"].empty()) blockers.push_back(gate + ": failed");
    }
    list.push_back(item);
  }
  return {{"ready", ready}, {"gates", list}, {"blockers", blockers}};
}

Result<engine::StageOutput> ChecklistStage::Run(engine::StageContext& ctx) {
  std::vector<std::pair<std::string, Json>> gates;
  for (const char* gate : {"security", "tests", "performance"})
    gates.push_back({gate, ctx.Input(gate)});
  const Json waivers = ctx.run_input().value("waivers", Json::array());
  Json checklist = MakeChecklist(gates, waivers, ctx.clock().Now());
  engine::StageOutput out;
  out.facts = checklist;
  const bool ready = checklist["ready"].get<bool>();
  out.policy_result =
      Json{{"gate", "readiness"}, {"passed", ready}, {"blockers", checklist["blockers"]}};
  out.metrics = {{"ready", ready}};
  if (ready) {
    Json gates_json = Json::object();
    for (const auto& g : checklist["gates"]) gates_json[g["gate"].get<std::string>()] = g["status"];
    out.events.push_back({"readiness.ready", {{"gates", gates_json}}});
  }
  ctx.Progress(1.0, ready ? "ready" : "not ready: " + checklist["blockers"][0].get<std::string>());
  return out;
}

}  // namespace ps::stages
