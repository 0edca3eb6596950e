#include "certctl/pki/serial.h"

#include <gtest/gtest.h>

#include <set>

namespace certctl {
namespace {

TEST(SerialTest, CanonicalFormIsLowercaseWithoutLeadingZeros) {
  EXPECT_EQ(Serial::Parse("00AB12")->hex(), "ab12");
  EXPECT_EQ(Serial::Parse("ab12")->hex(), "ab12");
  EXPECT_EQ(Serial::Parse("AB12")->hex(), "ab12");
  EXPECT_EQ(Serial::Parse("0x00ab12")->hex(), "ab12");
  EXPECT_EQ(Serial::Parse("00:ab:12")->hex(), "ab12");
  EXPECT_EQ(Serial::Parse(" 1 ")->hex(), "1");
}

TEST(SerialTest, AllSpellingsOfOneSerialAreEqual) {
  auto a = Serial::Parse("0A0B");
  auto b = Serial::Parse("a0b");
  auto c = Serial::Parse("000a0b");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*b, *c);
}

TEST(SerialTest, RefusesBadInput) {
  for (const char* bad :
       {"", "0", "0000", "xyz", "12-34", ":ab", "ab:", "a::b", "0x", "-1", "12 34"}) {
    EXPECT_FALSE(Serial::Parse(bad).ok()) << bad;
  }
  // 20 octets are fine, 21 are not (RFC 5280 §4.1.2.2).
  EXPECT_TRUE(Serial::Parse(std::string(40, 'f')).ok());
  EXPECT_TRUE(Serial::Parse("00" + std::string(40, 'f')).ok());
  EXPECT_FALSE(Serial::Parse("1" + std::string(40, '0')).ok());
}

TEST(SerialTest, Asn1RoundTrip) {
  for (const char* text :
       {"1", "ff", "100", "7fffffffffffffffffffffffffffffffffffffff", "abc"}) {
    auto s = Serial::Parse(text);
    ASSERT_TRUE(s.ok());
    auto asn1 = s->ToAsn1();
    ASSERT_TRUE(asn1.ok());
    auto back = Serial::FromAsn1(asn1->get());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->hex(), s->hex());
  }
}

TEST(SerialTest, RandomHas159BitsAndIsPositive) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto s = Serial::Random();
    ASSERT_TRUE(s.ok());
    EXPECT_LE(s->hex().size(), 40u);
    if (s->hex().size() == 40) {
      EXPECT_LE(s->hex()[0], '7');  // top bit clear
    }
    EXPECT_NE(s->hex()[0], '0');
    auto asn1 = s->ToAsn1();
    ASSERT_TRUE(asn1.ok());
    EXPECT_EQ(Serial::FromAsn1(asn1->get())->hex(), s->hex());
    seen.insert(s->hex());
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(SerialTest, NegativeAsn1IsRefused) {
  UniquePtr<ASN1_INTEGER> neg(ASN1_INTEGER_new());
  ASN1_INTEGER_set(neg.get(), -5);
  EXPECT_FALSE(Serial::FromAsn1(neg.get()).ok());
}

}  // namespace
}  // namespace certctl
