// Structured logs in JSON lines or logfmt. A Logger carries fields (org,
// workspace, project, run, stage ids...) that every line it writes includes;
// With() derives a logger with more fields. Thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace ps {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class LogFormat { kLogfmt, kJson };

bool ParseLogLevel(std::string_view s, LogLevel* out);
bool ParseLogFormat(std::string_view s, LogFormat* out);

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Where lines go: a FILE* it does not own (stderr) or owns (a log file).
class LogSink {
 public:
  LogSink(std::FILE* f, bool owned) : f_(f), owned_(owned) {}
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;
  void Write(const std::string& line);

 private:
  std::mutex mu_;
  std::FILE* f_;
  bool owned_;
};

class Logger {
 public:
  Logger(std::shared_ptr<LogSink> sink, LogFormat format, LogLevel level, Clock& clock)
      : sink_(std::move(sink)), format_(format), level_(level), clock_(&clock) {}

  // A logger that writes nowhere.
  static Logger Null();
  // stderr, logfmt, info.
  static Logger Stderr(LogFormat format = LogFormat::kLogfmt, LogLevel level = LogLevel::kInfo);

  Logger With(std::string key, std::string value) const;
  Logger With(const LogFields& more) const;

  void Log(LogLevel level, std::string_view msg, const LogFields& extra = {}) const;
  void Debug(std::string_view msg, const LogFields& extra = {}) const {
    Log(LogLevel::kDebug, msg, extra);
  }
  void Info(std::string_view msg, const LogFields& extra = {}) const {
    Log(LogLevel::kInfo, msg, extra);
  }
  void Warn(std::string_view msg, const LogFields& extra = {}) const {
    Log(LogLevel::kWarn, msg, extra);
  }
  void Error(std::string_view msg, const LogFields& extra = {}) const {
    Log(LogLevel::kError, msg, extra);
  }

  bool Enabled(LogLevel level) const { return sink_ && level >= level_; }
  const LogFields& fields() const { return fields_; }

  // One formatted line without the trailing newline (exposed for tests).
  std::string Format(Millis ts, LogLevel level, std::string_view msg, const LogFields& extra) const;

 private:
  std::shared_ptr<LogSink> sink_;
  LogFormat format_;
  LogLevel level_;
  Clock* clock_;
  LogFields fields_;
};

}  // namespace ps
