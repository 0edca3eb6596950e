// Private to core: the queries of `db restore-check` (core/ops). They read a
// database as a whole (its tables, their rows, its foreign keys), so they run
// on a restored scratch copy and, read-only, on the live database.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/store/database.h"
#include "certctl/util/status.h"

namespace certctl {

struct ForeignKeyOrphans {
  std::string constraint;  // "certificates_issuer_id_generation_fkey"
  std::string table;       // the referencing table
  std::string references;  // the referenced table
  int64_t rows = 0;        // rows whose key has no referenced row
};

struct RevocationKey {
  std::string issuer_id;
  int generation = 0;
  std::string serial;  // canonical lowercase hex
  int reason = 0;
  TimePoint revoked_at;
};

struct CrlNumberUse {
  std::string issuer_id;
  int generation = 0;
  // The highest CRL number the database knows was used: crl_numbers, the
  // cached CRL and the generation events, whichever is highest.
  int64_t highest = 0;
};

struct ResponderKeyRow {
  std::string issuer_id;
  int generation = 0;
  std::string serial_number;
  std::string cert_pem;
  std::string key_path;
};

struct ConfigKeyCheckRow {
  std::string algorithm;  // "hmac-sha256"
  std::string salt;       // raw bytes
  std::string check_value;
};

class RestoreCheckRepo {
 public:
  // Every base table of the public schema -> its columns as "name type",
  // in column order.
  static Result<std::map<std::string, std::vector<std::string>>> Tables(Transaction& tx);
  // SELECT count(*) of `table` (a name Tables returned).
  static Result<int64_t> CountRows(Transaction& tx, const std::string& table);
  // Every foreign key of the public schema, with the rows that break it
  // (MATCH SIMPLE: a key with a NULL column breaks nothing).
  static Result<std::vector<ForeignKeyOrphans>> ForeignKeys(Transaction& tx);
  // Every revocation, ordered by issuer and serial, streamed.
  static Status ForEachRevocation(Transaction& tx,
                                  const std::function<void(RevocationKey)>& visit);
  static Result<std::vector<CrlNumberUse>> CrlNumbers(Transaction& tx);
  static Result<std::vector<ResponderKeyRow>> Responders(Transaction& tx);
  // The newest certificate (DER) of each generation: where its CRL is.
  static Result<std::map<std::pair<std::string, int>, std::string>> NewestCertificates(
      Transaction& tx);
  // The config_encryption_key_check row; nullopt when none was recorded.
  static Result<std::optional<ConfigKeyCheckRow>> FindKeyCheck(Transaction& tx);
  // Records `row` unless a row exists; true when this call recorded it.
  static Result<bool> InsertKeyCheck(Transaction& tx, const ConfigKeyCheckRow& row);
};

}  // namespace certctl
