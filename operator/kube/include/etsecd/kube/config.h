#pragma once
// Where the API server is and how to authenticate to it: from the pod's service account (in-cluster)
// or from a kubeconfig file. TLS verification is on unless the kubeconfig explicitly turns it off.

#include <functional>
#include <optional>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct Config {
  std::string server;           // "https://10.96.0.1:443"
  std::string ca_pem;           // trusted CA bundle; empty = the system's roots
  std::string client_cert_pem;  // client certificate (chain) for mutual TLS, with client_key_pem
  std::string client_key_pem;
  std::string bearer_token;  // static token (kubeconfig "token")
  std::string token_file;    // token re-read from this file as it rotates (service account, "tokenFile")
  std::string default_namespace = "default";
  bool insecure_skip_tls_verify = false;
  std::string source;  // where this came from, for logs ("in-cluster", "kubeconfig /path context x")
};

// Looks up environment variables; tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// In-cluster: KUBERNETES_SERVICE_HOST/PORT plus token, ca.crt and namespace from the service account
// directory. The token is referenced by path (token_file) so that rotated tokens are picked up.
Result<Config> in_cluster_config(const EnvLookup& env = process_env(),
                                 const std::string& service_account_dir = kServiceAccountDir);

// Kubeconfig from YAML text; relative file paths resolve against base_dir. context "" = current-context.
Result<Config> kubeconfig_from_yaml(const std::string& yaml_text, const std::string& base_dir,
                                    const std::string& context = "");
// One file, or a colon-separated list like $KUBECONFIG (merged: the first definition of each cluster,
// user and context wins, as in kubectl).
Result<Config> kubeconfig_from_files(const std::string& paths, const std::string& context = "");

// In-cluster when KUBERNETES_SERVICE_HOST is set and the service account token exists, else $KUBECONFIG,
// else ~/.kube/config.
Result<Config> load_default_config(const EnvLookup& env = process_env(),
                                   const std::string& service_account_dir = kServiceAccountDir);

// Base64 (standard alphabet, padding, whitespace ignored) as used by *-data kubeconfig fields.
Result<std::string> base64_decode(const std::string& text);

}  // namespace etsecd::kube
