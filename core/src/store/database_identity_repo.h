// This database's identity (migrations/0007_database_identity.sql): a random
// id bound to the physical database, which names the responder key files
// this database writes.
#pragma once

#include <optional>
#include <string>

#include "certctl/store/database.h"

namespace certctl {

struct DatabaseIdentity {
  std::string id;  // 16 lowercase hex digits
  // Set when this call replaced the identity the database was copied with
  // (the row was made for another physical database): that one.
  std::optional<std::string> replaced;
};

class DatabaseIdentityRepo {
 public:
  // The identity, under a row lock held until `tx` ends. When the row was
  // made for another physical database (this one is a copy: pg_restore,
  // CREATE DATABASE ... TEMPLATE, a file copy), or is missing, a fresh random
  // identity replaces it first and `replaced` names the old one; that change
  // commits with `tx`.
  static Result<DatabaseIdentity> Current(Transaction& tx);
  // Read-only: the stored identity and whether it was made for this physical
  // database (false: Current would replace it). Unset when there is no row.
  struct Stored {
    std::string id;
    bool bound_here = false;
  };
  static Result<std::optional<Stored>> Peek(Transaction& tx);
};

}  // namespace certctl
