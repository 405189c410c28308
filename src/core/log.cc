#include "core/log.h"

#include <nlohmann/json.hpp>

namespace ps {

namespace {
const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendLogfmt(std::string& out, std::string_view k, std::string_view v) {
  if (!out.empty()) out += ' ';
  out += k;
  out += '=';
  if (!NeedsQuoting(v)) {
    out += v;
    return;
  }
  // JSON string escaping is a valid logfmt quoting and handles control bytes.
  out +=
      nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  if (s == "debug") {
    *out = LogLevel::kDebug;
  } else if (s == "info") {
    *out = LogLevel::kInfo;
  } else if (s == "warn") {
    *out = LogLevel::kWarn;
  } else if (s == "error") {
    *out = LogLevel::kError;
  } else if (s == "off") {
    *out = LogLevel::kOff;
  } else {
    return false;
  }
  return true;
}

bool ParseLogFormat(std::string_view s, LogFormat* out) {
  if (s == "logfmt") {
    *out = LogFormat::kLogfmt;
  } else if (s == "json") {
    *out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

LogSink::~LogSink() {
  if (owned_ && f_) std::fclose(f_);
}

void LogSink::Write(const std::string& line) {
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  std::fputc('\n', f_);
  std::fflush(f_);
}

Logger Logger::Null() {
  return Logger(nullptr, LogFormat::kLogfmt, LogLevel::kOff, SystemClock::Instance());
}

Logger Logger::Stderr(LogFormat format, LogLevel level) {
  static auto sink = std::make_shared<LogSink>(stderr, false);
  return Logger(sink, format, level, SystemClock::Instance());
}

Logger Logger::With(std::string key, std::string value) const {
  Logger l = *this;
  for (auto& [k, v] : l.fields_) {
    if (k == key) {
      v = std::move(value);
      return l;
    }
  }
  l.fields_.emplace_back(std::move(key), std::move(value));
  return l;
}

Logger Logger::With(const LogFields& more) const {
  Logger l = *this;
  for (const auto& [k, v] : more) l = l.With(k, v);
  return l;
}

std::string Logger::Format(Millis ts, LogLevel level, std::string_view msg,
                           const LogFields& extra) const {
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = FormatTime(ts);
    j["level"] = LevelName(level);
    j["msg"] = std::string(msg);
    for (const auto& [k, v] : fields_) j[k] = v;
    for (const auto& [k, v] : extra) j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out;
  AppendLogfmt(out, "ts", FormatTime(ts));
  AppendLogfmt(out, "level", LevelName(level));
  AppendLogfmt(out, "msg", msg);
  for (const auto& [k, v] : fields_) AppendLogfmt(out, k, v);
  for (const auto& [k, v] : extra) AppendLogfmt(out, k, v);
  return out;
}

void Logger::Log(LogLevel level, std::string_view msg, const LogFields& extra) const {
  if (!Enabled(level)) return;
  sink_->Write(Format(clock_->Now(), level, msg, extra));
}

}  // namespace ps
