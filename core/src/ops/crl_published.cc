// The published-CRL record beside each generation's CA key
// (ops/crl_published.h).
#include "ops/crl_published.h"

#include <charconv>
#include <filesystem>

#include "certctl/util/files.h"

namespace certctl::ops::internal {
namespace {

constexpr mode_t kPublicFileMode = 0644;  // a CRL and its number are public

std::string Base(const CaGenerationRecord& gen) {
  std::filesystem::path dir = std::filesystem::path(gen.key_path).parent_path();
  if (dir.empty()) dir = ".";
  return (dir / (gen.issuer_id + "-g" + std::to_string(gen.generation))).string();
}

Result<std::optional<std::string>> ReadIfPresent(const std::string& path) {
  auto data = ReadFile(path);
  if (data.ok()) return std::optional<std::string>(std::move(*data));
  if (data.status().code() == StatusCode::kNotFound) {
    return std::optional<std::string>();
  }
  return data.status();
}

}  // namespace

std::string PublishedCrlNumberPath(const CaGenerationRecord& gen) {
  return Base(gen) + ".crl-number";
}

std::string PublishedCrlPath(const CaGenerationRecord& gen) { return Base(gen) + ".crl"; }

Result<int64_t> PublishedCrlNumberFloor(const CaGenerationRecord& gen) {
  std::string path = PublishedCrlNumberPath(gen);
  ASSIGN_OR_RETURN(auto text, ReadIfPresent(path));
  if (!text) return int64_t{0};
  std::string_view digits(*text);
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) {
    digits.remove_suffix(1);
  }
  int64_t number = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      number < 0) {
    return Status::Corruption(path + " does not hold a CRL number");
  }
  return number;
}

Status RecordPublishedCrl(const CaGenerationRecord& gen, int64_t number,
                          const std::string& der) {
  ASSIGN_OR_RETURN(int64_t floor, PublishedCrlNumberFloor(gen));
  WriteOptions options{.mode = kPublicFileMode, .keep_backup = false};
  if (number <= floor) {
    // The last defence against a repeated number: RegenerateCrl reserves
    // above the floor, so only a file written meanwhile can get here.
    return Status::FailedPrecondition("CRL number " + std::to_string(number) +
                                      " is not above " + std::to_string(floor) +
                                      ", the highest one used according to " +
                                      PublishedCrlNumberPath(gen));
  }
  RETURN_IF_ERROR(
      WriteFileAtomic(PublishedCrlNumberPath(gen), std::to_string(number) + "\n", options)
          .WithContext("record CRL number " + std::to_string(number)));
  return WriteFileAtomic(PublishedCrlPath(gen), der, options)
      .WithContext("record the published CRL");
}

Result<std::optional<std::string>> ReadPublishedCrl(const CaGenerationRecord& gen) {
  return ReadIfPresent(PublishedCrlPath(gen));
}

}  // namespace certctl::ops::internal
