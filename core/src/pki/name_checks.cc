#include "certctl/pki/name_checks.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <array>

#include "certctl/util/identifiers.h"

namespace certctl {
namespace {

constexpr size_t kMaxDnsName = 253;   // RFC 1035 §2.3.4, as text without the root dot
constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4
constexpr size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1
constexpr size_t kMaxEmail = 254;     // RFC 5321 §4.5.3.1.3 (a path, less "<>")

// The subject attributes certctl issues, with RFC 5280 Appendix A's upper
// bounds (in characters) and the ASN.1 type each is re-encoded as.
struct AttributeRule {
  int nid;
  size_t max_chars;
  bool single;  // at most one per subject
  int encoding;
};
constexpr std::array<AttributeRule, 8> kAttributes = {{
    {NID_countryName, 2, true, V_ASN1_PRINTABLESTRING},          // ub-country-name-alpha
    {NID_stateOrProvinceName, 128, false, V_ASN1_UTF8STRING},    // ub-state-name
    {NID_localityName, 128, false, V_ASN1_UTF8STRING},           // ub-locality-name
    {NID_organizationName, 64, false, V_ASN1_UTF8STRING},        // ub-organization-name
    {NID_organizationalUnitName, 64, false, V_ASN1_UTF8STRING},  // ub-organizational-...
    {NID_commonName, 64, true, V_ASN1_UTF8STRING},               // ub-common-name
    {NID_serialNumber, 64, true, V_ASN1_PRINTABLESTRING},        // ub-serial-number
    {NID_domainComponent, kMaxLabel, false, V_ASN1_IA5STRING},   // one DNS label
}};

const AttributeRule* RuleFor(int nid) {
  for (const auto& r : kAttributes) {
    if (r.nid == nid) return &r;
  }
  return nullptr;
}

std::string AttributeName(int nid) {
  const char* sn = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
  return sn ? sn : "an unknown attribute";
}

std::string_view StringTypeName(int type) {
  switch (type) {
    case V_ASN1_UTF8STRING:
      return "UTF8String";
    case V_ASN1_PRINTABLESTRING:
      return "PrintableString";
    case V_ASN1_IA5STRING:
      return "IA5String";
    case V_ASN1_VISIBLESTRING:
      return "VisibleString";
    case V_ASN1_NUMERICSTRING:
      return "NumericString";
    case V_ASN1_T61STRING:
      return "TeletexString";
    case V_ASN1_BMPSTRING:
      return "BMPString";
    case V_ASN1_UNIVERSALSTRING:
      return "UniversalString";
  }
  return "";
}

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-';
}

bool IsPrintableStringChar(unsigned char c) {  // X.680 §41.4
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && std::string_view(" '()+,-./:=?").find(static_cast<char>(c)) !=
                        std::string_view::npos);
}

bool IsAtext(char c) {  // RFC 5322 §3.2.3
  return IsLdh(c) ||
         std::string_view("!#$%&'*+/=?^_`{|}~").find(c) != std::string_view::npos;
}

// Format characters refused besides the controls IsCleanText refuses: they
// hide or reorder text where names are shown (terminals, logs, certificate
// viewers). Their UTF-8 forms: U+061C (D8 9C), U+200E..U+200F, U+2028..U+2029,
// U+202A..U+202E (E2 80 8E..AE) and U+2066..U+2069 (E2 81 A6..A9).
bool HasFormatCharacter(std::string_view utf8) {
  for (size_t i = 0; i + 1 < utf8.size(); ++i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(utf8[k]); };
    if (b(i) == 0xd8 && b(i + 1) == 0x9c) return true;
    if (b(i) != 0xe2 || i + 2 >= utf8.size()) continue;
    unsigned char x = b(i + 1), y = b(i + 2);
    if (x == 0x80 && (y == 0x8e || y == 0x8f || (y >= 0xa8 && y <= 0xae))) return true;
    if (x == 0x81 && y >= 0xa6 && y <= 0xa9) return true;
  }
  return false;
}

std::string Quoted(std::string_view value) { return "\"" + Printable(value, 64) + "\""; }

Status NotAccepted(const std::string& name) {
  return Status::InvalidArgument(
      "subject attribute " + name +
      " is not accepted (C, ST, L, O, OU, CN, serialNumber and DC are; "
      "e-mail addresses belong in subjectAltName)");
}

// The attribute's short name, or its dotted OID when OpenSSL knows no name.
std::string ObjectName(const ASN1_OBJECT* object) {
  int nid = OBJ_obj2nid(object);
  if (nid != NID_undef) return OBJ_nid2sn(nid);
  char text[128];
  int n = OBJ_obj2txt(text, sizeof text, object, 1);
  return n > 0 && static_cast<size_t>(n) < sizeof text ? text : "an unknown attribute";
}

Status CheckLabel(std::string_view name, std::string_view label) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("DNS name " + Quoted(name) + ": " + why);
  };
  if (label.empty()) return bad("it has an empty label");
  if (label.size() > kMaxLabel) {
    return bad("it has a label of " + std::to_string(label.size()) +
               " octets; at most 63 are allowed");
  }
  for (char c : label) {
    if (c == '*') {
      return bad(
          "a wildcard is allowed only as the whole leftmost label (*.example.com)");
    }
    if (!IsLdh(c)) return bad("a label may contain only letters, digits and '-'");
  }
  if (label.front() == '-' || label.back() == '-') {
    return bad("a label starts or ends with a hyphen");
  }
  return Status::Ok();
}

// The 8-bit string types whose octets are their characters: each type's
// character set is checked here, control characters later by CheckText.
Status CheckOctetCharset(const ASN1_STRING* value, std::string_view what) {
  int type = ASN1_STRING_type(value);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  for (int i = 0; i < ASN1_STRING_length(value); ++i) {
    unsigned char c = p[i];
    bool ok = type == V_ASN1_PRINTABLESTRING ? IsPrintableStringChar(c)
              : type == V_ASN1_NUMERICSTRING ? (c >= '0' && c <= '9') || c == ' '
              : type == V_ASN1_VISIBLESTRING ? c >= 0x20 && c < 0x7f
                                             : c < 0x80;  // IA5String
    if (!ok) {
      return Status::InvalidArgument(
          std::string(what) + " is a " + std::string(StringTypeName(type)) + " with " +
          Quoted(std::string_view(reinterpret_cast<const char*>(&p[i]), 1)) +
          ", which that type does not allow");
    }
  }
  return Status::Ok();
}

// The value of one subject attribute as UTF-8, checked.
Result<std::string> DecodeValue(const ASN1_STRING* value, std::string_view what) {
  int type = ASN1_STRING_type(value);
  if (StringTypeName(type).empty()) {
    return Status::InvalidArgument(std::string(what) +
                                   " is not of a string type certctl reads (ASN.1 tag " +
                                   std::to_string(type) + ")");
  }
  std::string out;
  if (type == V_ASN1_UTF8STRING) {
    out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
               static_cast<size_t>(ASN1_STRING_length(value)));
  } else if (type == V_ASN1_T61STRING || type == V_ASN1_BMPSTRING ||
             type == V_ASN1_UNIVERSALSTRING) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, value);
    if (n < 0) {
      ERR_clear_error();
      return Status::InvalidArgument(std::string(what) + " is not a valid " +
                                     std::string(StringTypeName(type)));
    }
    out.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  } else {
    RETURN_IF_ERROR(CheckOctetCharset(value, what));
    out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
               static_cast<size_t>(ASN1_STRING_length(value)));
  }
  RETURN_IF_ERROR(CheckText(out, what).status());
  return out;
}

Status CheckAttributeForm(int nid, std::string_view utf8) {
  if (nid == NID_countryName) {
    bool letters = utf8.size() == 2 && utf8[0] >= 'A' && utf8[0] <= 'Z' &&
                   utf8[1] >= 'A' && utf8[1] <= 'Z';
    if (!letters) {
      return Status::InvalidArgument(
          "C must be two upper-case letters (ISO 3166-1), not " + Quoted(utf8));
    }
  } else if (nid == NID_serialNumber) {
    for (char c : utf8) {
      if (!IsPrintableStringChar(static_cast<unsigned char>(c))) {
        return Status::InvalidArgument(
            "serialNumber may hold only PrintableString characters "
            "(letters, digits, space and '()+,-./:=?)");
      }
    }
  } else if (nid == NID_domainComponent) {
    return CheckLabel(utf8, utf8).WithContext("DC");
  }
  return Status::Ok();
}

Status AddEntry(X509_NAME* name, const AttributeRule& rule, const std::string& value,
                bool same_rdn) {
  if (X509_NAME_add_entry_by_NID(name, rule.nid, rule.encoding,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1,
                                 same_rdn ? -1 : 0) != 1) {
    return OpenSslError("re-encode subject attribute " + AttributeName(rule.nid));
  }
  return Status::Ok();
}

}  // namespace

Status CheckDnsName(std::string_view name, bool allow_wildcard) {
  if (name.empty()) return Status::InvalidArgument("DNS name is empty");
  if (name.size() > kMaxDnsName) {
    return Status::InvalidArgument("DNS name " + Quoted(name) + " has " +
                                   std::to_string(name.size()) +
                                   " octets; at most 253 are allowed");
  }
  std::string_view rest = name;
  bool wildcard = allow_wildcard && (name == "*" || name.rfind("*.", 0) == 0);
  if (wildcard && name.size() < 4) {
    return Status::InvalidArgument("DNS name " + Quoted(name) +
                                   ": a wildcard must be followed by at least two labels "
                                   "(*.example.com)");
  }
  if (wildcard) rest.remove_prefix(2);
  int labels = 0;
  std::string_view last;
  for (size_t start = 0;; ++labels) {
    size_t dot = rest.find('.', start);
    last = rest.substr(start, dot == std::string_view::npos ? dot : dot - start);
    RETURN_IF_ERROR(CheckLabel(name, last));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  ++labels;
  if (last.find_first_not_of("0123456789") == std::string_view::npos) {
    return Status::InvalidArgument("DNS name " + Quoted(name) +
                                   ": its last label is numeric; an IP address "
                                   "belongs in an iPAddress subjectAltName");
  }
  if (wildcard && labels < 2) {
    return Status::InvalidArgument(
        "DNS name " + Quoted(name) +
        ": a wildcard must be followed by at least two labels "
        "(*.example.com), or it would cover a whole top-level domain");
  }
  return Status::Ok();
}

Status CheckEmailAddress(std::string_view address) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid e-mail address " + Quoted(address) + ": " +
                                   why);
  };
  if (address.size() > kMaxEmail) {
    return bad("it has " + std::to_string(address.size()) + " octets; at most 254");
  }
  size_t at = address.find('@');
  if (at == std::string_view::npos) return bad("it has no '@'");
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > kMaxLocalPart) {
    return bad("the local part has " + std::to_string(local.size()) +
               " octets; 1 to 64 are allowed");
  }
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.' && i > 0 && i + 1 < local.size() && local[i + 1] != '.') continue;
    if (!IsAtext(local[i])) {
      return bad(
          "the local part may hold only ASCII letters, digits, "
          "!#$%&'*+-/=?^_`{|}~ and single dots between them");
    }
  }
  if (Status s = CheckDnsName(domain, /*allow_wildcard=*/false); !s.ok()) {
    return bad("the domain is not a DNS name (" + s.message() + ")");
  }
  return Status::Ok();
}

Result<size_t> CheckText(std::string_view utf8, std::string_view what) {
  if (!IsValidUtf8(utf8)) {
    return Status::InvalidArgument(std::string(what) +
                                   " is not valid UTF-8: " + Quoted(utf8));
  }
  if (!IsCleanText(utf8) || HasFormatCharacter(utf8)) {
    return Status::InvalidArgument(std::string(what) +
                                   " contains a control character: " + Quoted(utf8));
  }
  // Valid UTF-8: every character has exactly one byte that is not 10xxxxxx.
  size_t chars = 0;
  for (char c : utf8) chars += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return chars;
}

Status CheckSubjectValue(int nid, std::string_view utf8) {
  const AttributeRule* rule = RuleFor(nid);
  std::string name = AttributeName(nid);
  if (!rule) return NotAccepted(name);
  ASSIGN_OR_RETURN(size_t chars, CheckText(utf8, name));
  if (chars == 0) return Status::InvalidArgument(name + " is empty");
  if (chars > rule->max_chars) {
    return Status::InvalidArgument(name + " has " + std::to_string(chars) +
                                   " characters; RFC 5280 allows at most " +
                                   std::to_string(rule->max_chars));
  }
  return CheckAttributeForm(nid, utf8);
}

Result<CheckedSubject> CheckSubject(const X509_NAME* subject) {
  int count = X509_NAME_entry_count(subject);
  if (count > kMaxSubjectAttributes) {
    return Status::InvalidArgument(
        "subject has " + std::to_string(count) + " attributes; at most " +
        std::to_string(kMaxSubjectAttributes) + " are accepted");
  }
  CheckedSubject out;
  out.name.reset(X509_NAME_new());
  if (!out.name) return OpenSslError("X509_NAME_new");
  std::array<int, kAttributes.size()> seen{};
  int previous_set = -1;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
    int nid = OBJ_obj2nid(object);
    const AttributeRule* rule = RuleFor(nid);
    if (!rule) return NotAccepted(ObjectName(object));
    if (rule->single && seen[static_cast<size_t>(rule - kAttributes.data())]++ > 0) {
      return Status::InvalidArgument("subject has more than one " + AttributeName(nid));
    }
    ASSIGN_OR_RETURN(std::string value,
                     DecodeValue(X509_NAME_ENTRY_get_data(entry), AttributeName(nid)));
    RETURN_IF_ERROR(CheckSubjectValue(nid, value));
    int set = X509_NAME_ENTRY_set(entry);
    RETURN_IF_ERROR(AddEntry(out.name.get(), *rule, value, i > 0 && set == previous_set));
    previous_set = set;
    if (nid == NID_commonName) out.common_name = value;
  }
  return out;
}

}  // namespace certctl
