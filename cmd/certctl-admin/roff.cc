#include "roff.h"

#include <cctype>
#include <vector>

namespace certctl::admin::roff {
namespace {

// Where an example's command starts: the section indent (7) and .RS 4.
constexpr size_t kExampleIndent = 11;
// The footer's centre: the date (.TH's third argument).
constexpr char kDate[] = CERTCTL_RELEASE_DATE;
constexpr char kSource[] = "certctl " CERTCTL_VERSION;
constexpr char kManual[] = "certctl manual";

std::string Upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Whether text of these widths, left, centred and right, fits on one line of
// kColumns with two spaces between them (groff and mandoc centre the middle;
// with one, a 32-column title at 80 columns ran into the centre in both).
bool Fits(size_t left, size_t centre, size_t right) {
  if (centre == 0) return left + 2 + right <= kColumns;
  size_t start = (kColumns - centre) / 2;
  return left + 2 <= start && start + centre + 2 + right <= kColumns;
}

// Splits a shell command at spaces that are outside quotes.
std::vector<std::string> ShellWords(std::string_view command) {
  std::vector<std::string> words(1);
  char quote = 0;
  for (char c : command) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ' ') {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    words.back() += c;
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

// A line of an example as it renders and as it is written in the source.
bool ExampleLineFits(const std::string& plain) {
  return kExampleIndent + plain.size() + 2 <= kColumns &&  // and " \"
         Escape(plain).size() + 3 <= kColumns;
}

// A line that starts with a control character is a request to roff; \& in
// front makes it text.
std::string Unmistaken(std::string line) {
  if (!line.empty() && (line[0] == '.' || line[0] == '\'')) line.insert(0, "\\&");
  return line;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  bool in_code = false;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c == '`') {
      out += in_code ? "\\fR" : "\\fB";
      in_code = !in_code;
    } else {
      out += c;
    }
  }
  if (in_code) out += "\\fR";
  return out;
}

std::string FillEscaped(std::string_view escaped) {
  std::string out, line;
  auto flush = [&] {
    if (line.empty()) return;
    out += Unmistaken(line) + "\n";
    line.clear();
  };
  size_t at = 0;
  while (at < escaped.size()) {
    size_t end = escaped.find_first_of(" \n", at);
    if (end == std::string_view::npos) end = escaped.size();
    std::string_view word = escaped.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > kColumns) flush();
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  flush();
  return out;
}

std::string Fill(std::string_view text) { return FillEscaped(Escape(text)); }

void Paragraphs(std::ostream& out, std::string_view text, bool after_heading) {
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    size_t end = text.find("\n\n", start);
    std::string_view para = text.substr(start, end == text.npos ? end : end - start);
    if (!para.empty()) {
      if (!(first && after_heading)) out << ".PP\n";
      out << Fill(para);
      first = false;
    }
    if (end == text.npos) break;
    start = end + 2;
  }
}

void Item(std::ostream& out, const std::string& tag_roff, std::string_view text) {
  out << ".TP\n" << tag_roff << "\n" << Fill(text);
}

std::string Header(std::string_view generated_by, const std::string& page,
                   std::string_view section, std::string_view summary) {
  std::string title = Upper(page);
  size_t suffix = section.size() + 2;  // "(1)"
  auto fits = [&](const std::string& t) {
    size_t l = t.size() + suffix;
    return Fits(l, std::string_view(kManual).size(), l) &&
           Fits(std::string_view(kSource).size(), std::string_view(kDate).size(), l);
  };
  const std::string prefix = "CERTCTL-ADMIN-";
  if (!fits(title) && title.rfind(prefix, 0) == 0) title = title.substr(prefix.size());
  std::string out;
  for (std::string_view rest = generated_by; !rest.empty();) {
    size_t nl = rest.find('\n');
    out += ".\\\" " + std::string(rest.substr(0, nl)) + "\n";
    rest = nl == rest.npos ? "" : rest.substr(nl + 1);
  }
  out += ".TH " + Escape(title) + " " + std::string(section) + " " + kDate + " \"" +
         kSource + "\" \"" + kManual + "\"\n";
  // No hyphenation, ragged right: commands, options and page names stay
  // whole so they can be copied.
  out += ".nh\n.ad l\n.SH NAME\n" + FillEscaped(Escape(page) + " \\- " + Escape(summary));
  return out;
}

void Example(std::ostream& out, std::string_view command, std::string_view what,
             bool after_heading) {
  std::string sentence(what);
  if (!sentence.empty()) sentence[0] = static_cast<char>(std::toupper(sentence[0]));
  out << (after_heading ? "" : ".PP\n") << Fill(sentence + ":") << ".PP\n.RS 4\n.nf\n";
  std::string line;
  for (const auto& word : ShellWords(command)) {
    std::string longer = line.empty() ? word : line + " " + word;
    if (!line.empty() && !ExampleLineFits(longer)) {
      out << Unmistaken(Escape(line)) << " \\e\n";
      // Continuation lines are indented, unless a long quoted word then
      // would not fit.
      line = ExampleLineFits("    " + word) ? "    " + word : word;
    } else {
      line = longer;
    }
  }
  out << Unmistaken(Escape(line)) << "\n.fi\n.RE\n";
}

}  // namespace certctl::admin::roff
