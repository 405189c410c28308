#include "service/report.h"

#include <gtest/gtest.h>

#include "testing/testing.h"

namespace ps::service {
namespace {

TEST(Report, ChartsAreSvgWithEscapedTextAndStepLines) {
  const std::string svg =
      SvgChart("Errors <per> second", "%", {{"new & old", "#dc2626", {{0, 0}, {1, 10}, {2, 5}}}},
               {{1.0, "50%"}, {1.1, "safe"}}, true, 1);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("Errors &lt;per&gt; second"), std::string::npos);
  EXPECT_NE(svg.find("new &amp; old"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">10%<"), std::string::npos);  // the y axis ends at a round 10
  // No points at all: axes, no line, no crash.
  const std::string empty = SvgChart("t", "", {{"a", "#000", {}}}, {}, false);
  EXPECT_EQ(empty.find("<polyline"), std::string::npos);
}

TEST(Report, WhateverIsMissingTheReportIsWrittenAndEscaped) {
  UpReport r;
  r.project = "<script>alert(1)</script>";
  r.outcome = "Stopped: the import run failed";
  // Nulls everywhere, and outputs of the wrong shape.
  r.audit = Json();
  r.plan = Json::array();
  r.security = Json{{"blockers", {"a | b\nc"}}};
  r.release_kind = "release";
  r.release = Json{{"status", "rolledback"},
                   {"decisions", {{{"at_ms", 10}, {"what", "rollback"}, {"services", nullptr}}}},
                   {"timeline", {{{"t_ms", 1000}, {"weight", 10}, {"canary", nullptr}}}}};
  const std::string md = ReportMarkdown(r);
  const std::string html = ReportHtml(r);
  EXPECT_NE(md.find("# ProdSprint report"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(md.find("a   b c"), std::string::npos) << md;  // table cells keep one line

  testing::TempDir dir;
  auto files = WriteReport(dir / "reports", r);
  ASSERT_TRUE(files.ok()) << files.problem().detail;
  EXPECT_EQ(testing::ReadText(files->markdown), md);
  EXPECT_EQ(files->html.extension(), ".html");
  EXPECT_EQ(files->markdown.filename().string().find('<'), std::string::npos);
}

}  // namespace
}  // namespace ps::service
