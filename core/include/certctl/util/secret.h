// A string that holds secret bytes (private keys, API keys) and wipes them
// when it dies. Move-only so copies of a secret are never made by accident.
#pragma once

#include <string>
#include <string_view>

namespace certctl {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  ~SecretString() { Wipe(); }
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
    other.Wipe();
  }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  std::string_view view() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // Never print a secret; this exists for diagnostics that must say "set".
  static constexpr std::string_view kMasked = "********";

 private:
  void Wipe();
  std::string value_;
};

}  // namespace certctl
