#include "core/xml.h"

#include <expat.h>

#include <climits>
#include <cstring>
#include <memory>

namespace ps {

std::string_view XmlAttrs::Get(std::string_view name) const {
  for (const char** p = pairs_; p && p[0]; p += 2) {
    if (name == p[0]) return p[1] ? std::string_view(p[1]) : std::string_view();
  }
  return {};
}

bool XmlAttrs::Has(std::string_view name) const {
  for (const char** p = pairs_; p && p[0]; p += 2) {
    if (name == p[0]) return true;
  }
  return false;
}

namespace {

struct Reader {
  XML_Parser parser = nullptr;
  XmlHandler* handler = nullptr;
  XmlOptions options;
  std::vector<std::string> path;
  std::vector<std::string> texts;
  std::string failure;

  void Fail(std::string why) {
    if (failure.empty()) failure = std::move(why);
    XML_StopParser(parser, XML_FALSE);
  }
  static void Start(void* self, const XML_Char* name, const XML_Char** attrs) {
    auto* r = static_cast<Reader*>(self);
    if (!r->failure.empty()) return;
    if (r->path.size() >= r->options.max_depth) {
      r->Fail("nested deeper than " + std::to_string(r->options.max_depth) + " elements");
      return;
    }
    const char* local = std::strrchr(name, ':');
    r->path.emplace_back(local ? local + 1 : name);
    r->texts.emplace_back();
    r->handler->Start(r->path, XmlAttrs(attrs));
  }
  static void End(void* self, const XML_Char*) {
    auto* r = static_cast<Reader*>(self);
    if (!r->failure.empty() || r->path.empty()) return;
    r->handler->End(r->path, r->texts.back());
    r->path.pop_back();
    r->texts.pop_back();
  }
  static void Text(void* self, const XML_Char* s, int len) {
    auto* r = static_cast<Reader*>(self);
    if (r->texts.empty() || len <= 0) return;
    std::string& t = r->texts.back();
    const std::size_t room = r->options.max_text > t.size() ? r->options.max_text - t.size() : 0;
    t.append(s, std::min(room, static_cast<std::size_t>(len)));
  }
  static void Entity(void* self, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                     const XML_Char*, const XML_Char*, const XML_Char*) {
    static_cast<Reader*>(self)->Fail("entity declarations are not accepted");
  }
};

}  // namespace

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c < 0x20 && c != '\n' && c != '\t' && c != '\r' ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

Status ParseXml(std::string_view text, XmlHandler& handler, const XmlOptions& options) {
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr),
                                                                 XML_ParserFree);
  if (!parser) return problems::Internal("could not create an XML parser");
  Reader r;
  r.parser = parser.get();
  r.handler = &handler;
  r.options = options;
  XML_SetUserData(parser.get(), &r);
  XML_SetElementHandler(parser.get(), Reader::Start, Reader::End);
  XML_SetCharacterDataHandler(parser.get(), Reader::Text);
  XML_SetEntityDeclHandler(parser.get(), Reader::Entity);
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  constexpr std::size_t kChunk = 1 << 20;
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min(kChunk, text.size() - pos);
    const bool last = pos + n == text.size();
    if (XML_Parse(parser.get(), text.data() + pos, static_cast<int>(n), last) != XML_STATUS_OK ||
        !r.failure.empty()) {
      const std::string why =
          r.failure.empty() ? XML_ErrorString(XML_GetErrorCode(parser.get())) : r.failure;
      return problems::InvalidInput("malformed XML: " + why + " (line " +
                                    std::to_string(XML_GetCurrentLineNumber(parser.get())) + ")");
    }
    pos += n;
  } while (pos < text.size());
  return Ok();
}

}  // namespace ps
