// The name rules on their own, table by table: DNS names, e-mail addresses,
// text, subject attributes and the quoting of hostile values in messages.
#include "certctl/pki/name_checks.h"

#include <gtest/gtest.h>

#include "certctl/util/identifiers.h"

namespace certctl {
namespace {

std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(NameChecksTest, DnsNames) {
  std::string l63 = Repeat('a', 63);
  std::string max = l63 + "." + l63 + "." + l63 + "." + Repeat('d', 61);  // 253
  struct Case {
    std::string name;
    bool ok;
  } cases[] = {
      {"example.com", true},
      {"a.b.c.example.com", true},
      {"intranet", true},
      {"xn--bcher-kva.example", true},
      {"UPPER.Example", true},
      {"a-b.example", true},
      {"*.example.com", true},
      {"*.a.b.example", true},
      {l63 + ".example", true},
      {max, true},
      {"a1.example.c0m", true},
      {"", false},
      {"*", false},
      {"*.", false},
      {"*.com", false},
      {"*.*.example.com", false},
      {"a.*.example.com", false},
      {"w*.example.com", false},
      {"*w.example.com", false},
      {"**.example.com", false},
      {".example.com", false},
      {"example.com.", false},
      {"a..example", false},
      {Repeat('a', 64) + ".example", false},
      {max + "e", false},
      {"-a.example", false},
      {"a-.example", false},
      {"under_score.example", false},
      {"sp ace.example", false},
      {"10.0.0.1", false},
      {"host.123", false},
      {std::string("a\0.example", 10), false},
      {"a\xff.example", false},
      {"caf\xc3\xa9.example", false},  // IDNs go in as A-labels (xn--)
      {"a/b.example", false},
      {"a@b.example", false},
  };
  for (const auto& c : cases) {
    Status s = CheckDnsName(c.name);
    EXPECT_EQ(s.ok(), c.ok) << Printable(c.name) << ": " << s.ToString();
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(CheckDnsName("*.example.com", /*allow_wildcard=*/false).ok());
}

TEST(NameChecksTest, EmailAddresses) {
  struct Case {
    std::string address;
    bool ok;
  } cases[] = {
      {"a@example.com", true},
      {"first.last+tag@example.com", true},
      {"o'neil@example.com", true},
      {"x!#$%&'*+/=?^_`{|}~-@example.com", true},
      {Repeat('a', 64) + "@example.com", true},
      {"", false},
      {"example.com", false},
      {"@example.com", false},
      {"a@", false},
      {"a@b@example.com", false},
      {".a@example.com", false},
      {"a.@example.com", false},
      {"a..b@example.com", false},
      {"\"quoted\"@example.com", false},
      {"a b@example.com", false},
      {"a@[10.0.0.1]", false},
      {"a@*.example.com", false},
      {"a@exa_mple.com", false},
      {Repeat('a', 65) + "@example.com", false},
      {"a@" + Repeat('b', 63) + "." + Repeat('c', 63) + "." + Repeat('d', 63) + "." +
           Repeat('e', 62),
       false},  // 255 octets
      {"a\xff@example.com", false},
      {"\xc3\xa9@example.com", false},
      {std::string("a\0@example.com", 14), false},
      {"a@example.com\r\nBcc: b@example.com", false},
  };
  for (const auto& c : cases) {
    Status s = CheckEmailAddress(c.address);
    EXPECT_EQ(s.ok(), c.ok) << Printable(c.address) << ": " << s.ToString();
  }
}

TEST(NameChecksTest, TextIsValidUtf8WithoutControls) {
  struct Case {
    std::string text;
    size_t chars;  // 0: refused
  } cases[] = {
      {"plain", 5},
      {"gr\xc3\xbc\xc3\x9f"
       "e",
       5},
      {"\xe6\x97\xa5\xe6\x9c\xac", 2},
      {"\xf0\x9f\x94\x92", 1},  // U+1F512, outside the BMP
      {"tab\tin", 0},
      {std::string("nul\0in", 6), 0},
      {"del\x7f", 0},
      {"c1\xc2\x85", 0},
      {"ls\xe2\x80\xa8", 0},
      {"rlo\xe2\x80\xae", 0},
      {"lri\xe2\x81\xa6", 0},
      {"\xc3\x28", 0},
      {"\xc0\xaf", 0},          // overlong '/'
      {"\xed\xa0\x80", 0},      // surrogate
      {"\xf4\x90\x80\x80", 0},  // past U+10FFFF
      {"\xe6\x97", 0},          // truncated
      {"\xff", 0},
  };
  for (const auto& c : cases) {
    auto n = CheckText(c.text, "CN");
    if (c.chars == 0) {
      EXPECT_FALSE(n.ok()) << Printable(c.text);
    } else {
      ASSERT_TRUE(n.ok()) << Printable(c.text) << ": " << n.status().ToString();
      EXPECT_EQ(*n, c.chars) << Printable(c.text);
    }
  }
}

TEST(NameChecksTest, SubjectValuesWithinRfc5280Bounds) {
  struct Case {
    int nid;
    std::string value;
    bool ok;
  } cases[] = {
      {NID_commonName, Repeat('a', 64), true},
      {NID_commonName, Repeat('a', 65), false},
      {NID_commonName, Repeat('a', 10000), false},
      {NID_commonName, "", false},
      {NID_commonName, std::string(32, '\xc3') + "", false},
      {NID_organizationName, Repeat('o', 64), true},
      {NID_organizationName, Repeat('o', 65), false},
      {NID_organizationalUnitName, Repeat('u', 65), false},
      {NID_localityName, Repeat('l', 128), true},
      {NID_localityName, Repeat('l', 129), false},
      {NID_stateOrProvinceName, Repeat('s', 129), false},
      {NID_countryName, "DE", true},
      {NID_countryName, "de", false},
      {NID_countryName, "DEU", false},
      {NID_countryName, "D", false},
      {NID_serialNumber, "HRB 12345", true},
      {NID_serialNumber, "a@b", false},
      {NID_domainComponent, "example", true},
      {NID_domainComponent, "ex.ample", false},
      {NID_pkcs9_emailAddress, "a@example.com", false},
      {NID_title, "CEO", false},
  };
  for (const auto& c : cases) {
    Status s = CheckSubjectValue(c.nid, c.value);
    EXPECT_EQ(s.ok(), c.ok) << OBJ_nid2sn(c.nid) << " " << Printable(c.value) << ": "
                            << s.ToString();
  }
  // 64 characters, more octets: the bound counts characters.
  std::string umlauts;
  for (int i = 0; i < 64; ++i) umlauts += "\xc3\xbc";
  EXPECT_TRUE(CheckSubjectValue(NID_commonName, umlauts).ok());
  EXPECT_FALSE(CheckSubjectValue(NID_commonName, umlauts + "\xc3\xbc").ok());
}

// A refusal quotes the value, escaped and bounded: it can neither forge a
// log line nor make one long.
TEST(NameChecksTest, MessagesQuoteHostileValuesSafely) {
  Status s = CheckDnsName("evil\n2026-01-01 [error] forged.example");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("evil\\x0a2026"), std::string::npos) << s.message();
  Status huge = CheckEmailAddress(Repeat('a', 100000) + "@example.com");
  ASSERT_FALSE(huge.ok());
  EXPECT_LT(huge.message().size(), 300u) << huge.message();
  auto nul = CheckText(std::string("a\0b", 3), "CN");
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message().find('\0'), std::string::npos);
}

TEST(NameChecksTest, SubjectIsReencodedKeepingItsStructure) {
  UniquePtr<X509_NAME> in(X509_NAME_new());
  auto add = [&](int nid, int type, const std::string& v, int set) {
    ASSERT_EQ(X509_NAME_add_entry_by_NID(in.get(), nid, type,
                                         reinterpret_cast<const unsigned char*>(v.data()),
                                         static_cast<int>(v.size()), -1, set),
              1);
  };
  add(NID_countryName, V_ASN1_UTF8STRING, "DE", 0);
  add(NID_organizationName, V_ASN1_T61STRING, "M\xfcller", 0);  // Latin-1 u-umlaut
  add(NID_commonName, V_ASN1_BMPSTRING, std::string("\0a\0.\0e\0x", 8), 0);
  add(NID_organizationalUnitName, V_ASN1_PRINTABLESTRING, "Ops", -1);
  auto out = CheckSubject(in.get());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->common_name, "a.ex");
  ASSERT_EQ(X509_NAME_entry_count(out->name.get()), 4);
  auto type = [&](int i) {
    return ASN1_STRING_type(
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(out->name.get(), i)));
  };
  EXPECT_EQ(type(0), V_ASN1_PRINTABLESTRING);
  EXPECT_EQ(type(1), V_ASN1_UTF8STRING);
  EXPECT_EQ(type(2), V_ASN1_UTF8STRING);
  EXPECT_EQ(type(3), V_ASN1_UTF8STRING);
  // CN and OU stay one multi-valued RDN.
  EXPECT_EQ(X509_NAME_ENTRY_set(X509_NAME_get_entry(out->name.get(), 2)),
            X509_NAME_ENTRY_set(X509_NAME_get_entry(out->name.get(), 3)));
  const ASN1_STRING* o =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(out->name.get(), 1));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(o)),
                        static_cast<size_t>(ASN1_STRING_length(o))),
            "M\xc3\xbcller");
}

}  // namespace
}  // namespace certctl
