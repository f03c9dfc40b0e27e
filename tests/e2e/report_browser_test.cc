// `repro report` in a real browser: a diverged pair (1 vs 2 intra-op threads, traced with
// --knobs) written as a site and loaded from file:// by headless Chromium (Debian's chromium,
// pinned in environment.lock). The DOM after the page's script ran (--dump-dom) shows the
// verdict, the first divergent step, the named cause, the op and the knob, and the "only
// differences" toggle hides exactly the equal rows; the browser logs no console message (a
// request would be a CSP violation, which Chromium logs; a control page proves it does); a
// screenshot is a real, non-blank PNG. Skipped, saying why, without chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <regex>
#include <set>

#include "repro/record.h"
#include "testutil.h"

// Last: zlib.h defines macros (zlibVersion) that would rename protobuf accessors.
#include <zlib.h>

namespace repro {
namespace {

using testing::last_line;
using testing::run_process;
using testing::run_repro;
using testing::TempDir;

constexpr const char* kChromium = "/usr/bin/chromium";

// Headless Chromium on `url` with `mode` ("--dump-dom" or "--screenshot=FILE"), bounded by a
// timeout; its own profile under `tmp`, and none of its background services.
testing::ProcessResult chromium(const TempDir& tmp, const std::string& url, const std::string& mode) {
  return run_process({"/usr/bin/timeout", "120", kChromium, "--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync",
                      "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
                      "--user-data-dir=" + (tmp / "chromium-profile"), "--window-size=1200,900", mode, url});
}

// The console messages Chromium logged (its stderr lines "...:INFO:CONSOLE...").
std::vector<std::string> console_lines(const std::string& err) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < err.size()) {
    std::size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const std::string line = err.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The table rows (<tr ...>) of `html` with `attribute` in their start tag.
std::vector<std::string> row_tags(const std::string& html, const std::string& attribute) {
  std::vector<std::string> out;
  const std::regex tag("<tr[^>]*>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    if (it->str().find(attribute) != std::string::npos) out.push_back(it->str());
  }
  return out;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

// A PNG decoded to its pixels (8-bit RGB or RGBA, not interlaced: what Chromium writes).
struct Image {
  std::uint32_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // rows of width * channels bytes
};

Image decode_png(const std::string& png) {
  Image img;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  int colour = -1, depth = -1, interlace = -1;
  for (std::size_t at = 8; at + 8 <= png.size();) {
    const std::uint32_t length = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    if (type == "IHDR") {
      img.width = be32(png, at + 8);
      img.height = be32(png, at + 12);
      depth = std::uint8_t(png[at + 16]);
      colour = std::uint8_t(png[at + 17]);
      interlace = std::uint8_t(png[at + 20]);
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  EXPECT_EQ(depth, 8);
  EXPECT_EQ(interlace, 0);
  EXPECT_TRUE(colour == 2 || colour == 6) << colour;
  if (depth != 8 || interlace != 0 || (colour != 2 && colour != 6)) return img;
  img.channels = colour == 6 ? 4 : 3;
  const std::size_t stride = img.width * img.channels;
  std::vector<std::uint8_t> raw((stride + 1) * img.height);
  uLongf size = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(size, raw.size());
  // Undo each row's filter (PNG spec, section 9).
  img.pixels.assign(stride * img.height, 0);
  const std::size_t bpp = img.channels;
  for (std::size_t y = 0; y < img.height; ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in = &raw[y * (stride + 1) + 1];
    std::uint8_t* out = &img.pixels[y * stride];
    const std::uint8_t* up = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? out[x - bpp] : 0, b = up ? up[x] : 0, c = (up && x >= bpp) ? up[x - bpp] : 0;
      int predictor = 0;
      switch (filter) {
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          break;
      }
      out[x] = static_cast<std::uint8_t>(in[x] + predictor);
    }
  }
  return img;
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kChromium, X_OK) != 0) {
      GTEST_SKIP() << kChromium << " not found: the browser test needs Debian's chromium "
                   << "(apt-get install chromium; tools/bootstrap installs the version environment.lock pins)";
    }
  }
};

TEST_F(ReportBrowserTest, DivergedPairOpensInChromiumWithCauseOpKnobAndToggle) {
  TempDir tmp;
  const std::string runs = tmp / "runs";
  // The thread-count divergence of the trace scenarios (tests/e2e/programs/trace_trainer.cc).
  const auto ra = run_process({REPRO_TRACE_TRAINER, runs, "reduce", "1"});
  const auto rb = run_process({REPRO_TRACE_TRAINER, runs, "reduce", "2"});
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const std::string a = last_line(ra.out), b = last_line(rb.out);
  const auto traced = run_repro({"trace", a, b, "--knobs"});
  ASSERT_EQ(traced.exit_code, 1) << traced.out << traced.err;
  const auto report = run_repro({"report", runs, "--out", tmp / "site"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(last_line(report.out), tmp / "site" + "/index.html");
  EXPECT_EQ(report.out.substr(0, report.out.find('\n')), "runs: 2, comparison pages: 1") << report.out;
  std::string compare_page;
  for (const auto& e : std::filesystem::directory_iterator(tmp / "site")) {
    if (e.path().filename().string().rfind("compare-", 0) == 0) compare_page = e.path().string();
  }
  ASSERT_FALSE(compare_page.empty());

  // The comparison page, its toggle switched on by the address.
  const auto dom = chromium(tmp, "file://" + compare_page + "#only-differences", "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{}) << joined(console_lines(dom.err));
  const std::string& html = dom.out;
  EXPECT_NE(html.find("<body data-only-differences=\"1\">"), std::string::npos) << "the page's script ran";
  EXPECT_NE(html.find("<span id=\"verdict\" class=\"verdict verdict-diverged\">diverged</span>"), std::string::npos);
  // Step 0 with OpenBLAS's threaded GEMM, step 1 with a single-threaded BLAS (trace_cli_test.cc).
  const std::regex first_step("<strong id=\"first-divergent-step\">([01])</strong>");
  EXPECT_TRUE(std::regex_search(html, first_step));
  // The named cause: the thread count, numerics first.
  const auto causes = row_tags(html, "data-numerics=");
  ASSERT_FALSE(causes.empty());
  EXPECT_NE(causes[0].find("data-numerics=\"1\""), std::string::npos) << causes[0];
  bool threads_named = false;
  for (const auto& r : row_tags(html, "data-numerics=\"1\"")) threads_named |= r.find("intra_op") != std::string::npos;
  EXPECT_TRUE(threads_named) << joined(causes);
  // The trace: an op of the reduction, and the knob that flips the bits.
  const std::regex op("<strong id=\"trace-op\">(aten::[a-z_]+)</strong>");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, op));
  const std::set<std::string> ops = {"aten::mean", "aten::sum",    "aten::addmm",
                                     "aten::mm",   "aten::matmul", "aten::linear"};
  EXPECT_TRUE(ops.count(m[1].str())) << m[1].str();
  EXPECT_EQ(row_tags(html, "data-setting=\"determinism.intra_op_threads\" data-matches-b=\"1\"").size(), 1u);
  // The toggle: every equal row hidden, every differing row shown.
  const auto equal = row_tags(html, "data-equal=\"1\""), differing = row_tags(html, "data-equal=\"0\"");
  ASSERT_GT(equal.size(), 10u);
  ASSERT_GT(differing.size(), 2u);
  // (The attribute as Chromium serialises it; a field name like model.mlp.hidden is in data-field.)
  for (const auto& r : equal) EXPECT_NE(r.find(" hidden=\"\""), std::string::npos) << r;
  for (const auto& r : differing) EXPECT_EQ(r.find(" hidden=\"\""), std::string::npos) << r;
  // Nothing on the page names a network address.
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);

  // Without the hash the toggle starts off: no row hidden.
  const auto plain = chromium(tmp, "file://" + compare_page, "--dump-dom");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("<body data-only-differences=\"0\">"), std::string::npos);
  EXPECT_EQ(row_tags(plain.out, " hidden=\"\"").size(), 0u);

  // The index and a run page load with no console message.
  for (const std::string& page : {std::string("index.html"), "run-" + read_run(a).header.run_id() + ".html"}) {
    const auto r = chromium(tmp, "file://" + tmp / "site/" + page, "--dump-dom");
    ASSERT_EQ(r.exit_code, 0) << page << r.err;
    EXPECT_EQ(console_lines(r.err), std::vector<std::string>{}) << page << "\n" << joined(console_lines(r.err));
    EXPECT_NE(r.out.find("</html>"), std::string::npos) << page;
    if (page == "index.html") {
      EXPECT_EQ(row_tags(r.out, "data-run=").size(), 2u);
    }
  }

  // A screenshot of the comparison page: 1200 x 900 pixels, not one colour.
  const std::string shot = tmp / "compare.png";
  const auto s = chromium(tmp, "file://" + compare_page, "--screenshot=" + shot);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const Image img = decode_png(testing::read_file(shot));
  EXPECT_EQ(img.width, 1200u);
  EXPECT_EQ(img.height, 900u);
  ASSERT_EQ(img.pixels.size(), std::size_t(img.width) * img.height * img.channels);
  std::set<std::uint32_t> colours;
  std::size_t not_white = 0;
  for (std::size_t i = 0; i + img.channels <= img.pixels.size(); i += img.channels) {
    const std::uint32_t rgb = (img.pixels[i] << 16) | (img.pixels[i + 1] << 8) | img.pixels[i + 2];
    colours.insert(rgb);
    not_white += rgb != 0xffffff;
  }
  EXPECT_GT(colours.size(), 16u);
  EXPECT_GT(not_white, std::size_t(img.width) * img.height / 100) << "at least 1% of the page is drawn";
}

// The control: a page that tries a request under the same CSP makes Chromium log a console
// message, so the absence of one above means the pages asked for nothing.
TEST_F(ReportBrowserTest, ChromiumLogsARequestTheCspBlocks) {
  TempDir tmp;
  testing::write_file(tmp / "control.html",
                      "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                      "'none'; img-src data:\"></head><body><img src=\"http://192.0.2.1/x.png\"></body></html>");
  const auto r = chromium(tmp, "file://" + tmp / "control.html", "--dump-dom");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = console_lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("violates the following Content Security Policy directive"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace repro
