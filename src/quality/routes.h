// HTTP routes a service declares, found in its source: Express and Fastify
// (app.get('/x', ...)), FastAPI and Flask decorators, Django's urls.py, Rails'
// config/routes.rb, Spring's @GetMapping family, Gin / Echo / chi / net/http
// handlers, and OpenAPI documents. From them, the smoke suite: the routes a
// GET without parameters can reach, to be requested against staging.
// Untrusted input: long lines are cut, nothing is executed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace ps::quality {

struct Route {
  std::string method;  // "GET", "POST", ... ("ANY" when the handler takes every method)
  std::string path;    // "/api/items/:id" as declared (parameters kept in the framework's syntax)
  std::string framework;
  std::string file;
  int line = 0;
};

// The routes `content` declares, when `path` (relative to the service's
// folder) is a file these readers know.
std::vector<Route> FindRoutes(const std::string& path, std::string_view content);

// Whether a file may declare routes (by name): the caller reads only these.
bool MayDeclareRoutes(std::string_view path);

// The routes declared under a service's folder: files MayDeclareRoutes
// accepts, up to 1 MiB each, 20,000 files and 12 levels; dependencies,
// virtual environments, build output and .git are not entered.
std::vector<Route> FindRoutesIn(const std::string& dir);

// The smoke suite: GET (or ANY) routes without parameters, each once,
// sorted, at most `max` (the health route first when given).
std::vector<Route> SmokeRoutes(const std::vector<Route>& routes, const std::string& health,
                               std::size_t max = 50);

Json RoutesToJson(const std::vector<Route>& routes);

}  // namespace ps::quality
