// Private to core/src/store: the libpqxx side of Database, Session and
// Transaction, and the one place libpqxx exceptions become Status values.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

class PooledConnection {
 public:
  explicit PooledConnection(const std::string& url) : conn(url) {}
  pqxx::connection conn;
  std::unordered_set<std::string> prepared;
  bool broken = false;
};

// Thrown by Transaction::Exec for a text parameter libpq cannot carry:
// it passes text as C strings, so "iss-local\0x" would arrive as "iss-local"
// and match a row the caller did not name. Becomes InvalidArgument.
struct NulInTextParameter : std::invalid_argument {
  NulInTextParameter() : std::invalid_argument("a text parameter contains a NUL byte") {}
};

template <typename Arg>
void CheckTextParameter(const Arg& arg) {
  if constexpr (std::is_convertible_v<const Arg&, std::string_view>) {
    if (std::string_view(arg).find('\0') != std::string_view::npos) {
      throw NulInTextParameter();
    }
  }
}

class Transaction {
 public:
  // `w` is a pqxx::work (Database::Run) or a pqxx::nontransaction
  // (Database::RunStatement).
  Transaction(PooledConnection& c, pqxx::transaction_base& w) : conn_(c), work_(w) {}
  pqxx::transaction_base& work() { return work_; }
  PooledConnection& conn() { return conn_; }

  // Executes a statement prepared once per connection under `name`.
  template <typename... Args>
  pqxx::result Exec(const char* name, const char* sql, Args&&... args) {
    (CheckTextParameter(args), ...);
    if (conn_.prepared.insert(name).second) conn_.conn.prepare(name, sql);
    return work_.exec_prepared(name, std::forward<Args>(args)...);
  }

 private:
  PooledConnection& conn_;
  pqxx::transaction_base& work_;
};

// Translates the exception being handled (call inside a catch block) into a
// Status; `what` says what was being done.
Status StatusFromCurrentException(std::string_view what);

// Binary parameter for bytea columns.
inline pqxx::binarystring Bytes(std::string_view data) {
  return pqxx::binarystring(data.data(), data.size());
}
inline std::string BytesFrom(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return std::string(b.get(), b.size());
}

// timestamptz as Unix seconds (with fractions) in SQL: pass with
// to_timestamp($n) and read with extract(epoch from col).
inline double EpochParam(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
inline TimePoint TimeFrom(const pqxx::field& f) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::duration<double>(f.as<double>())));
}
inline std::optional<TimePoint> OptionalTimeFrom(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return TimeFrom(f);
}

// timestamptz as integer Unix microseconds, exact both ways and without
// floating-point text parsing (the hot OCSP paths): read with
// MicrosSql("col") in the select list, pass with
// 'epoch'::timestamptz + $n * interval '1 microsecond'.
inline std::string MicrosSql(const std::string& column) {
  return "(extract(epoch from " + column + ") * 1000000)::bigint";
}
inline int64_t MicrosParam(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch())
      .count();
}
inline TimePoint TimeFromMicros(int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

// Runs `body` and turns a libpqxx exception into a Status.
template <typename F>
Status Guard(std::string_view what, F&& body) {
  try {
    return body();
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

// Runs `body` (returning T) and turns a libpqxx exception into a Status.
template <typename T, typename F>
Result<T> GuardValue(std::string_view what, F&& body) {
  std::optional<T> out;
  Status s = Guard(what, [&] {
    out.emplace(body());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

// Runs `body` (returning Result<T>: an expected "does not exist" is a
// Status, never an exception) and turns a libpqxx exception into a Status.
template <typename T, typename F>
Result<T> GuardResult(std::string_view what, F&& body) {
  std::optional<Result<T>> out;
  Status s = Guard(what, [&] {
    out.emplace(body());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

}  // namespace certctl
