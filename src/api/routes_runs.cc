// Runs: list, show, cancel, retry, logs, events, and the live stream.
#include <algorithm>
#include <fstream>

#include "api/api.h"
#include "service/runs.h"
#include "store/model_json.h"

namespace ps::api {

namespace {

Result<std::int64_t> SeqParam(const Request& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v || v->empty()) return 0;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(*v, &used);
    if (used != v->size() || n < 0) throw std::invalid_argument("not a sequence number");
    return n;
  } catch (const std::exception&) {
    return BadRequest(name + " must be an event's sequence number");
  }
}

// Newest first, in pages: ?after=RUN_ID continues after that run (a
// keyset cursor: runs made meanwhile do not shift the pages).
Result<Response> ListRuns(Call& c) {
  PS_ASSIGN(int limit, LimitParam(c.req, 50, 500));
  const std::string project_id = c.req.Param("project_id").value_or("");
  const std::string workspace = c.req.Param("workspace").value_or("");
  std::vector<Scope> scopes;
  if (!project_id.empty()) {
    PS_ASSIGN(auto found, c.Project(project_id, Need::kView));
    scopes.push_back(found.first);
  } else if (!workspace.empty()) {
    PS_ASSIGN(Scope s, c.InWorkspace(workspace, Need::kView));
    scopes.push_back(s);
  } else {
    PS_ASSIGN(scopes, c.Visible());
  }
  store::RunFilter filter{project_id, limit, "", 0};
  if (auto after = c.req.Param("after"); after && !after->empty()) {
    PS_ASSIGN(auto cursor, c.Run(*after, Need::kView));
    filter.before_id = cursor.second.id;
    filter.before_created_at = cursor.second.created_at;
  }
  std::vector<store::Run> runs;
  for (const auto& s : scopes) {
    PS_ASSIGN(auto some, service::ListRunsPage(c.app(), s.tenant, filter));
    runs.insert(runs.end(), some.begin(), some.end());
  }
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  if (static_cast<int>(runs.size()) > limit) runs.resize(static_cast<std::size_t>(limit));
  Json items = Json::array();
  for (const auto& r : runs) items.push_back(store::ToJson(r));
  Response r = Response::WithJson(200, {{"items", items}});
  if (static_cast<int>(runs.size()) == limit) {
    std::string next = "/v1/runs?after=" + runs.back().id + "&limit=" + std::to_string(limit);
    if (!project_id.empty()) next += "&project_id=" + project_id;
    if (!workspace.empty()) next += "&workspace=" + workspace;
    r.Set("Link", "<" + next + ">; rel=\"next\"");
  }
  return r;
}

Result<Response> GetRun(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kView));
  PS_ASSIGN(service::RunDetail d,
            service::LoadDetail(c.app(), found.first.tenant, found.second.id));
  return Response::WithJson(200, service::DetailJson(d));
}

Result<Response> CancelRun(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kOperate));
  PS_TRY(service::Cancel(c.app(), found.first.tenant, c.actor(), found.second.id));
  return Response::WithJson(202, {{"run_id", found.second.id}, {"cancel_requested", true}});
}

Result<Response> RetryRun(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kOperate));
  PS_TRY(service::Retry(c.app(), found.first.tenant, c.actor(), found.second.id));
  PS_ASSIGN(store::Run run, service::ResolveRun(c.app(), found.first.tenant, found.second.id));
  return Accepted(run);
}

// The stage attempts' logs, each as its text's last 64 KiB.
Result<Response> RunLogs(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kView));
  PS_ASSIGN(auto logs, service::StageLogs(c.app(), found.first.tenant, found.second.id));
  Json items = Json::array();
  constexpr std::streamoff kTail = 64 * 1024;
  for (const auto& l : logs) {
    std::ifstream in(l.path, std::ios::binary);
    std::string text;
    if (in) {
      in.seekg(0, std::ios::end);
      const std::streamoff size = in.tellg();
      in.seekg(std::max<std::streamoff>(0, size - kTail));
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    items.push_back(
        {{"stage", l.stage}, {"attempt", l.attempt}, {"running", l.running}, {"text", text}});
  }
  return Response::WithJson(200, {{"items", items}});
}

// Events after a sequence number, as JSON pages (the stream's catch-up for
// clients that poll).
Result<Response> RunEvents(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kView));
  PS_ASSIGN(std::int64_t after, SeqParam(c.req, "after"));
  PS_ASSIGN(int limit, LimitParam(c.req, 500, 5000));
  PS_ASSIGN(auto page,
            service::EventsAfter(c.app(), found.first.tenant, after, found.second.id, limit));
  Json items = Json::array();
  for (const auto& e : page.events) items.push_back(store::ToJson(e));
  Response r = Response::WithJson(200, {{"items", items}, {"next", page.next}});
  if (static_cast<int>(page.events.size()) == limit) {
    r.Set("Link", "</v1/runs/" + found.second.id + "/events?after=" + std::to_string(page.next) +
                      "&limit=" + std::to_string(limit) + ">; rel=\"next\"");
  }
  return r;
}

// Server-Sent Events: the handler checks access and where to resume; the
// server streams (api/server.cc).
Result<Response> Stream(Call& c) {
  PS_ASSIGN(auto found, c.Run(c.params["id"], Need::kView));
  std::int64_t after = 0;
  const std::string last = c.req.Header("last-event-id");
  if (!last.empty()) {
    try {
      std::size_t used = 0;
      after = std::stoll(last, &used);
      if (used != last.size() || after < 0) throw std::invalid_argument("bad");
    } catch (const std::exception&) {
      return BadRequest("Last-Event-ID must be an event's sequence number");
    }
  } else {
    PS_ASSIGN(after, SeqParam(c.req, "after"));
  }
  Response r;
  r.stream = std::make_shared<EventStream>(EventStream{found.first.tenant, found.second.id, after});
  r.Set("Content-Type", "text/event-stream");
  r.Set("Cache-Control", "no-store");
  r.Set("X-Accel-Buffering", "no");
  return r;
}

}  // namespace

void AddRunRoutes(std::vector<Route>& routes) {
  routes.push_back({"GET", "/v1/runs", "listRuns", "runs",
                    "Runs, newest first (?project_id= or ?workspace=ORG/WORKSPACE; pages: "
                    "?limit=, ?after=RUN_ID, Link)",
                    Need::kView, "", nullptr, 200, "application/json", ListRuns});
  routes.push_back({"GET", "/v1/runs/{id}", "getRun", "runs",
                    "A run: its stages, attempts, dead letters and artifacts", Need::kView, "",
                    nullptr, 200, "application/json", GetRun});
  routes.push_back({"POST", "/v1/runs/{id}/cancel", "cancelRun", "runs", "Cancel a run",
                    Need::kOperate, "run.cancel", nullptr, 202, "application/json", CancelRun});
  routes.push_back({"POST", "/v1/runs/{id}/retry", "retryRun", "runs",
                    "Replay a failed run's dead letters", Need::kOperate, "run.retry", nullptr, 202,
                    "application/json", RetryRun});
  routes.push_back({"GET", "/v1/runs/{id}/logs", "runLogs", "runs",
                    "The run's stage logs (each attempt's last 64 KiB)", Need::kView, "", nullptr,
                    200, "application/json", RunLogs});
  routes.push_back({"GET", "/v1/runs/{id}/events", "runEvents", "runs",
                    "The run's events after ?after= (pages)", Need::kView, "", nullptr, 200,
                    "application/json", RunEvents});
  routes.push_back({"GET", "/v1/runs/{id}/stream", "streamRun", "runs",
                    "Live progress as Server-Sent Events: id = the event's sequence number; "
                    "resume with Last-Event-ID or ?after=; a final `end` event",
                    Need::kView, "", nullptr, 200, "text/event-stream", Stream});
}

}  // namespace ps::api
