#pragma once
// The etcd v3 gRPC API (etcdserverpb KV, Maintenance, Cluster) in front of a Member, so etcdctl and the
// etcd client libraries work unchanged. gRPC and protobuf stay inside src/.
//
// A request that reaches a follower and needs the leader (writes, linearizable reads) is forwarded to
// the leader over the peer transport and answered with the leader's response, as etcd does.

#include <memory>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/server/member.h"

namespace etsecd::api {

struct ApiServerOptions {
  std::vector<std::string> listen_addresses;  // host:port
  bool tls = false;
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  size_t max_request_bytes = 1536 * 1024;
  std::string version;
};

class EtcdApiServer {
 public:
  virtual ~EtcdApiServer() = default;
  // Errors: api.tls (unreadable certificate files), api.listen (address unusable).
  static Result<std::unique_ptr<EtcdApiServer>> start(server::Member& member, ApiServerOptions options);
  virtual std::vector<int> bound_ports() const = 0;
  virtual void shutdown() = 0;
};

}  // namespace etsecd::api
