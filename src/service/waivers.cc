#include "service/waivers.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace ps::service {
namespace {

constexpr const char* kWaived = "gate.waived";

bool Digits(const std::string& s, std::size_t from, std::size_t n) {
  if (s.size() < from + n) return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
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

Result<Json> WaiversOf(App& app, const store::Tenant& tenant, const std::string& project_id) {
  PS_ASSIGN(auto entries,
            store::ReadValue<std::vector<store::AuditEntry>>(
                app.store, [&](store::Tx& tx) { return tx.ListAudit(tenant, 10000); }));
  Json out = Json::array();
  for (const auto& e : entries) {
    if (e.action != kWaived || e.target != project_id || !e.meta.is_object()) continue;
    const Millis until = e.meta.value("until", Millis{0});
    out.push_back({{"id", e.id},
                   {"gate", e.meta.value("gate", "")},
                   {"reason", e.meta.value("reason", "")},
                   {"until", until},
                   {"by", e.user_id},
                   {"at", e.created_at}});
  }
  std::sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    return a["id"].get<long long>() > b["id"].get<long long>();
  });
  return out;
}

Status CheckWaiver(Waiver& w, Millis now) {
  static const std::vector<std::string> kGates = {"security", "tests", "performance"};
  if (std::find(kGates.begin(), kGates.end(), w.gate) == kGates.end()) {
    return problems::InvalidInput("'" + w.gate +
                                  "' is not a gate: give security, tests or performance");
  }
  while (!w.reason.empty() && (w.reason.back() == ' ' || w.reason.back() == '\n'))
    w.reason.pop_back();
  if (w.reason.size() < 3) {
    return problems::InvalidInput(
        "--reason is too short: say why the gate may be skipped (3 characters at least)");
  }
  if (w.reason.size() > 2000)
    return problems::InvalidInput("--reason is longer than 2000 characters");
  if (w.until <= now)
    return problems::InvalidInput("--until " + FormatTime(w.until) + " is in the past");
  if (w.until - now > Millis{kMaxWaiverDays} * 86'400'000) {
    return problems::InvalidInput("--until " + FormatTime(w.until) + " is more than " +
                                  std::to_string(kMaxWaiverDays) +
                                  " days away: a waiver is temporary; record a new one later");
  }
  return Ok();
}

Result<Json> Waive(App& app, const store::Tenant& tenant, const Actor& actor,
                   const store::Project& project, Waiver w) {
  const Millis now = app.clock.Now();
  PS_TRY(CheckWaiver(w, now));
  store::AuditEntry e;
  e.tenant = tenant;
  e.user_id = actor.id;
  e.action = kWaived;
  e.target = project.id;
  e.meta = {{"gate", w.gate}, {"reason", w.reason}, {"until", w.until}, {"project", project.name}};
  e.created_at = now;
  PS_ASSIGN(std::int64_t id, store::WriteValue<std::int64_t>(
                                 app.store, [&](store::Tx& tx) { return tx.AppendAudit(e); }));
  return Json{{"id", id},         {"gate", w.gate},  {"reason", w.reason},
              {"until", w.until}, {"by", e.user_id}, {"at", now}};
}

}  // namespace ps::service
