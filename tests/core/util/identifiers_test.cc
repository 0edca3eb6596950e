#include "certctl/util/identifiers.h"

#include <gtest/gtest.h>

namespace certctl {
namespace {

using namespace std::string_literals;

TEST(IdentifiersTest, IssuerIdsAreExactlyWhatTheSchemaAllows) {
  struct Case {
    std::string text;
    bool ok;
  };
  const Case cases[] = {
      {"iss-local", true},
      {"a", true},
      {"0", true},
      {std::string(63, 'a'), true},
      {"", false},
      {std::string(64, 'a'), false},
      {"-iss", false},
      {"ISS-LOCAL", false},
      {"iss_local", false},
      {"iss local", false},
      {"iss-local\0x"s, false},  // libpq would have cut this to "iss-local"
      {"iss-local\0"s, false},
      {"iss-local\n", false},
      {"iss-local\xff", false},
      {"iss-lo\xc3\xa7"
       "al",
       false},
      {"iss/local", false},
      {"iss%00local", false},
  };
  for (const auto& c : cases) {
    auto parsed = ParseIssuerId(c.text);
    EXPECT_EQ(parsed.ok(), c.ok) << Printable(c.text);
    EXPECT_EQ(IsIssuerId(c.text), c.ok) << Printable(c.text);
    if (parsed.ok()) {
      EXPECT_EQ(*parsed, c.text);
    } else {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      // The message quotes the input escaped, never raw.
      EXPECT_TRUE(IsCleanText(parsed.status().message())) << parsed.status().message();
    }
  }
}

TEST(IdentifiersTest, GenerationsArePlainIntegersInRange) {
  EXPECT_EQ(*ParseGeneration("1"), 1);
  EXPECT_EQ(*ParseGeneration("1000000"), 1000000);
  for (std::string bad : {"0"s, "01"s, "-1"s, "+1"s, ""s, "1 "s, " 1"s, "1000001"s,
                          "99999999999"s, "1\0"s, "0x1"s, "1e3"s}) {
    auto g = ParseGeneration(bad);
    EXPECT_FALSE(g.ok()) << Printable(bad);
    if (!g.ok()) {
      EXPECT_TRUE(IsCleanText(g.status().message()));
    }
  }
}

TEST(IdentifiersTest, Utf8ValidationFollowsRfc3629) {
  struct Case {
    std::string text;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"plain ascii", true},
      {"\xc3\xa9", true},          // é
      {"\xe2\x82\xac", true},      // €
      {"\xf0\x9f\x94\x92", true},  // U+1F512
      {"\xef\xbf\xbf", true},      // U+FFFF
      {"\xf4\x8f\xbf\xbf", true},  // U+10FFFF
      {"\xff", false},
      {"\xc0\xaf", false},          // overlong '/'
      {"\xe0\x80\xaf", false},      // overlong
      {"\xf0\x80\x80\xaf", false},  // overlong
      {"\xed\xa0\x80", false},      // surrogate U+D800
      {"\xf4\x90\x80\x80", false},  // above U+10FFFF
      {"\xc3", false},              // truncated
      {"\xe2\x82", false},          // truncated
      {"\x80", false},              // lone continuation
      {"a\xc3(", false},            // bad continuation
  };
  for (const auto& c : cases)
    EXPECT_EQ(IsValidUtf8(c.text), c.valid) << Printable(c.text);
}

TEST(IdentifiersTest, CleanTextRefusesControlCharacters) {
  EXPECT_TRUE(IsCleanText("Zoë's CA"));
  EXPECT_FALSE(IsCleanText("a\0b"s));
  EXPECT_FALSE(IsCleanText("line\nforged"));
  EXPECT_TRUE(IsCleanText("line\nbreak\r\n\ttab", /*allow_newlines=*/true));
  EXPECT_FALSE(IsCleanText("a\0b"s, /*allow_newlines=*/true));
  EXPECT_FALSE(IsCleanText("del\x7f"));
  EXPECT_FALSE(IsCleanText("c1\xc2\x85"));  // U+0085 NEXT LINE
  EXPECT_TRUE(IsCleanText("nbsp\xc2\xa0"));
  EXPECT_FALSE(IsCleanText("\x1b[31mred"));
  EXPECT_FALSE(IsCleanText("bad\xff"));
}

TEST(IdentifiersTest, PrintableEscapesAndBoundsItsOutput) {
  EXPECT_EQ(Printable("iss-local"), "iss-local");
  EXPECT_EQ(Printable("iss-local\0x"s), "iss-local\\x00x");
  EXPECT_EQ(Printable("a\nb\\c\xff"), "a\\x0ab\\\\c\\xff");
  std::string huge(100000, 'x');
  std::string shown = Printable(huge, 10);
  EXPECT_EQ(shown, "xxxxxxxxxx...(100000 bytes)");
}

TEST(IdentifiersTest, GenerationLabelNamesIssuerAndGeneration) {
  EXPECT_EQ(GenerationLabel("iss-local", 1), "iss-local/g1");
  EXPECT_EQ(GenerationLabel("iss-b", 12), "iss-b/g12");
}

}  // namespace
}  // namespace certctl
