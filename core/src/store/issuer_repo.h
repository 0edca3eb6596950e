// Issuers and their CA generations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/store/database.h"

namespace certctl {

class IssuerRepo {
 public:
  // Creates the issuer if missing; returns whether it was created.
  static Result<bool> Ensure(Transaction& tx, const std::string& id,
                             const std::string& display_name);
  static Result<std::optional<IssuerRecord>> Find(Transaction& tx, const std::string& id);
  static Result<std::vector<IssuerRecord>> List(Transaction& tx);
  // Locks the issuer row (SELECT ... FOR UPDATE) and returns the new epoch
  // after incrementing it; called in every revocation's transaction.
  static Result<int64_t> BumpRevocationEpoch(Transaction& tx, const std::string& id);

  static Result<std::optional<CaGenerationRecord>> ActiveGeneration(
      Transaction& tx, const std::string& issuer);
  static Result<std::optional<CaGenerationRecord>> FindGeneration(
      Transaction& tx, const std::string& issuer, int generation);
  static Result<std::vector<CaGenerationRecord>> Generations(Transaction& tx,
                                                             const std::string& issuer);
  // Inserts a generation (and its CRL number counter). AlreadyExists when the
  // number or the certificate is taken.
  static Status InsertGeneration(Transaction& tx, const CaGenerationRecord& record);
  static Status RetireGeneration(Transaction& tx, const std::string& issuer,
                                 int generation);
  // Moves a generation from state `from` to `to` (retired_at set when it
  // becomes retired, cleared otherwise); NotFound when it is not in `from`.
  // A switch of the active generation retires the old one first: at most
  // one is active (a unique index).
  static Status ChangeGenerationState(Transaction& tx, const std::string& issuer,
                                      int generation, GenerationState from,
                                      GenerationState to);

  // Reserves the next CRL number for a generation (row-locked increment).
  static Result<int64_t> NextCrlNumber(Transaction& tx, const std::string& issuer,
                                       int generation);
  static Result<int64_t> LastCrlNumber(Transaction& tx, const std::string& issuer,
                                       int generation);
  // Moves the counter up to `used` when it is below (the next CRL then gets
  // used + 1); never down. Returns the counter's value before.
  static Result<int64_t> RaiseCrlNumber(Transaction& tx, const std::string& issuer,
                                        int generation, int64_t used);
};

}  // namespace certctl
