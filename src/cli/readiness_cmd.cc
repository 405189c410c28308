#include "cli/readiness_cmd.h"

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cli/output.h"
#include "core/clock.h"

namespace ps::cli {

namespace {

constexpr const char* kWaived = "gate.waived";

bool Digits(const std::string& s, std::size_t from, std::size_t n) {
  if (s.size() < from + n) return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::string Day(Millis ms) { return FormatTime(ms).substr(0, 10); }

std::string Actor() {
  const char* user = std::getenv("USER");
  return std::string("local:") + (user && *user ? user : "unknown");
}

}  // namespace

Result<Millis> ParseUntil(const std::string& text) {
  const auto bad = [&] {
    return problems::InvalidInput("--until '" + text +
                                  "' is not a date: give YYYY-MM-DD (the end of that day, UTC) "
                                  "or YYYY-MM-DDTHH:MM:SSZ");
  };
  if (!(text.size() == 10 || (text.size() == 20 && text[10] == 'T' && text[19] == 'Z'))) {
    return bad();
  }
  if (!Digits(text, 0, 4) || text[4] != '-' || !Digits(text, 5, 2) || text[7] != '-' ||
      !Digits(text, 8, 2)) {
    return bad();
  }
  struct tm tm {};
  tm.tm_year = std::atoi(text.substr(0, 4).c_str()) - 1900;
  tm.tm_mon = std::atoi(text.substr(5, 2).c_str()) - 1;
  tm.tm_mday = std::atoi(text.substr(8, 2).c_str());
  const bool whole_day = text.size() == 10;
  if (whole_day) {
    tm.tm_hour = 23;
    tm.tm_min = 59;
    tm.tm_sec = 59;
  } else {
    if (!Digits(text, 11, 2) || text[13] != ':' || !Digits(text, 14, 2) || text[16] != ':' ||
        !Digits(text, 17, 2)) {
      return bad();
    }
    tm.tm_hour = std::atoi(text.substr(11, 2).c_str());
    tm.tm_min = std::atoi(text.substr(14, 2).c_str());
    tm.tm_sec = std::atoi(text.substr(17, 2).c_str());
  }
  const struct tm asked = tm;
  const time_t t = timegm(&tm);
  // timegm normalises 2026-02-31 to March: such a date does not exist.
  if (t == static_cast<time_t>(-1) || tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon ||
      tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min || tm.tm_sec != asked.tm_sec) {
    return bad();
  }
  return static_cast<Millis>(t) * 1000 + (whole_day ? 999 : 0);
}

Result<Json> WaiversOf(Session& s, const std::string& project_id) {
  PS_ASSIGN(auto entries,
            store::ReadValue<std::vector<store::AuditEntry>>(
                *s.store, [&](store::Tx& tx) { return tx.ListAudit(s.tenant, 10000); }));
  Json out = Json::array();
  for (const auto& e : entries) {
    if (e.action != kWaived || e.target != project_id || !e.meta.is_object()) continue;
    out.push_back({{"id", e.id},
                   {"gate", e.meta.value("gate", "")},
                   {"reason", e.meta.value("reason", "")},
                   {"until", e.meta.value("until", Millis{0})},
                   {"by", e.user_id},
                   {"at", e.created_at}});
  }
  std::sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    return a["id"].get<long long>() > b["id"].get<long long>();
  });
  return out;
}

Result<int> CmdWaive(const Options& o, const WaiveArgs& a) {
  static const std::vector<std::string> kGates = {"security", "tests", "performance"};
  if (std::find(kGates.begin(), kGates.end(), a.gate) == kGates.end()) {
    return problems::InvalidInput("'" + a.gate +
                                  "' is not a gate: give security, tests or performance");
  }
  std::string reason = a.reason;
  while (!reason.empty() && (reason.back() == ' ' || reason.back() == '\n')) reason.pop_back();
  if (reason.size() < 3) {
    return problems::InvalidInput(
        "--reason is too short: say why the gate may be skipped (3 characters at least)");
  }
  if (reason.size() > 2000)
    return problems::InvalidInput("--reason is longer than 2000 characters");
  PS_ASSIGN(Millis until, ParseUntil(a.until));
  const Millis now = SystemClock::Instance().Now();
  if (until <= now) return problems::InvalidInput("--until " + a.until + " is in the past");
  if (until - now > Millis{kMaxWaiverDays} * 86'400'000) {
    return problems::InvalidInput("--until " + a.until + " is more than " +
                                  std::to_string(kMaxWaiverDays) +
                                  " days away: a waiver is temporary; record a new one later");
  }
  PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
  PS_ASSIGN(auto s, OpenSession(o, repo / "prodsprint.yaml", true));
  PS_ASSIGN(store::Project project, EnsureProject(*s, repo));
  store::AuditEntry e;
  e.tenant = s->tenant;
  e.user_id = Actor();
  e.action = kWaived;
  e.target = project.id;
  e.meta = {{"gate", a.gate}, {"reason", reason}, {"until", until}, {"project", project.name}};
  e.created_at = now;
  PS_ASSIGN(std::int64_t id, store::WriteValue<std::int64_t>(
                                 *s->store, [&](store::Tx& tx) { return tx.AppendAudit(e); }));
  if (a.json) {
    std::cout << Dump({{"id", id},
                       {"project", project.name},
                       {"gate", a.gate},
                       {"reason", reason},
                       {"until", until},
                       {"until_text", FormatTime(until)},
                       {"by", e.user_id}},
                      2)
              << std::endl;
  } else {
    std::cout << "Waived the " << a.gate << " gate of " << project.name << " until "
              << FormatTime(until) << " (audit log #" << id << ", by " << e.user_id << ")\n"
              << "The next readiness run counts it; 'prodsprint waivers " << a.path
              << "' lists waivers.\n";
  }
  return kExitOk;
}

Result<int> CmdWaivers(const Options& o, const std::string& path, bool json) {
  PS_ASSIGN(const fs::path repo, RepoFolder(path));
  PS_ASSIGN(auto s, OpenSession(o, repo / "prodsprint.yaml", true));
  PS_ASSIGN(store::Project project, EnsureProject(*s, repo));
  PS_ASSIGN(Json list, WaiversOf(*s, project.id));
  const Millis now = SystemClock::Instance().Now();
  for (auto& w : list) w["active"] = w["until"].get<Millis>() > now;
  if (json) {
    std::cout << Dump(list, 2) << std::endl;
    return kExitOk;
  }
  if (list.empty()) {
    std::cout << "no waivers for " << project.name << "\n";
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::vector<std::vector<std::string>> rows = {
      {t.Bold("GATE"), t.Bold("UNTIL"), t.Bold("STATE"), t.Bold("BY"), t.Bold("REASON")}};
  for (const auto& w : list) {
    rows.push_back({w["gate"], Day(w["until"].get<Millis>()),
                    w["active"].get<bool>() ? t.Yellow("active") : t.Dim("expired"), w["by"],
                    w["reason"]});
  }
  std::cout << Table(rows);
  return kExitOk;
}

}  // namespace ps::cli
