#include "store/scratch_database.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>

#include "certctl/util/process.h"
#include "store/pg.h"

namespace certctl {
namespace {

std::string Quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

Result<ConnInfo> ConnInfo::Parse(const std::string& url) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::InvalidArgument("not a PostgreSQL connection string: " + why);
  }
  ConnInfo info;
  for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (!o->val) continue;
    info.values_.push_back({o->keyword, o->envvar ? o->envvar : "", o->val});
  }
  return info;
}

std::string ConnInfo::Get(const std::string& keyword) const {
  for (const auto& v : values_) {
    if (v.keyword == keyword) return v.value;
  }
  return "";
}

ConnInfo ConnInfo::WithDatabase(const std::string& dbname) const {
  ConnInfo out = *this;
  for (auto& v : out.values_) {
    if (v.keyword == "dbname") {
      v.value = dbname;
      return out;
    }
  }
  out.values_.push_back({"dbname", "PGDATABASE", dbname});
  return out;
}

std::string ConnInfo::ToString() const {
  std::string out;
  for (const auto& v : values_) {
    out += (out.empty() ? "" : " ") + v.keyword + "=" + Quoted(v.value);
  }
  return out;
}

std::vector<std::string> ConnInfo::Environment() const {
  std::vector<std::string> out;
  for (const auto& v : values_) {
    if (!v.envvar.empty()) out.push_back(v.envvar + "=" + v.value);
  }
  return out;
}

std::string ConnInfo::Address() const {
  std::string host =
      Get("host").empty() ? EnvOr("PGHOST", "/var/run/postgresql") : Get("host");
  std::string port = Get("port").empty() ? EnvOr("PGPORT", "5432") : Get("port");
  std::string user = Get("user").empty() ? EnvOr("PGUSER", InvokingUser()) : Get("user");
  std::string db = Get("dbname").empty() ? EnvOr("PGDATABASE", user) : Get("dbname");
  return host + ":" + port + "/" + db;
}

Result<bool> DatabaseExists(const ConnInfo& server, const std::string& name) {
  return GuardValue<bool>("look for database " + name, [&] {
    pqxx::connection c(server.ToString());
    pqxx::nontransaction tx(c);
    return !tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty();
  });
}

Status CreateScratchDatabase(const ConnInfo& server, const std::string& name) {
  ASSIGN_OR_RETURN(bool exists, DatabaseExists(server, name));
  if (exists) {
    return Status::AlreadyExists("database " + name +
                                 " exists; a restore check restores only into a "
                                 "database it creates");
  }
  return Guard("create database " + name, [&] {
    pqxx::connection c(server.ToString());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + tx.quote_name(name) + " TEMPLATE template0");
    return Status::Ok();
  });
}

Status DropScratchDatabase(const ConnInfo& server, const std::string& name) {
  return Guard("drop database " + name, [&] {
    pqxx::connection c(server.ToString());
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    return Status::Ok();
  });
}

}  // namespace certctl
