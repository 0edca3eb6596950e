#include "certctl/util/encoding.h"

#include <gtest/gtest.h>

namespace certctl {
namespace {

TEST(EncodingTest, HexRoundTrip) {
  std::string bytes("\x00\x7f\x80\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "007f80ff");
  EXPECT_EQ(*HexDecode("007F80ff"), bytes);
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(EncodingTest, Base64BothAlphabetsAndPadding) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd",
                                                       std::string("\xfb\xff\xfe", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff\xfe", 3)), "+//+");
  EXPECT_EQ(*Base64Decode("-__-"), std::string("\xfb\xff\xfe", 3));
  EXPECT_EQ(*Base64Decode("YWI"), "ab");  // unpadded
  EXPECT_EQ(*Base64Decode("YW\nI="), "ab");
  EXPECT_FALSE(Base64Decode("Y").ok());
  EXPECT_FALSE(Base64Decode("YW=I").ok());
  EXPECT_FALSE(Base64Decode("Y*==").ok());
}

TEST(EncodingTest, PercentDecode) {
  EXPECT_EQ(*PercentDecode("MEow%2BMC%2Fw%3D"), "MEow+MC/w=");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_FALSE(PercentDecode("%2").ok());
  EXPECT_FALSE(PercentDecode("%zz").ok());
}

TEST(EncodingTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
}

TEST(EncodingTest, Sha256KnownAnswer) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace certctl
