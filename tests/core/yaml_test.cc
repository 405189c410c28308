#include "core/yaml.h"

#include <gtest/gtest.h>

#include <string>

namespace ps {
namespace {

TEST(LoadYamlStream, GivesEachDocumentWithTheLineItStartsOn) {
  const std::string text =
      "# leading comment\n"
      "a: 1\n"
      "---\n"
      "b: 2\n"
      "c: 3\n"
      "...\n"
      "%YAML 1.2\n"
      "---\n"
      "d: [4, 5]\n";
  const auto docs = LoadYamlStream(text);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].node["a"].as<int>(), 1);
  EXPECT_EQ(docs[0].first_line, 0);
  EXPECT_EQ(docs[1].node["c"].as<int>(), 3);
  EXPECT_EQ(docs[1].first_line, 2);
  EXPECT_EQ(docs[1].first_line + docs[1].node["c"].Mark().line, 4);
  EXPECT_EQ(docs[2].node["d"][1].as<int>(), 5);
  EXPECT_EQ(docs[2].first_line, 6);  // the directive belongs to the third document
  EXPECT_EQ(docs[2].first_line + docs[2].node["d"].Mark().line, 8);
}

TEST(LoadYamlStream, LeavesOutEmptyDocumentsAndKeepsTextOnTheMarkerLine) {
  const auto docs = LoadYamlStream("---\n---\n# only a comment\n--- |\n  block\n---\r\nx: y\r\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].node.as<std::string>(), "block\n");
  EXPECT_EQ(docs[1].node["x"].as<std::string>(), "y");
  EXPECT_EQ(docs[1].first_line, 5);
  EXPECT_TRUE(LoadYamlStream("").empty());
  EXPECT_TRUE(LoadYamlStream("# nothing\n\n").empty());
}

TEST(LoadYamlStream, DashesInsideContentAreNotMarkers) {
  const auto docs = LoadYamlStream("a: ---\nb: '--- x'\nc:\n  - ---x\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].node["a"].as<std::string>(), "---");
  EXPECT_EQ(docs[0].node["c"][0].as<std::string>(), "---x");
}

// yaml-cpp 0.7's LoadAll never returns on these (jbeder/yaml-cpp#1040): each
// is a document that yields nothing without consuming its token.
TEST(LoadYamlStream, ReturnsOnStreamsThatLoadAllLoopsOn) {
  EXPECT_TRUE(LoadYamlStream(",").empty());
  EXPECT_TRUE(LoadYamlStream(", a").empty());
  const auto docs = LoadYamlStream("a: 1\n---\n,\n---\nb: 2\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].node["b"].as<int>(), 2);
  EXPECT_THROW((void)LoadYamlStream("apiVersion: v1\nkind: Pod\n,"), YAML::Exception);
}

TEST(LoadYamlStream, ErrorsPointIntoTheWholeText) {
  try {
    (void)LoadYamlStream("a: 1\n---\nb: 2\nc: [\n");
    FAIL() << "expected an error";
  } catch (const YAML::Exception& e) {
    EXPECT_GE(e.mark.line, 2) << e.what();
    EXPECT_NE(std::string(e.what()).find("line " + std::to_string(e.mark.line + 1)),
              std::string::npos)
        << e.what();
  }
}

TEST(YamlNestingWithinLimit, CountsBracketsAndIndentation) {
  EXPECT_TRUE(YamlNestingWithinLimit("a: [1, {b: 2}]"));
  EXPECT_FALSE(YamlNestingWithinLimit(std::string(65, '[')));
  EXPECT_TRUE(YamlNestingWithinLimit("'" + std::string(100, '[') + "'"));
  EXPECT_FALSE(YamlNestingWithinLimit(std::string(300, ' ') + "x"));
}

}  // namespace
}  // namespace ps
