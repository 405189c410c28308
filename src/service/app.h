// The application layer: what ProdSprint does, for every interface — the
// CLI today, the HTTP API and the dashboard next. Each call takes the
// tenant it acts in and the actor acting (recorded on what changes), never
// a terminal: it returns values and Problems, and prints nothing. Progress
// reaches callers as the run's events (Runs::EventsAfter: one cursor for
// the CLI's progress lines and for SSE's Last-Event-ID).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "store/store.h"
#include "targets/target.h"

namespace ps::service {

// Who is acting: "cli:alice" from the command line, "user:<subject>" from
// the API. Recorded in the audit log and on run signals.
struct Actor {
  std::string id;
};

// One state the application layer works on.
struct App {
  const Config& config;  // this process's configuration: the defaults runs record
  store::Store& store;
  artifacts::ArtifactStore& artifacts;
  engine::Engine& engine;
  const targets::Targets& targets;
  Clock& clock;
  Random& random;
  // The state folder: where checkouts of projects named by git URLs live
  // (<workdir>/checkouts/ORG/WORKSPACE/PROJECT). Empty: none can be cloned.
  std::filesystem::path workdir = {};
  // Whether runs record the settings of the project's own prodsprint.yaml
  // (policy, release, deploy: read from its folder or checkout when they are
  // submitted) rather than `config`'s. The server serves many projects; the
  // CLI's `config` already is the project's.
  bool project_config = false;
};

// How a caller waits for a run it started: the CLI runs workers in its own
// process and prints progress; a server leaves the run to its workers.
// `on_interrupt` runs if the caller is interrupted while it waits.
using Drive = std::function<Result<store::Run>(const std::string& run_id,
                                               const std::function<void()>& on_interrupt)>;

}  // namespace ps::service
