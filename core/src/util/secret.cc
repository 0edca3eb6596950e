#include "certctl/util/secret.h"

#include "certctl/util/encoding.h"

namespace certctl {

void SecretString::Wipe() { Cleanse(value_); }

}  // namespace certctl
