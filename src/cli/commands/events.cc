// `prodsprint events`: the event stream (outbox) in order, resumable from a
// sequence number — the same cursor the API's SSE stream takes as
// Last-Event-ID.
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "store/model_json.h"

namespace ps::cli {
namespace {

Result<int> CmdEvents(const Options& o, std::int64_t after, const std::string& run_id, bool follow,
                      bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  std::string rid;
  if (!run_id.empty()) {
    PS_ASSIGN(store::Run run, service::ResolveRun(app, s->tenant, run_id));
    rid = run.id;
  }
  const Term t = Term::Detect();
  std::int64_t seq = after;
  while (true) {
    PS_ASSIGN(service::EventPage page, service::EventsAfter(app, s->tenant, seq, rid, 1000));
    seq = page.next;
    for (const auto& e : page.events) {
      if (json) {
        std::cout << Dump(store::ToJson(e)) << "\n";
      } else {
        std::cout << t.Dim(std::to_string(e.seq)) << "  " << FormatTime(e.created_at) << "  "
                  << t.Bold(e.name) << "  " << e.run_id << "  " << Dump(e.payload) << "\n";
      }
    }
    std::cout << std::flush;
    if (!follow || g_interrupted) break;
    if (page.events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return kExitOk;
}

}  // namespace

void RegisterEvents(Commands& commands) {
  struct Args {
    std::int64_t after = 0;
    std::string run_id;
    bool follow = false;
  };
  auto a = std::make_shared<Args>();
  auto json = std::make_shared<bool>(false);
  auto* events = commands.app().add_subcommand(
      "events",
      "Print the event stream (outbox) in order: each event has a sequence number, so a reader\n"
      "can resume after the last one it saw with --after.");
  events->add_option("--after", a->after, "Only events with a larger sequence number");
  events->add_option("--run", a->run_id, "Only events of this run");
  events->add_flag("-f,--follow", a->follow, "Keep printing new events");
  events->add_flag("--json", *json, "One JSON object per line");
  const Options& o = commands.options();
  commands.Add(
      events, [&o, a, json] { return CmdEvents(o, a->after, a->run_id, a->follow, *json); }, json);
}

}  // namespace ps::cli
