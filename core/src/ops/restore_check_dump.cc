// The dump and the PostgreSQL programs that read and write it.
//
// pg_restore, psql and pg_dump run as child processes without a shell
// (RunProcess), with stdin /dev/null and -w (never prompt). Where they
// connect is in their environment (PGHOST, PGPORT, PGUSER, PGPASSWORD...,
// ConnInfo::Environment), so no password is ever in an argv that `ps` shows.
#include <filesystem>
#include <fstream>

#include "certctl/util/process.h"
#include "ops/restore_check_internal.h"

namespace certctl::ops::internal {
namespace {

namespace fs = std::filesystem;

constexpr char kPlainHeader[] = "PostgreSQL database dump";
constexpr char kPlainTrailer[] = "-- PostgreSQL database dump complete";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A plain dump is SQL that psql runs, and psql runs meta-commands too: a
// `\connect` would restore into another database (the live one), a `\!` run
// a shell. pg_dump writes none but \restrict and \unrestrict (PostgreSQL
// 15.14 and later), and `\.` to end COPY data; anything else is refused.
// Checked line by line, which is how pg_dump writes them (a crafted file
// could hide one inside a line: prefer the custom format, see the man page).
Status CheckPlainDump(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::string line;
  bool in_copy = false, complete = false;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    // The closing line, followed by nothing but comments and \unrestrict.
    if (line == kPlainTrailer) {
      complete = true;
    } else if (complete && !line.empty() && !StartsWith(line, "--") &&
               !StartsWith(line, "\\unrestrict ")) {
      complete = false;
    }
    if (in_copy) {
      in_copy = line != "\\.";
      continue;
    }
    if (StartsWith(line, "COPY ") && line.ends_with("FROM stdin;")) in_copy = true;
    if (line.empty() || line[0] != '\\') continue;
    if (StartsWith(line, "\\restrict ") || StartsWith(line, "\\unrestrict ")) continue;
    return Status::InvalidArgument(
        path + " line " + std::to_string(number) + " holds the psql meta-command \"" +
        line.substr(0, line.find(' ')) +
        "\", which pg_dump does not write (a dump taken with --create names the "
        "database to restore into): take the dump without --create, or in the custom "
        "format (pg_dump -Fc)");
  }
  if (in_copy || !complete) {
    return Status::Corruption(path + " ends before pg_dump's closing line \"" +
                              kPlainTrailer + "\": the dump is truncated");
  }
  return Status::Ok();
}

// The lines of a program's output that say what went wrong.
std::string ErrorLines(const std::string& output) {
  std::string out, line;
  size_t lines = 0, start = 0;
  while (start < output.size() && lines < 6) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    line = output.substr(start, end - start);
    start = end + 1;
    if (line.find("error") != std::string::npos ||
        line.find("ERROR") != std::string::npos ||
        line.find("FATAL") != std::string::npos) {
      out += (out.empty() ? "" : "; ") + line;
      ++lines;
    }
  }
  if (out.empty()) out = output.substr(0, 600);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Status Run(const std::vector<std::string>& argv, const ConnInfo& where,
           const std::string& what) {
  ProcessOptions options;
  options.extra_env = where.Environment();
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, options));
  if (r.exit_code == 0) return Status::Ok();
  std::string why = ErrorLines(r.output);
  if (why.find("connection to server") != std::string::npos) {
    return Status::Unavailable(what + " failed: " + why);
  }
  return Status::Corruption(what + " failed (" + fs::path(argv[0]).filename().string() +
                            " exit " + std::to_string(r.exit_code) + "): " + why);
}

}  // namespace

std::string_view DumpFormatName(DumpFormat format) {
  switch (format) {
    case DumpFormat::kCustom:
      return "custom";
    case DumpFormat::kDirectory:
      return "directory";
    case DumpFormat::kTar:
      return "tar";
    case DumpFormat::kPlain:
      return "plain";
  }
  return "unknown";
}

Result<DumpFormat> DetectDumpFormat(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Status::NotFound("the dump " + path + " does not exist");
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "toc.dat", ec)) return DumpFormat::kDirectory;
    return Status::InvalidArgument(path +
                                   " is a directory without toc.dat: not a pg_dump "
                                   "directory-format archive");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) return Status::InvalidArgument(path + " is empty, not a dump");
  if (StartsWith(head, "PGDMP")) return DumpFormat::kCustom;
  if (head.size() >= 262 && head.substr(257, 5) == "ustar") return DumpFormat::kTar;
  if (StartsWith(head, "\x1f\x8b")) {
    return Status::InvalidArgument(
        path +
        " is gzip-compressed: decompress a plain dump first "
        "(pg_restore reads compressed custom archives itself)");
  }
  if (StartsWith(head, "--") && head.find(kPlainHeader) != std::string::npos) {
    RETURN_IF_ERROR(CheckPlainDump(path));
    return DumpFormat::kPlain;
  }
  return Status::InvalidArgument(path +
                                 " is not a pg_dump archive (custom, directory or tar "
                                 "format) or a plain pg_dump SQL file");
}

Result<std::string> FindPgProgram(const std::string& name) {
  std::error_code ec;
  if (const char* dir = std::getenv("CERTCTL_PG_BIN_DIR"); dir && *dir) {
    if (fs::exists(fs::path(dir) / name, ec)) return (fs::path(dir) / name).string();
  }
  int best = -1;
  std::string found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    fs::path program = entry.path() / "bin" / name;
    if (version > best && fs::exists(program, ec)) {
      best = version;
      found = program.string();
    }
  }
  if (!found.empty()) return found;
  for (std::string_view dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
       !dirs.empty();) {
    size_t colon = dirs.find(':');
    fs::path program = fs::path(std::string(dirs.substr(0, colon))) / name;
    if (fs::exists(program, ec)) return program.string();
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
  }
  return Status::FailedPrecondition(
      name +
      " not found: install the PostgreSQL client programs (postgresql-client-15) "
      "or set CERTCTL_PG_BIN_DIR");
}

Status DumpDatabase(const ConnInfo& source, const std::string& file) {
  ASSIGN_OR_RETURN(std::string pg_dump, FindPgProgram("pg_dump"));
  return Run({pg_dump, "-w", "--format=custom", "--file=" + file}, source,
             "pg_dump of " + source.Address());
}

Status RestoreDump(const std::string& path, DumpFormat format, const ConnInfo& target) {
  std::string db = "--dbname=" + target.Get("dbname");
  if (format == DumpFormat::kPlain) {
    ASSIGN_OR_RETURN(std::string psql, FindPgProgram("psql"));
    return Run({psql, "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", db, "--file=" + path},
               target, "restoring " + path + " with psql");
  }
  ASSIGN_OR_RETURN(std::string pg_restore, FindPgProgram("pg_restore"));
  return Run(
      {pg_restore, "-w", "--no-owner", "--no-privileges", "--exit-on-error", db, path},
      target, "restoring " + path + " with pg_restore");
}

}  // namespace certctl::ops::internal
