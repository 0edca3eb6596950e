// Hostile input to POST /api/v1/certificates: every CSR field and every
// generate_key field a client controls, each refused with 400 and the reason,
// nothing recorded; and the limits' good sides, which are issued.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "daemon/daemon_fixture.h"
#include "support/test_pki.h"

namespace certctl::testing {
namespace {

using Attr = CsrSpec::Attribute;
using San = CsrSpec::San;

CsrSpec WithCn(const std::string& cn) { return {.subject = {Cn(cn)}}; }
CsrSpec WithSan(int type, const std::string& value) {
  return {.subject = {Cn("ok.example")}, .sans = {{type, value}}};
}
CsrSpec Many(int nid, int n) {
  CsrSpec spec{.subject = {Cn("many.example")}};
  for (int i = 0; i < n; ++i) {
    spec.subject.push_back({nid, V_ASN1_UTF8STRING, "unit " + std::to_string(i)});
  }
  return spec;
}
CsrSpec ManySans(int n) {
  CsrSpec spec{.subject = {Cn("many.example")}};
  for (int i = 0; i < n; ++i)
    spec.sans.push_back({GEN_DNS, "n" + std::to_string(i) + ".example"});
  return spec;
}

class CertificateInputTest : public DaemonTest {
 protected:
  daemon::HttpResponse IssueCsr(const std::string& pem) {
    return Post("/api/v1/certificates", nlohmann::json{{"csr", pem}}.dump());
  }
  // A key made by the openssl CLI, as a client would make it.
  UniquePtr<EVP_PKEY> CliKey(const std::vector<std::string>& args) {
    std::string path = *dir_ / ("key-" + std::to_string(++keys_) + ".pem");
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-out", path});
    auto made = Command(argv);
    EXPECT_EQ(made.exit_code, 0) << made.output;
    auto pem = ReadFile(path);
    auto key = ParsePrivateKeyPem(pem.ok() ? *pem : "");
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? std::move(key).value() : nullptr;
  }
  // Every refusal: 400, invalid_argument, the message names the reason, and
  // nothing reached the database.
  void ExpectRefused(const daemon::HttpResponse& r, const std::string& name,
                     const std::string& reason) {
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << name << ": " << r.body;
    EXPECT_EQ(j["error"]["code"], "invalid_argument") << name;
    std::string message = j["error"]["message"].is_string() ? j["error"]["message"] : "";
    EXPECT_NE(message.find(reason), std::string::npos)
        << name << ": \"" << message << "\" lacks \"" << reason << "\"";
    EXPECT_EQ(Count("certificates"), 0) << name;
    EXPECT_EQ(Count("audit_events WHERE action = 'certificate.issue'"), 0) << name;
  }
  int keys_ = 0;
};

TEST_F(CertificateInputTest, HostileCsrsAreRefusedWithTheReason) {
  std::string nul_bmp = Bmp("evil.example") + std::string(2, '\0') + Bmp(".attacker");
  struct Case {
    const char* name;
    CsrSpec spec;
    const char* reason;  // a phrase of the error message
  } cases[] = {
      // Subject text: control characters and broken encodings, in every type.
      {"NUL in UTF8String CN", WithCn(std::string("evil.example\0.attacker", 22)),
       "control character"},
      {"NUL in BMPString CN",
       {.subject = {{NID_commonName, V_ASN1_BMPSTRING, nul_bmp}}},
       "control character"},
      {"newline in CN", WithCn("a\nforged: line"), "control character"},
      {"DEL in CN", WithCn("a\x7f"), "control character"},
      {"C1 control in CN", WithCn("a\xc2\x85"), "control character"},
      {"bidi override in CN", WithCn("gro\xe2\x80\xaeup.example"), "control character"},
      // OpenSSL's decoder refuses these before certctl sees the name.
      {"invalid UTF-8 in CN", WithCn("\xc3\x28"), "invalid utf8string"},
      {"0xFF in CN", WithCn("a\xff"), "invalid utf8string"},
      {"overlong UTF-8 in CN", WithCn("\xc0\xaf"), "invalid utf8string"},
      {"UTF-16 surrogate in CN", WithCn("\xed\xa0\x80"), "invalid utf8string"},
      {"odd-length BMPString",
       {.subject = {{NID_commonName, V_ASN1_BMPSTRING, std::string("\0a\0", 3)}}},
       "bmpstring is wrong length"},
      {"CN as OCTET STRING",
       {.subject = {{NID_commonName, V_ASN1_OCTET_STRING, "x"}}},
       "wrong tag"},
      {"BEL in UniversalString",
       {.subject = {{NID_commonName, V_ASN1_UNIVERSALSTRING,
                     std::string("\0\0\0a\0\0\0\x07", 8)}}},
       "control character"},
      {"ESC in T61String",
       {.subject = {{NID_commonName, V_ASN1_T61STRING, "a\x1b[31m"}}},
       "control character"},
      {"'@' in PrintableString",
       {.subject = {{NID_commonName, V_ASN1_PRINTABLESTRING, "a@b"}}},
       "PrintableString"},
      {"0xFF in IA5String CN",
       {.subject = {{NID_commonName, V_ASN1_IA5STRING, "a\xff"}}},
       "IA5String"},
      {"CN as NumericString with a letter",
       {.subject = {{NID_commonName, V_ASN1_NUMERICSTRING, "12a"}}},
       "NumericString"},
      // RFC 5280 upper bounds and cardinality.
      {"10000-character CN", WithCn(std::string(10000, 'a')), "at most 64"},
      {"65-character CN", WithCn(std::string(65, 'a')), "at most 64"},
      {"empty CN", WithCn(""), "empty"},
      {"65-character O",
       {.subject = {Cn("o.example"),
                    {NID_organizationName, V_ASN1_UTF8STRING, std::string(65, 'o')}}},
       "at most 64"},
      {"129-character L",
       {.subject = {Cn("l.example"),
                    {NID_localityName, V_ASN1_UTF8STRING, std::string(129, 'l')}}},
       "at most 128"},
      {"three-letter C",
       {.subject = {Cn("c.example"), {NID_countryName, V_ASN1_PRINTABLESTRING, "USA"}}},
       "at most 2"},
      {"1000 OUs", Many(NID_organizationalUnitName, 1000), "attributes"},
      {"two CNs", {.subject = {Cn("a.example"), Cn("b.example")}}, "more than one CN"},
      {"e-mail in the subject",
       {.subject = {Cn("e.example"),
                    {NID_pkcs9_emailAddress, V_ASN1_IA5STRING, "a@b.example"}}},
       "not accepted"},
      {"unknown attribute",
       {.subject = {Cn("u.example"), {NID_description, V_ASN1_UTF8STRING, "hello"}}},
       "not accepted"},
      // subjectAltName: DNS names.
      {"*.com", WithSan(GEN_DNS, "*.com"), "wildcard"},
      {"bare *", WithSan(GEN_DNS, "*"), "wildcard"},
      {"wildcard not leftmost", WithSan(GEN_DNS, "a.*.example.com"), "wildcard"},
      {"partial wildcard label", WithSan(GEN_DNS, "w*.example.com"), "wildcard"},
      {"double wildcard", WithSan(GEN_DNS, "*.*.example.com"), "wildcard"},
      {"empty label", WithSan(GEN_DNS, "a..example"), "label"},
      {"64-octet label", WithSan(GEN_DNS, std::string(64, 'a') + ".example"), "label"},
      {"254-octet name",
       WithSan(GEN_DNS, std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                            std::string(63, 'c') + "." + std::string(61, 'd') + ".e"),
       "253"},
      {"underscore", WithSan(GEN_DNS, "under_score.example"), "letters, digits"},
      {"trailing dot", WithSan(GEN_DNS, "trailing.example."), "label"},
      {"leading hyphen", WithSan(GEN_DNS, "-a.example"), "hyphen"},
      {"IPv4 as a DNS name", WithSan(GEN_DNS, "10.1.2.3"), "numeric"},
      {"NUL in DNS name", WithSan(GEN_DNS, std::string("a\0.example", 10)),
       "letters, digits"},
      {"empty DNS name", WithSan(GEN_DNS, ""), "empty"},
      // subjectAltName: e-mail addresses.
      {"0xFF in e-mail", WithSan(GEN_EMAIL, "a\xff@example.com"), "e-mail"},
      {"e-mail without @", WithSan(GEN_EMAIL, "nobody.example"), "e-mail"},
      {"e-mail with two @", WithSan(GEN_EMAIL, "a@b@example.com"), "e-mail"},
      {"e-mail with a space", WithSan(GEN_EMAIL, "a b@example.com"), "e-mail"},
      {"e-mail to an IP literal", WithSan(GEN_EMAIL, "a@[10.0.0.1]"), "e-mail"},
      {"e-mail to a wildcard", WithSan(GEN_EMAIL, "a@*.example.com"), "e-mail"},
      {"65-octet local part", WithSan(GEN_EMAIL, std::string(65, 'a') + "@example.com"),
       "64"},
      {"e-mail with CR LF", WithSan(GEN_EMAIL, "a@example.com\r\nBcc: x@y.example"),
       "e-mail"},
      // subjectAltName: other.
      {"5-octet IP address", WithSan(GEN_IPADD, "\x0a\x00\x00\x01\x01"), "IP address"},
      {"2000 SANs", ManySans(2000), "subjectAltName"},
      {"two subjectAltName extensions",
       {.subject = {Cn("d.example")},
        .sans = {{GEN_DNS, "d.example"}},
        .san_extensions = 2},
       "subjectAltName"},
      {"no subject, no SAN", {}, "neither"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRefused(IssueCsr(CsrPem(c.spec)), c.name, c.reason);
  }
}

TEST_F(CertificateInputTest, WeakAndExplicitKeysAreRefused) {
  struct Case {
    const char* name;
    std::vector<std::string> genpkey;  // openssl arguments
    const char* reason;
  } cases[] = {
      {"P-256 with explicit curve parameters",
       {"ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey"},
       "named curve"},
      {"P-224",
       {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"},
       "P-256"},
      {"brainpool",
       {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"},
       "P-256"},
      {"RSA 1024",
       {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"},
       "2048"},
      {"RSA 2050 bits",
       {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2050"},
       "multiple of 8"},
      {"RSA exponent 3",
       {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt",
        "rsa_keygen_pubexp:3"},
       "exponent"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto key = CliKey(c.genpkey);
    ASSERT_TRUE(key);
    CsrSpec spec{.subject = {Cn("key.example")}, .key = key.get()};
    ExpectRefused(IssueCsr(CsrPem(spec)), c.name, c.reason);
  }
}

TEST_F(CertificateInputTest, ServerSideKeyFieldsFollowTheSameRules) {
  std::vector<std::string> two_thousand;
  for (int i = 0; i < 2000; ++i)
    two_thousand.push_back("n" + std::to_string(i) + ".example");
  struct Case {
    const char* name;
    nlohmann::json body;
    const char* reason;
  } cases[] = {
      {"NUL in common_name",
       {{"common_name", std::string("a\0b.example", 11)}},
       "control character"},
      {"newline in common_name", {{"common_name", "a\nb"}}, "control character"},
      {"10000-character common_name",
       {{"common_name", std::string(10000, 'a')}},
       "at most 64"},
      {"*.com", {{"common_name", "c.example"}, {"dns_names", {"*.com"}}}, "wildcard"},
      {"NUL in a DNS name",
       {{"common_name", "c.example"}, {"dns_names", {std::string("a\0.example", 10)}}},
       "control character"},
      {"2000 DNS names",
       {{"common_name", "c.example"}, {"dns_names", two_thousand}},
       "subjectAltName"},
      {"malformed issuer",
       {{"common_name", "c.example"}, {"issuer", std::string("iss-local\0x", 11)}},
       "issuer"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.body["generate_key"] = true;
    ExpectRefused(Post("/api/v1/certificates", c.body.dump()), c.name, c.reason);
  }
}

TEST_F(CertificateInputTest, SanCapIsConfigurable) {
  config_.certificate_max_sans = 3;
  ExpectRefused(IssueCsr(CsrPem(ManySans(4))), "4 SANs over a cap of 3", "at most 3");
  auto r = IssueCsr(CsrPem(ManySans(3)));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(CertificateInputTest, TheGoodSideOfEveryLimitIsIssued) {
  auto rsa = CliKey({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"});
  auto ed = CliKey({"genpkey", "-algorithm", "ED25519"});
  struct Case {
    const char* name;
    CsrSpec spec;
    const char* subject;  // as the API reports it afterwards
  } cases[] = {
      {"64-character CN", WithCn(std::string(64, 'a')), nullptr},
      {"BMPString CN (re-encoded as UTF8String)",
       {.subject = {{NID_commonName, V_ASN1_BMPSTRING,
                     Bmp("gr\xc3\xbc\xc3\x9f"
                         "e.example")}}},
       "CN=gr\xc3\xbc\xc3\x9f"
       "e.example"},
      {"full subject",
       {.subject = {{NID_countryName, V_ASN1_PRINTABLESTRING, "DE"},
                    {NID_stateOrProvinceName, V_ASN1_UTF8STRING, "Berlin"},
                    {NID_localityName, V_ASN1_UTF8STRING, "Berlin"},
                    {NID_organizationName, V_ASN1_UTF8STRING, "Example GmbH"},
                    {NID_organizationalUnitName, V_ASN1_UTF8STRING, "Ops"},
                    {NID_serialNumber, V_ASN1_PRINTABLESTRING, "HRB 12345"},
                    {NID_domainComponent, V_ASN1_IA5STRING, "example"},
                    Cn("full.example")}},
       "CN=full.example,DC=example,serialNumber=HRB 12345,OU=Ops,O=Example GmbH,"
       "L=Berlin,ST=Berlin,C=DE"},
      {"multi-valued RDN",
       {.subject = {Cn("mv.example"),
                    {NID_organizationalUnitName, V_ASN1_UTF8STRING, "A", true}}},
       "CN=mv.example+OU=A"},
      {"wildcard, IP, e-mail and a single-label name",
       {.subject = {Cn("w.example")},
        .sans = {{GEN_DNS, "*.w.example"},
                 {GEN_DNS, "intranet"},
                 {GEN_DNS, "xn--bcher-kva.example"},
                 {GEN_IPADD, std::string("\x0a\x00\x00\x01", 4)},
                 {GEN_EMAIL, "first.last+tag@w.example"}}},
       nullptr},
      {"RSA 3072", {.subject = {Cn("rsa.example")}, .key = rsa.get()}, nullptr},
      {"Ed25519", {.subject = {Cn("ed.example")}, .key = ed.get()}, nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = IssueCsr(CsrPem(c.spec));
    ASSERT_EQ(r.status, 201) << c.name << ": " << r.body;
    if (!c.subject) continue;
    auto got = Json(Get("/api/v1/certificates/" + Json(r)["serial"].get<std::string>()));
    EXPECT_EQ(got["subject"], c.subject);
  }
}

// RFC 5280 §4.1.2.6: a CA uses PrintableString or UTF8String. A CSR's
// BMPString (as some Windows tools write) is decoded, checked and re-encoded.
TEST_F(CertificateInputTest, IssuedSubjectIsReencodedAsUtf8String) {
  auto r = IssueCsr(
      CsrPem({.subject = {{NID_commonName, V_ASN1_BMPSTRING, Bmp("bmp.example")}}}));
  ASSERT_EQ(r.status, 201) << r.body;
  auto cert = ParseCertificatePem(Json(r)["certificate"].get<std::string>());
  ASSERT_TRUE(cert.ok());
  const X509_NAME* subject = X509_get_subject_name(cert->get());
  ASSERT_EQ(X509_NAME_entry_count(subject), 1);
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, 0));
  EXPECT_EQ(ASN1_STRING_type(cn), V_ASN1_UTF8STRING);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                        static_cast<size_t>(ASN1_STRING_length(cn))),
            "bmp.example");
}

}  // namespace
}  // namespace certctl::testing
