#include "certctl/ops/invalidation.h"

#include "store/invalidation_listener.h"

namespace certctl::ops {

Result<std::unique_ptr<InvalidationFeed>> InvalidationFeed::Connect(const Database& db) {
  ASSIGN_OR_RETURN(auto listener, InvalidationListener::Connect(db.options()));
  return std::unique_ptr<InvalidationFeed>(new InvalidationFeed(std::move(listener)));
}

InvalidationFeed::InvalidationFeed(std::unique_ptr<InvalidationListener> listener)
    : listener_(std::move(listener)) {}

InvalidationFeed::~InvalidationFeed() = default;

Status InvalidationFeed::Wait(std::chrono::milliseconds timeout,
                              const std::function<void(const Invalidation&)>& fn) {
  return listener_->Wait(timeout, fn);
}

}  // namespace certctl::ops
