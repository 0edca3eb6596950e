// Private to core: what `db restore-check` needs of a PostgreSQL server
// beyond the pool: connection strings taken apart and put back together,
// the same connection for child processes (pg_restore, psql, pg_dump)
// through their environment, and databases created and dropped.
//
// Connection strings are parsed by libpq itself (PQconninfoParse), so a URL
// and a key=value string mean exactly what they mean to every other libpq
// program. A password is never put in a message, and reaches a child process
// only through its environment (PGPASSWORD), never its argv.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {

class ConnInfo {
 public:
  // InvalidArgument naming libpq's complaint (which never repeats a
  // password) when `url` is not a libpq URL or key=value string.
  static Result<ConnInfo> Parse(const std::string& url);

  // The value given for a libpq keyword ("host", "dbname"...); "" when unset.
  std::string Get(const std::string& keyword) const;
  // The same connection to another database of the server.
  ConnInfo WithDatabase(const std::string& dbname) const;
  // key=value form with values quoted, for libpq and libpqxx.
  std::string ToString() const;
  // "PGHOST=...", "PGDATABASE=...", "PGPASSWORD=..." for each keyword given
  // that libpq also reads from the environment: a child libpq program
  // started with these connects where this names, without an argv secret.
  std::vector<std::string> Environment() const;
  // host:port/dbname with libpq's defaults filled in, for messages and to
  // tell two databases apart ("/var/run/postgresql:5432/certctl").
  std::string Address() const;

 private:
  struct Value {
    std::string keyword, envvar, value;
  };
  std::vector<Value> values_;
};

// CREATE DATABASE `name` (from template0, so that nothing a site added to
// template1 comes with it) over a connection made with `server`.
// AlreadyExists when it exists: a scratch database is always a new one.
Status CreateScratchDatabase(const ConnInfo& server, const std::string& name);
// DROP DATABASE IF EXISTS `name` WITH (FORCE).
Status DropScratchDatabase(const ConnInfo& server, const std::string& name);
// Whether the database `name` exists on the server `server` reaches.
Result<bool> DatabaseExists(const ConnInfo& server, const std::string& name);

}  // namespace certctl
