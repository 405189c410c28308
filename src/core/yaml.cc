#include "core/yaml.h"

#include <string>

namespace ps {

bool YamlNestingWithinLimit(std::string_view text, int max_depth) {
  int depth = 0;
  std::size_t indent = 0;
  bool line_start = true;
  char quote = 0;
  for (char ch : text) {
    if (ch == '\n') {
      line_start = true;
      indent = 0;
      continue;
    }
    if (line_start) {
      if (ch == ' ' || ch == '-') {
        if (++indent > 4 * static_cast<std::size_t>(max_depth)) return false;
        continue;
      }
      line_start = false;
    }
    if (quote) {
      if (ch == quote) quote = 0;
      continue;
    }
    if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '[' || ch == '{') {
      if (++depth > max_depth) return false;
    } else if (ch == ']' || ch == '}') {
      if (depth > 0) --depth;
    }
  }
  return true;
}

namespace {

// "---" or "..." followed by the end of the line, a space or a tab.
bool IsMarker(std::string_view line, char c) {
  if (line.size() < 3 || line[0] != c || line[1] != c || line[2] != c) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// A line that may sit between documents: blank, a comment, or a directive.
bool IsPrefixLine(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t\r");
  if (i == std::string_view::npos || line[i] == '#') return true;
  return i == 0 && line[0] == '%';
}

}  // namespace

std::vector<YamlDocument> LoadYamlStream(std::string_view text) {
  struct Part {
    std::size_t begin, end;
    int first_line;
  };
  std::vector<Part> parts;
  bool in_prefix = true;  // at the stream's start or after "...": directives may follow
  Part current{0, 0, 0};
  bool open = false;  // `current` holds a document's lines
  int line_no = 0;
  std::size_t pos = 0;
  auto close = [&](std::size_t at) {
    if (open) parts.push_back({current.begin, at, current.first_line});
    open = false;
  };
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (IsMarker(line, '-')) {
      if (!in_prefix) close(pos);
      if (!open) current = {pos, 0, line_no};
      open = true;
      in_prefix = false;
    } else if (IsMarker(line, '.')) {
      close(next);
      in_prefix = true;
    } else if (in_prefix && IsPrefixLine(line)) {
      if (!open) current = {pos, 0, line_no};
      open = true;
    } else {
      if (!open) current = {pos, 0, line_no};
      open = true;
      in_prefix = false;
    }
    pos = next;
    ++line_no;
  }
  close(text.size());

  std::vector<YamlDocument> docs;
  for (const auto& p : parts) {
    YAML::Node node;
    try {
      node = YAML::Load(std::string(text.substr(p.begin, p.end - p.begin)));
    } catch (YAML::Exception& e) {
      if (!e.mark.is_null()) {
        YAML::Mark mark = e.mark;
        mark.line += p.first_line;
        throw YAML::ParserException(mark, e.msg);
      }
      throw;
    }
    if (node && !node.IsNull()) docs.push_back({node, p.first_line});
  }
  return docs;
}

}  // namespace ps
