#include "store/issuer_repo.h"

#include "certctl/util/identifiers.h"
#include "store/pg.h"

namespace certctl {

std::string_view GenerationStateName(GenerationState state) {
  switch (state) {
    case GenerationState::kActive:
      return "active";
    case GenerationState::kRetired:
      return "retired";
    case GenerationState::kPending:
      return "pending";
  }
  return "unknown";
}

namespace {

constexpr char kGenerationColumns[] =
    "issuer_id, generation, state, cert_pem, cert_sha256, key_path, subject, "
    "extract(epoch from not_before), extract(epoch from not_after), "
    "extract(epoch from created_at), extract(epoch from retired_at), chain_pem";

CaGenerationRecord GenerationFrom(const pqxx::row& r) {
  CaGenerationRecord g;
  g.issuer_id = r[0].as<std::string>();
  g.generation = r[1].as<int>();
  std::string state = r[2].as<std::string>();
  g.state = state == "active"    ? GenerationState::kActive
            : state == "pending" ? GenerationState::kPending
                                 : GenerationState::kRetired;
  g.cert_pem = r[3].as<std::string>();
  g.cert_sha256 = r[4].as<std::string>();
  g.key_path = r[5].as<std::string>();
  g.subject = r[6].as<std::string>();
  g.not_before = TimeFrom(r[7]);
  g.not_after = TimeFrom(r[8]);
  g.created_at = TimeFrom(r[9]);
  g.retired_at = OptionalTimeFrom(r[10]);
  g.chain_pem = r[11].as<std::string>();
  return g;
}

IssuerRecord IssuerFrom(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(),
          TimeFrom(r[3])};
}

}  // namespace

Result<bool> IssuerRepo::Ensure(Transaction& tx, const std::string& id,
                                const std::string& display_name) {
  return GuardValue<bool>("ensure issuer " + id, [&] {
    auto r = tx.Exec("issuer_ensure",
                     "INSERT INTO issuers (id, display_name) VALUES ($1, $2) "
                     "ON CONFLICT (id) DO NOTHING",
                     id, display_name);
    return r.affected_rows() == 1;
  });
}

Result<std::optional<IssuerRecord>> IssuerRepo::Find(Transaction& tx,
                                                     const std::string& id) {
  return GuardValue<std::optional<IssuerRecord>>("find issuer " + id, [&] {
    auto r = tx.Exec(
        "issuer_find",
        "SELECT id, display_name, revocation_epoch, extract(epoch from created_at) "
        "FROM issuers WHERE id = $1",
        id);
    if (r.empty()) return std::optional<IssuerRecord>();
    return std::optional<IssuerRecord>(IssuerFrom(r[0]));
  });
}

Result<std::vector<IssuerRecord>> IssuerRepo::List(Transaction& tx) {
  return GuardValue<std::vector<IssuerRecord>>("list issuers", [&] {
    auto rows = tx.Exec("issuer_list",
                        "SELECT id, display_name, revocation_epoch, "
                        "extract(epoch from created_at) FROM issuers ORDER BY id");
    std::vector<IssuerRecord> out;
    for (const auto& r : rows) out.push_back(IssuerFrom(r));
    return out;
  });
}

Result<int64_t> IssuerRepo::BumpRevocationEpoch(Transaction& tx, const std::string& id) {
  return GuardResult<int64_t>("bump revocation epoch of " + id, [&]() -> Result<int64_t> {
    auto r = tx.Exec(
        "issuer_bump_epoch",
        "UPDATE issuers SET revocation_epoch = revocation_epoch + 1 WHERE id = $1 "
        "RETURNING revocation_epoch",
        id);
    if (r.empty()) return Status::NotFound("issuer " + id + " does not exist");
    return r[0][0].as<int64_t>();
  });
}

Result<std::optional<CaGenerationRecord>> IssuerRepo::ActiveGeneration(
    Transaction& tx, const std::string& issuer) {
  static const std::string sql =
      std::string("SELECT ") + kGenerationColumns +
      " FROM ca_generations WHERE issuer_id = $1 AND state = 'active'";
  return GuardValue<std::optional<CaGenerationRecord>>(
      "active generation of " + issuer, [&] {
        auto r = tx.Exec("generation_active", sql.c_str(), issuer);
        if (r.empty()) return std::optional<CaGenerationRecord>();
        return std::optional<CaGenerationRecord>(GenerationFrom(r[0]));
      });
}

Result<std::optional<CaGenerationRecord>> IssuerRepo::FindGeneration(
    Transaction& tx, const std::string& issuer, int generation) {
  static const std::string sql =
      std::string("SELECT ") + kGenerationColumns +
      " FROM ca_generations WHERE issuer_id = $1 AND generation = $2";
  return GuardValue<std::optional<CaGenerationRecord>>("find generation", [&] {
    auto r = tx.Exec("generation_find", sql.c_str(), issuer, generation);
    if (r.empty()) return std::optional<CaGenerationRecord>();
    return std::optional<CaGenerationRecord>(GenerationFrom(r[0]));
  });
}

Result<std::vector<CaGenerationRecord>> IssuerRepo::Generations(
    Transaction& tx, const std::string& issuer) {
  static const std::string sql =
      std::string("SELECT ") + kGenerationColumns +
      " FROM ca_generations WHERE issuer_id = $1 ORDER BY generation";
  return GuardValue<std::vector<CaGenerationRecord>>(
      "list generations of " + issuer, [&] {
        std::vector<CaGenerationRecord> out;
        for (const auto& r : tx.Exec("generation_list", sql.c_str(), issuer)) {
          out.push_back(GenerationFrom(r));
        }
        return out;
      });
}

Status IssuerRepo::InsertGeneration(Transaction& tx, const CaGenerationRecord& g) {
  return Guard("insert CA generation", [&] {
    tx.Exec("generation_insert",
            "INSERT INTO ca_generations (issuer_id, generation, state, cert_pem, "
            "cert_sha256, key_path, subject, not_before, not_after, chain_pem) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($9), $10)",
            g.issuer_id, g.generation, std::string(GenerationStateName(g.state)),
            g.cert_pem, g.cert_sha256, g.key_path, g.subject, EpochParam(g.not_before),
            EpochParam(g.not_after), g.chain_pem);
    tx.Exec("crl_number_init",
            "INSERT INTO crl_numbers (issuer_id, generation) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            g.issuer_id, g.generation);
    return Status::Ok();
  });
}

Status IssuerRepo::RetireGeneration(Transaction& tx, const std::string& issuer,
                                    int generation) {
  return Guard("retire CA generation", [&] {
    auto r = tx.Exec("generation_retire",
                     "UPDATE ca_generations SET state = 'retired', retired_at = now() "
                     "WHERE issuer_id = $1 AND generation = $2 AND state = 'active'",
                     issuer, generation);
    if (r.affected_rows() != 1) {
      return Status::NotFound("no active generation " + std::to_string(generation) +
                              " of " + issuer);
    }
    return Status::Ok();
  });
}

Status IssuerRepo::ChangeGenerationState(Transaction& tx, const std::string& issuer,
                                         int generation, GenerationState from,
                                         GenerationState to) {
  return Guard("change the state of a CA generation", [&] {
    std::string from_name(GenerationStateName(from)), to_name(GenerationStateName(to));
    auto r = tx.Exec("generation_change_state",
                     "UPDATE ca_generations SET state = $4, retired_at = CASE $4 "
                     "WHEN 'retired' THEN now() ELSE NULL END "
                     "WHERE issuer_id = $1 AND generation = $2 AND state = $3",
                     issuer, generation, from_name, to_name);
    if (r.affected_rows() != 1) {
      return Status::NotFound("no " + from_name + " generation " +
                              std::to_string(generation) + " of " + issuer);
    }
    return Status::Ok();
  });
}

Result<int64_t> IssuerRepo::NextCrlNumber(Transaction& tx, const std::string& issuer,
                                          int generation) {
  return GuardResult<int64_t>("reserve CRL number", [&]() -> Result<int64_t> {
    auto r = tx.Exec("crl_number_next",
                     "UPDATE crl_numbers SET last_number = last_number + 1 "
                     "WHERE issuer_id = $1 AND generation = $2 RETURNING last_number",
                     issuer, generation);
    if (r.empty()) {
      return Status::NotFound("no CRL number counter for " +
                              GenerationLabel(issuer, generation));
    }
    return r[0][0].as<int64_t>();
  });
}

Result<int64_t> IssuerRepo::LastCrlNumber(Transaction& tx, const std::string& issuer,
                                          int generation) {
  return GuardValue<int64_t>("read CRL number", [&] {
    auto r = tx.Exec(
        "crl_number_last",
        "SELECT last_number FROM crl_numbers WHERE issuer_id = $1 AND generation = $2",
        issuer, generation);
    return r.empty() ? int64_t{0} : r[0][0].as<int64_t>();
  });
}

Result<int64_t> IssuerRepo::RaiseCrlNumber(Transaction& tx, const std::string& issuer,
                                           int generation, int64_t used) {
  return GuardResult<int64_t>("raise CRL number", [&]() -> Result<int64_t> {
    auto r = tx.Exec("crl_number_raise",
                     "SELECT last_number FROM crl_numbers WHERE issuer_id = $1 AND "
                     "generation = $2 FOR UPDATE",
                     issuer, generation);
    if (r.empty()) {
      return Status::NotFound("no CRL number counter for " +
                              GenerationLabel(issuer, generation));
    }
    int64_t before = r[0][0].as<int64_t>();
    if (before < used) {
      tx.Exec("crl_number_raise_set",
              "UPDATE crl_numbers SET last_number = $3 WHERE issuer_id = $1 AND "
              "generation = $2",
              issuer, generation, used);
    }
    return before;
  });
}

}  // namespace certctl
