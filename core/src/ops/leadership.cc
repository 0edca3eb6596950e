#include "certctl/ops/leadership.h"

#include "store/operation_lock.h"
#include "store/session.h"

namespace certctl::ops {

Leadership::Leadership(Database& db, std::string lock_name, std::string holder)
    : db_(db), lock_name_(std::move(lock_name)), holder_(std::move(holder)) {}

Leadership::~Leadership() = default;

Leadership::Change Leadership::Refresh() {
  if (lock_) {
    // A no-op transaction on the lock's own connection fails once that
    // connection (and with it the lock) is gone.
    if (lock_->session().Run([](Transaction&) { return Status::Ok(); }).ok()) {
      return Change::kNone;
    }
    lock_.reset();
    return Change::kLost;
  }
  auto lock = OperationLock::TryAcquire(db_, lock_name_, ThisProcess(holder_));
  if (!lock.ok() || !*lock) return Change::kNone;
  lock_ = std::move(lock).value();
  return Change::kGained;
}

void Leadership::Release() { lock_.reset(); }

}  // namespace certctl::ops
