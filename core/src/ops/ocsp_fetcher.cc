// The fetcher certctl-admin's --url checks use (`ocsp check --url`,
// `ocsp reset-responder --url`): POSTs OCSP requests to a live responder.
#include "certctl/ops/ocsp_ops.h"

namespace certctl::ops {

OcspFetcher HttpOcspFetcher(net::HttpClient client, std::string url) {
  return [client = std::move(client),
          url = std::move(url)](const std::string& request_der) -> Result<std::string> {
    ASSIGN_OR_RETURN(auto response,
                     client.Post(url, "application/ocsp-request", request_der));
    if (response.status != 200) {
      return Status::Unavailable(url + " answered " + std::to_string(response.status) +
                                 " " + response.reason);
    }
    return std::move(response.body);
  };
}

}  // namespace certctl::ops
