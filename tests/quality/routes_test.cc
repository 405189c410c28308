#include "quality/routes.h"

#include <gtest/gtest.h>

#include <set>

namespace ps::quality {
namespace {

std::set<std::string> Keys(const std::vector<Route>& routes) {
  std::set<std::string> out;
  for (const auto& r : routes) out.insert(r.method + " " + r.path);
  return out;
}

TEST(Routes, ExpressAndFastify) {
  const auto r = FindRoutes("src/server.js", R"JS(
const app = express();
const api = express.Router();
app.get('/healthz', (req, res) => res.send('ok'));
api.post("/items", create);
router.delete(`/items/:id`, remove);
app.all('/legacy', legacy);
const res = await axios.get('/not-a-route');
http.get('/also-not', cb);
app.get(`/tpl/${x}`, h);
app.get(path, h);
)JS");
  EXPECT_EQ(Keys(r), (std::set<std::string>{"GET /healthz", "POST /items", "DELETE /items/:id",
                                            "ANY /legacy"}));
  EXPECT_EQ(r[0].line, 4);
  EXPECT_EQ(r[0].framework, "express");
  EXPECT_TRUE(FindRoutes("src/server.test.js", "app.get('/x', h)").empty());
}

TEST(Routes, BareNodeHttpServers) {
  const auto r = FindRoutes("server.js", R"JS(
const http = require('node:http');
function handler(req, res) {
  if (req.url === '/healthz') return ok(res);
  if (req.method === 'POST' && req.url == "/orders") return create(req, res);
  const { pathname } = new URL(req.url, 'http://x');
  if (pathname === '/api/items') return list(res);
  switch (req.url) {
    case '/about':
      return about(res);
  }
  if (urlFor === '/not') return;
  if (req.url === prefix + '/not') return;
}
http.createServer(handler).listen(8080);
)JS");
  EXPECT_EQ(Keys(r), (std::set<std::string>{"ANY /healthz", "POST /orders", "ANY /api/items",
                                            "ANY /about"}));
  EXPECT_EQ(r[0].framework, "node:http");
  // Express routes win: the comparisons are then not read.
  EXPECT_EQ(Keys(FindRoutes("s.js",
                            "app.get('/a', h);\nif (req.url === '/b') x();\n"
                            "http.createServer(app)")),
            (std::set<std::string>{"GET /a"}));
}

TEST(Routes, FastApiAndFlask) {
  const auto fa = FindRoutes("app/main.py", R"PY(
from fastapi import FastAPI
app = FastAPI()

@app.get("/health")
def health(): ...

@router.post('/items/{item_id}')
def create(): ...
)PY");
  EXPECT_EQ(Keys(fa), (std::set<std::string>{"GET /health", "POST /items/{item_id}"}));
  EXPECT_EQ(fa[0].framework, "fastapi");
  const auto fl = FindRoutes("app.py", R"PY(
@app.route("/")
def index(): ...
@bp.route('/items', methods=["GET", "POST"])
def items(): ...
)PY");
  EXPECT_EQ(Keys(fl), (std::set<std::string>{"GET /", "GET /items", "POST /items"}));
}

TEST(Routes, DjangoUrls) {
  const auto r = FindRoutes("shop/urls.py", R"PY(
urlpatterns = [
    path("health/", views.health),
    path("items/<int:pk>/", views.item),
    path("api/", include("api.urls")),
    re_path(r"^about/$", views.about),
]
)PY");
  EXPECT_EQ(Keys(r),
            (std::set<std::string>{"ANY /health/", "ANY /items/<int:pk>/", "ANY /about/"}));
}

TEST(Routes, RailsRoutes) {
  const auto r = FindRoutes("config/routes.rb", R"RB(
Rails.application.routes.draw do
  root "home#index"
  get "/up" => "rails/health#show"
  resources :articles
  namespace :api do
    get "status", to: "status#show"
    resources :items, only: [:create]
  end
end
)RB");
  EXPECT_EQ(Keys(r), (std::set<std::string>{"GET /", "GET /up", "GET /articles",
                                            "GET /articles/:id", "GET /api/status"}));
}

TEST(Routes, SpringControllers) {
  const auto r = FindRoutes("src/main/java/com/acme/ItemController.java", R"J(
@RestController
@RequestMapping("/api/items")
public class ItemController {
  @GetMapping
  public List<Item> list() { ... }
  @GetMapping("/{id}")
  public Item one() { ... }
  @PostMapping(value = "/bulk")
  public void bulk() { ... }
  @RequestMapping(path = "/old", method = RequestMethod.DELETE)
  public void old() { ... }
}
)J");
  EXPECT_EQ(Keys(r), (std::set<std::string>{"GET /api/items", "GET /api/items/{id}",
                                            "POST /api/items/bulk", "DELETE /api/items/old"}));
}

TEST(Routes, GoHandlers) {
  const auto gin = FindRoutes("main.go", R"GO(
import "github.com/gin-gonic/gin"
r.GET("/ping", ping)
v1.POST("/items/:id", create)
)GO");
  EXPECT_EQ(Keys(gin), (std::set<std::string>{"GET /ping", "POST /items/:id"}));
  EXPECT_EQ(gin[0].framework, "gin");
  const auto std = FindRoutes("cmd/api/main.go", R"GO(
mux.HandleFunc("/healthz", health)
mux.HandleFunc("GET /items/{id}", item)
r.Get("/chi", h)
resp, _ := http.Get("http://example.com/")
)GO");
  EXPECT_EQ(Keys(std), (std::set<std::string>{"ANY /healthz", "GET /items/{id}", "GET /chi"}));
}

TEST(Routes, OpenApiDocuments) {
  const auto y = FindRoutes("openapi.yaml", R"Y(openapi: 3.0.0
paths:
  /items:
    get: {responses: {"200": {description: ok}}}
    post: {responses: {"201": {description: created}}}
  /items/{id}:
    parameters: []
    get: {}
)Y");
  EXPECT_EQ(Keys(y), (std::set<std::string>{"GET /items", "POST /items", "GET /items/{id}"}));
  EXPECT_EQ(y[0].line, 4);
  const auto j = FindRoutes("docs/swagger.json", R"({"paths": {"/a": {"get": {}}, "/b": 5}})");
  EXPECT_EQ(Keys(j), (std::set<std::string>{"GET /a"}));
  EXPECT_TRUE(FindRoutes("openapi.yaml", "paths: [").empty());
  EXPECT_TRUE(FindRoutes("openapi.yaml", ",").empty());
}

TEST(Routes, SmokeSuiteIsTheParameterlessGets) {
  std::vector<Route> all = {
      {"GET", "/items", "express", "a.js", 1},     {"POST", "/items", "express", "a.js", 2},
      {"GET", "/items/:id", "express", "a.js", 3}, {"ANY", "/about/", "django", "urls.py", 4},
      {"GET", "/items", "express", "b.js", 5},     {"GET", "/healthz", "express", "a.js", 6}};
  const auto smoke = SmokeRoutes(all, "/healthz");
  ASSERT_EQ(smoke.size(), 3u);
  EXPECT_EQ(smoke[0].path, "/healthz");  // the health route first
  EXPECT_EQ(smoke[1].path, "/about/");
  EXPECT_EQ(smoke[1].method, "GET");
  EXPECT_EQ(smoke[2].path, "/items");
  EXPECT_EQ(SmokeRoutes(all, "", 1).size(), 1u);
  const Json j = RoutesToJson(smoke);
  EXPECT_EQ(j[2]["source"], "a.js:1");
}

TEST(Routes, HostileInput) {
  const std::string longline(1 << 20, 'x');
  EXPECT_TRUE(FindRoutes("a.js", "app.get('" + longline).empty());
  EXPECT_TRUE(FindRoutes("a.py", "@app.get(\"" + longline).empty());
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "  namespace :a do\n";
  EXPECT_TRUE(FindRoutes("config/routes.rb", deep).empty());
  EXPECT_TRUE(FindRoutes("README.md", "app.get('/x', h)").empty());
  // An empty method name is no route (found by routes_fuzz).
  EXPECT_TRUE(FindRoutes("app.py", "@bp.route('/items', methods=[\"\"])").empty());
  EXPECT_TRUE(FindRoutes("main.go", "mux.HandleFunc(\" /x\", h)").empty());
}

}  // namespace
}  // namespace ps::quality
