#include "support/pg_harness.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <pqxx/pqxx>

#include "store/migrator.h"

namespace certctl::testing {
namespace {
constexpr char kTemplate[] = "certctl_template";
}

TestCluster& TestCluster::Get() {
  static TestCluster instance;
  return instance;
}

TestCluster::TestCluster() {
  char tmpl[] = "/tmp/certctl-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::cerr << "cannot create a temporary directory for PostgreSQL\n";
    std::abort();
  }
  root_ = tmpl;
  ::chmod(root_.c_str(), 0755);
  LocalClusterOptions options;
  options.dir = root_ + "/cluster";
  options.durable = false;
  // Tests count the statements a path issues (pg_stat_statements; each test
  // database that looks runs CREATE EXTENSION pg_stat_statements).
  options.settings = {"shared_preload_libraries=pg_stat_statements"};
  cluster_ = std::make_unique<LocalCluster>(options);
  auto fail = [&](const Status& s) {
    std::cerr << "test PostgreSQL cluster: " << s.ToString() << "\n";
    std::abort();
  };
  if (Status s = cluster_->Init(); !s.ok()) fail(s);
  if (Status s = cluster_->Start(); !s.ok()) fail(s);
  if (Status s = cluster_->CreateDatabase(kTemplate); !s.ok()) fail(s);
  auto db = Database::Open({.url = Url(kTemplate), .pool_size = 2});
  if (!db.ok()) fail(db.status());
  auto migrated = Migrate(**db);
  if (!migrated.ok()) fail(migrated.status());
}

TestCluster::~TestCluster() {
  (void)cluster_->Stop(true);
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string TestCluster::NextName() {
  return "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter_);
}

std::string TestCluster::CreateEmptyDatabase() {
  std::string name = NextName();
  Status s = cluster_->CreateDatabase(name);
  if (!s.ok()) {
    ADD_FAILURE() << s.ToString();
  }
  return name;
}

std::string TestCluster::CreateMigratedDatabase() {
  std::string name = NextName();
  Status s = cluster_->CreateDatabase(name, kTemplate);
  if (!s.ok()) {
    ADD_FAILURE() << s.ToString();
  }
  return name;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/certctl-test-XXXXXX";
  if (!::mkdtemp(tmpl)) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void DatabaseTest::SetUp() {
  auto& cluster = TestCluster::Get();
  db_name_ = cluster.CreateMigratedDatabase();
  url_ = cluster.Url(db_name_);
  auto db =
      Database::Open({.url = url_, .pool_size = 4, .application_name = "certctl-test"});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
}

void DatabaseTest::TearDown() {
  db_.reset();
  (void)TestCluster::Get().cluster().DropDatabase(db_name_);
}

std::string Sql(const std::string& url, const std::string& statement) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(statement);
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

Status TrySql(const std::string& url, const std::string& statement) {
  try {
    Sql(url, statement);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  }
}

}  // namespace certctl::testing
