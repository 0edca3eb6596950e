// Names that come from requests (CSRs, the issuance API): DNS names, e-mail
// addresses and subject attributes, as certctl accepts them into issued
// certificates. Every refusal is InvalidArgument naming the field and the
// rule broken; a value quoted in a message goes through Printable
// (util/identifiers.h), so a message can neither forge a log line nor grow
// without bound. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "certctl/pki/ossl.h"
#include "certctl/util/status.h"

namespace certctl {

// At most this many attributes in a subject. RFC 5280 sets no number; a leaf
// certificate's subject rarely has more than eight.
inline constexpr int kMaxSubjectAttributes = 16;

// A DNS name in the preferred name syntax (RFC 1034 §3.5, RFC 1123 §2.1):
// labels of letters, digits and '-' (not first or last), 1 to 63 octets each,
// at most 253 octets in all, no trailing dot; the last label is not all
// digits (an address belongs in an iPAddress SAN). With `allow_wildcard` the
// whole leftmost label may be "*" when at least two labels follow it:
// "*.example.com", but neither "*" nor "*.com", which would cover a whole
// top-level domain, nor "w*.example.com" or "a.*.example.com".
Status CheckDnsName(std::string_view name, bool allow_wildcard = true);

// An rfc822Name: a local part in RFC 5321 dot-atom form (ASCII letters, digits
// and !#$%&'*+-/=?^_`{|}~, dots between atoms) of at most 64 octets, '@', and
// a DNS name without wildcard; at most 254 octets in all. Quoted local parts,
// address literals and internationalised addresses are refused.
Status CheckEmailAddress(std::string_view address);

// Text that is safe to show and to log: IsCleanText (valid UTF-8 without C0,
// DEL or C1 controls) and no line or paragraph separator or bidirectional
// formatting character either.
// `what` names the field in the message. Returns the number of characters.
Result<size_t> CheckText(std::string_view utf8, std::string_view what);

// The value of a subject attribute (`nid`, e.g. NID_commonName) given as
// UTF-8, checked as CheckSubject checks a CSR's: CheckText, not empty, and
// within RFC 5280's upper bound for the attribute. InvalidArgument for an
// attribute certctl does not accept.
Status CheckSubjectValue(int nid, std::string_view utf8);

// A CSR's subject as certctl issues it. Accepted attributes: C, ST, L, O, OU,
// CN, serialNumber and DC; at most one each of C, CN and serialNumber, and at
// most kMaxSubjectAttributes in all. Each value is decoded from its ASN.1
// string type (UTF8String, PrintableString, IA5String, VisibleString,
// NumericString, TeletexString read as Latin-1 as OpenSSL does, BMPString,
// UniversalString; the 8-bit types' character sets enforced), checked with
// CheckSubjectValue, and re-encoded as RFC 5280 §4.1.2.6 asks: UTF8String,
// but PrintableString for C and serialNumber and IA5String for DC. The RDN
// structure (multi-valued RDNs) is kept.
struct CheckedSubject {
  UniquePtr<X509_NAME> name;
  std::string common_name;  // UTF-8; empty when the subject has none
};
Result<CheckedSubject> CheckSubject(const X509_NAME* subject);

}  // namespace certctl
