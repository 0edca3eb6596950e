// Writing man(7) roff that `mandoc -T lint` accepts without a message and
// that renders at 80 columns without garbling: source lines of at most 80
// bytes, no paragraph macro right after a heading, a date in .TH, a header
// and footer that fit, and examples broken into shell continuation lines.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace certctl::admin::roff {

// The width the pages are written for (MANWIDTH=80, a terminal of 80).
inline constexpr size_t kColumns = 80;

// Escapes plain text: backslashes, ASCII hyphens (so that commands copied
// from the page work), and `code` spans, which become bold. Not filled.
std::string Escape(std::string_view text);

// Escaped text split at spaces into source lines of at most kColumns bytes
// (a longer word stays whole on a line of its own), each line safe from
// being read as a request. Ends with a newline.
std::string FillEscaped(std::string_view escaped);
// Escape() then FillEscaped().
std::string Fill(std::string_view text);

// Paragraphs separated by blank lines in `text`. `after_heading`: the first
// paragraph follows .SH or .SS directly, so it takes no .PP.
void Paragraphs(std::ostream& out, std::string_view text, bool after_heading);

// A tagged paragraph: .TP, the tag line (already roff), then `text` filled.
void Item(std::ostream& out, const std::string& tag_roff, std::string_view text);

// The comment saying who wrote the page, .TH, the no-hyphenation and
// ragged-right requests, and the NAME section. The title is `page` in upper
// case, or, when that does not fit twice beside "certctl manual" in the
// header or beside the source and date in the footer at 80 columns (groff
// 1.22 prints them over each other), the part after "certctl-admin-":
// OCSP-RESET-RESPONDER(1). mandoc does not compare the title with the page.
std::string Header(std::string_view generated_by, const std::string& page,
                   std::string_view section, std::string_view summary);

// "What it does:" and the command in an indented no-fill block, broken at
// spaces outside quotes into lines ending in " \" that fit in 80 columns.
// `after_heading`: the first example after .SH, which takes no .PP.
void Example(std::ostream& out, std::string_view command, std::string_view what,
             bool after_heading);

}  // namespace certctl::admin::roff
