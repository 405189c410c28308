// Ruby (Bundler: Rails, Sinatra) and PHP (Composer: Laravel, Symfony).
#include <cctype>
#include <sstream>

#include "stages/audit/audit.h"

namespace ps::stages::audit {

namespace {

std::string Strip(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// The first quoted string in `s` from `pos`.
std::optional<std::string> FirstQuoted(const std::string& s, std::size_t pos = 0) {
  auto q = s.find_first_of("'\"", pos);
  if (q == std::string::npos) return std::nullopt;
  auto end = s.find(s[q], q + 1);
  if (end == std::string::npos) return std::nullopt;
  return s.substr(q + 1, end - q - 1);
}

void ReadVersionFile(RepoIndex& idx, Service& s, const std::string& path,
                     const std::string& runtime, double confidence) {
  if (auto t = idx.Read(path)) {
    std::string v = Strip(*t);
    if (v.rfind(runtime + "-", 0) == 0) v = v.substr(runtime.size() + 1);
    if (!v.empty() && v.size() < 40 && v.find('\n') == std::string::npos) {
      s.runtime_version.Add(Json{{"runtime", runtime}, {"version", v}}, confidence, {path, 1, v});
    }
  }
}

}  // namespace

void DetectRuby(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("Gemfile")) {
    auto text = idx.Read(path);
    if (!text) continue;
    const std::string root = DirOf(path);
    std::map<std::string, Evidence> gems;
    std::istringstream in(*text);
    std::string line;
    int n = 0;
    std::optional<std::pair<std::string, int>> ruby_version;
    while (std::getline(in, line)) {
      ++n;
      std::string l = Strip(line);
      if (l.rfind("gem ", 0) == 0 || l.rfind("gem(", 0) == 0) {
        if (auto g = FirstQuoted(l)) gems.emplace(*g, Evidence{path, n, l});
      } else if (l.rfind("ruby ", 0) == 0) {
        if (auto v = FirstQuoted(l)) ruby_version = {*v, n};
      }
    }
    Service& s = ServiceAt(out, root);
    s.language.Add("Ruby", 0.9, {path, 0, "Gemfile"});
    s.package_manager.Add("bundler", 0.95, {path, 0, "Gemfile"});
    s.build_command.Add("bundle install", 0.7, {path, 0, "Gemfile"});
    if (ruby_version) {
      s.runtime_version.Add(Json{{"runtime", "ruby"}, {"version", ruby_version->first}}, 0.85,
                            {path, ruby_version->second, "ruby " + ruby_version->first});
    }
    ReadVersionFile(idx, s, JoinPath(root, ".ruby-version"), "ruby", 0.9);
    const bool rails = gems.count("rails") || gems.count("railties");
    if (rails) {
      const Evidence& e = gems.count("rails") ? gems.at("rails") : gems.at("railties");
      s.framework.Add("Rails", 0.95, e);
      s.kind.Add("web", 0.9, e);
      s.port.Add(3000, 0.3, {path, e.line, "Rails default port"});
      s.start_command.Add("bundle exec rails server -b 0.0.0.0 -p $PORT", 0.6, e);
      s.migrations.Add(Json{{"tool", "activerecord"},
                            {"dir", JoinPath(root, "db/migrate")},
                            {"command", "bin/rails db:migrate"}},
                       0.9, e);
      if (gems.count("rspec-rails")) {
        s.test_framework.Add("rspec", 0.9, gems.at("rspec-rails"));
        s.test_command.Add("bundle exec rspec", 0.85, gems.at("rspec-rails"));
      } else {
        s.test_framework.Add("minitest", 0.6, e);
        s.test_command.Add("bin/rails test", 0.6, e);
      }
    } else if (gems.count("sinatra")) {
      s.framework.Add("Sinatra", 0.9, gems.at("sinatra"));
      s.kind.Add("web", 0.85, gems.at("sinatra"));
      s.port.Add(4567, 0.3, {path, gems.at("sinatra").line, "Sinatra default port"});
      if (idx.Has(JoinPath(root, "config.ru"))) {
        s.start_command.Add("bundle exec rackup --host 0.0.0.0 -p $PORT", 0.7,
                            {JoinPath(root, "config.ru"), 0, "config.ru"});
      }
    } else if (idx.Has(JoinPath(root, "config.ru"))) {
      // A Rack application without a framework (or with WEBrick): rackup
      // serves its config.ru.
      const std::string ru = JoinPath(root, "config.ru");
      s.framework.Add("Rack", 0.8, {ru, 0, "config.ru"});
      s.kind.Add("web", 0.8, {ru, 0, "config.ru"});
      s.port.Add(9292, 0.3, {ru, 0, "rackup default port"});
      s.start_command.Add("bundle exec rackup --host 0.0.0.0 -p $PORT", 0.7, {ru, 0, "config.ru"});
    } else if (!gems.count("sidekiq")) {
      s.deployable = false;
    }
    if (gems.count("puma"))
      s.start_command.Add("bundle exec puma -C config/puma.rb", 0.65, gems.at("puma"));
    if (gems.count("sidekiq")) {
      if (!rails && !gems.count("sinatra")) s.kind.Add("worker", 0.7, gems.at("sidekiq"));
      s.AddBacking("redis", gems.at("sidekiq"));
    }
    if (!rails && gems.count("rspec")) {
      s.test_framework.Add("rspec", 0.85, gems.at("rspec"));
      s.test_command.Add("bundle exec rspec", 0.8, gems.at("rspec"));
    }
    for (const auto& [gem, svc] :
         std::vector<std::pair<std::string, std::string>>{{"pg", "postgres"},
                                                          {"mysql2", "mysql"},
                                                          {"trilogy", "mysql"},
                                                          {"redis", "redis"},
                                                          {"mongoid", "mongodb"},
                                                          {"bunny", "rabbitmq"},
                                                          {"ruby-kafka", "kafka"},
                                                          {"rdkafka", "kafka"},
                                                          {"karafka", "kafka"},
                                                          {"elasticsearch", "elasticsearch"},
                                                          {"dalli", "memcached"},
                                                          {"aws-sdk-s3", "s3"}}) {
      if (gems.count(gem)) s.AddBacking(svc, gems.at(gem));
    }
    // Families of gems: Sidekiq's (sidekiq-cron, govuk_sidekiq...) need Redis;
    // AMQP consumers (bunny's wrappers, *_message_queue_*) need RabbitMQ.
    for (const auto& [gem, ev] : gems) {
      if (gem.find("sidekiq") != std::string::npos) s.AddBacking("redis", ev);
      if ((gem.find("message_queue") != std::string::npos ||
           gem.find("amqp") != std::string::npos || gem.find("sneakers") != std::string::npos) &&
          gem.find("mock") == std::string::npos)
        s.AddBacking("rabbitmq", ev);
    }
  }
}

void DetectPhp(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("composer.json")) {
    auto parsed = idx.ReadJson(path);
    if (!parsed) continue;
    const Json& doc = *parsed;
    auto text = idx.Read(path);  // cached: for line numbers
    const std::string root = DirOf(path);
    std::map<std::string, std::string> req;
    for (const char* section : {"require", "require-dev"}) {
      if (doc.contains(section) && doc[section].is_object()) {
        for (const auto& [k, v] : doc[section].items())
          req[k] = v.is_string() ? v.get<std::string>() : "";
      }
    }
    auto ev = [&](const std::string& key) -> Evidence {
      auto pos = text->find("\"" + key + "\"");
      return {path, pos == std::string::npos ? 0 : LineOf(*text, pos), key};
    };
    Service& s = ServiceAt(out, root);
    s.language.Add("PHP", 0.9, {path, 0, "composer.json"});
    s.package_manager.Add("composer", 0.95, {path, 0, "composer.json"});
    s.build_command.Add("composer install --no-dev --optimize-autoloader", 0.7,
                        {path, 0, "composer"});
    if (req.count("php")) {
      s.runtime_version.Add(Json{{"runtime", "php"}, {"version", req["php"]}}, 0.8, ev("php"));
    }
    if (req.count("laravel/framework")) {
      s.framework.Add("Laravel", 0.95, ev("laravel/framework"));
      s.kind.Add("web", 0.9, ev("laravel/framework"));
      s.port.Add(8000, 0.3, {path, 0, "php artisan serve default port"});
      s.start_command.Add("php artisan serve --host 0.0.0.0 --port $PORT", 0.5,
                          ev("laravel/framework"));
      s.migrations.Add(Json{{"tool", "laravel"},
                            {"dir", JoinPath(root, "database/migrations")},
                            {"command", "php artisan migrate --force"}},
                       0.9, ev("laravel/framework"));
    } else if (req.count("symfony/framework-bundle")) {
      s.framework.Add("Symfony", 0.95, ev("symfony/framework-bundle"));
      s.kind.Add("web", 0.9, ev("symfony/framework-bundle"));
      s.port.Add(8000, 0.3, {path, 0, "symfony server default port"});
      s.start_command.Add("php -S 0.0.0.0:$PORT -t public", 0.5, ev("symfony/framework-bundle"));
      if (req.count("doctrine/doctrine-migrations-bundle")) {
        s.migrations.Add(
            Json{{"tool", "doctrine"},
                 {"dir", JoinPath(root, "migrations")},
                 {"command", "php bin/console doctrine:migrations:migrate --no-interaction"}},
            0.9, ev("doctrine/doctrine-migrations-bundle"));
      }
    } else {
      // Other frameworks and application servers: an application, not a
      // library, when it is a project that one of them serves.
      static const std::vector<std::pair<std::string, std::string>> kPhpWeb = {
          {"mezzio/mezzio", "Mezzio"},
          {"slim/slim", "Slim"},
          {"laminas/laminas-mvc", "Laminas"},
          {"cakephp/cakephp", "CakePHP"},
          {"yiisoft/yii2", "Yii"},
          {"codeigniter4/framework", "CodeIgniter"},
          {"spiral/roadrunner", "RoadRunner"},
          {"laravel/octane", "Octane"}};
      const std::string* fw = nullptr;
      for (const auto& [pkg, name] : kPhpWeb) {
        if (req.count(pkg)) {
          s.framework.Add(name, 0.85, ev(pkg));
          if (!fw) fw = &pkg;
        }
      }
      const bool project =
          doc.value("type", "") == "project" || idx.Has(JoinPath(root, "public/index.php"));
      if (fw && (project || doc.value("type", "") != "library")) {
        s.kind.Add("web", 0.8, ev(*fw));
        s.port.Add(8080, 0.3, {path, 0, "PHP application server default port"});
      } else {
        s.deployable = false;  // a library
      }
    }
    if (req.count("doctrine/migrations") && s.migrations.empty()) {
      s.migrations.Add(Json{{"tool", "doctrine"},
                            {"dir", JoinPath(root, "data/migrations")},
                            {"command", "vendor/bin/doctrine-migrations migrate --no-interaction"}},
                       0.8, ev("doctrine/migrations"));
    }
    if (req.count("pestphp/pest")) {
      s.test_framework.Add("pest", 0.9, ev("pestphp/pest"));
      s.test_command.Add("vendor/bin/pest", 0.85, ev("pestphp/pest"));
    } else if (req.count("phpunit/phpunit")) {
      s.test_framework.Add("phpunit", 0.9, ev("phpunit/phpunit"));
      s.test_command.Add("vendor/bin/phpunit", 0.85, ev("phpunit/phpunit"));
    }
    for (const auto& [pkg, svc] : std::vector<std::pair<std::string, std::string>>{
             {"predis/predis", "redis"},
             {"ext-redis", "redis"},
             {"mongodb/mongodb", "mongodb"},
             {"php-amqplib/php-amqplib", "rabbitmq"},
             {"aws/aws-sdk-php", "s3"},
             {"league/flysystem-aws-s3-v3", "s3"},
             {"elasticsearch/elasticsearch", "elasticsearch"},
             {"ext-pgsql", "postgres"},
             {"ext-pdo_pgsql", "postgres"},
             {"ext-pdo_mysql", "mysql"}}) {
      if (req.count(pkg)) s.AddBacking(svc, ev(pkg));
    }
  }
}

}  // namespace ps::stages::audit
