#include "etsecd/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "etsecd/kube/errors.h"

namespace etsecd::kube {
namespace {

namespace fs = std::filesystem;

Error config_error(std::string message) { return make_kube_error(ErrorKind::kConfig, std::move(message)); }

Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error("cannot read " + what + " " + path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return config_error("error reading " + what + " " + path);
  return out.str();
}

std::string trim(std::string text) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  return text.substr(start);
}

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

// A named entry (cluster, user, context) and the directory its relative paths resolve against.
struct Entry {
  YAML::Node body;
  std::string base_dir;
};

struct Merged {
  std::string current_context;
  std::map<std::string, Entry> clusters, users, contexts;
};

Status merge_list(const YAML::Node& root, const char* list_key, const char* body_key,
                  const std::string& base_dir, std::map<std::string, Entry>& into) {
  YAML::Node list = root[list_key];
  if (!list) return Status::Ok();
  if (!list.IsSequence()) return config_error(std::string("kubeconfig: \"") + list_key + "\" is not a list");
  for (const auto& item : list) {
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
      return config_error(std::string("kubeconfig: an entry of \"") + list_key + "\" has no name");
    }
    std::string name = item["name"].as<std::string>();
    YAML::Node body = item[body_key];
    if (!body || !body.IsMap()) {
      return config_error(std::string("kubeconfig: ") + list_key + " entry \"" + name + "\" has no \"" +
                          body_key + "\" map");
    }
    into.emplace(name, Entry{body, base_dir});  // the first definition wins, as in kubectl
  }
  return Status::Ok();
}

Status merge_document(const std::string& yaml_text, const std::string& base_dir, const std::string& origin,
                      Merged& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return config_error("kubeconfig " + origin + " is not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();  // an empty file contributes nothing
  if (!root.IsMap()) return config_error("kubeconfig " + origin + " is not a YAML map");
  try {
    if (merged.current_context.empty() && root["current-context"] && root["current-context"].IsScalar()) {
      merged.current_context = root["current-context"].as<std::string>();
    }
    if (Status s = merge_list(root, "clusters", "cluster", base_dir, merged.clusters); !s) return s;
    if (Status s = merge_list(root, "users", "user", base_dir, merged.users); !s) return s;
    if (Status s = merge_list(root, "contexts", "context", base_dir, merged.contexts); !s) return s;
  } catch (const YAML::Exception& e) {
    return config_error("kubeconfig " + origin + ": " + e.what());
  }
  return Status::Ok();
}

std::string scalar(const YAML::Node& map, const char* key) {
  YAML::Node v = map[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

// PEM material from "<key>-data" (base64, wins) or the file named by "<key>".
Result<std::string> pem_field(const Entry& entry, const std::string& key, const std::string& what) {
  std::string data = scalar(entry.body, (key + "-data").c_str());
  if (!data.empty()) {
    Result<std::string> decoded = base64_decode(data);
    if (!decoded)
      return config_error("kubeconfig: " + key + "-data of " + what + ": " + decoded.error().message);
    return *decoded;
  }
  std::string path = scalar(entry.body, key.c_str());
  if (path.empty()) return std::string();
  return read_file(resolve(path, entry.base_dir), key + " of " + what);
}

Result<Config> build(const Merged& merged, const std::string& requested_context, const std::string& origin) {
  std::string context_name = requested_context.empty() ? merged.current_context : requested_context;
  if (context_name.empty()) return config_error("kubeconfig " + origin + " has no current-context");
  auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end())
    return config_error("kubeconfig context \"" + context_name + "\" not found");
  std::string cluster_name = scalar(ctx->second.body, "cluster");
  std::string user_name = scalar(ctx->second.body, "user");
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return config_error("kubeconfig context \"" + context_name + "\" names cluster \"" + cluster_name +
                        "\", which is not defined");
  }

  Config config;
  config.source = "kubeconfig " + origin + " context " + context_name;
  config.server = scalar(cluster->second.body, "server");
  if (config.server.empty()) return config_error("kubeconfig cluster \"" + cluster_name + "\" has no server");
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return config_error("kubeconfig cluster \"" + cluster_name + "\" server \"" + config.server +
                        "\" is not an http(s) URL");
  }
  while (config.server.size() > 8 && config.server.back() == '/') config.server.pop_back();
  if (!scalar(cluster->second.body, "tls-server-name").empty()) {
    return config_error("kubeconfig cluster \"" + cluster_name + "\": tls-server-name is not supported");
  }
  config.insecure_skip_tls_verify = scalar(cluster->second.body, "insecure-skip-tls-verify") == "true";
  Result<std::string> ca = pem_field(cluster->second, "certificate-authority", "cluster " + cluster_name);
  if (!ca) return ca.error();
  config.ca_pem = *ca;
  std::string ns = scalar(ctx->second.body, "namespace");
  if (!ns.empty()) config.default_namespace = ns;

  if (user_name.empty()) return config;  // anonymous
  auto user = merged.users.find(user_name);
  if (user == merged.users.end()) {
    return config_error("kubeconfig context \"" + context_name + "\" names user \"" + user_name +
                        "\", which is not defined");
  }
  const YAML::Node& u = user->second.body;
  if (u["exec"] || u["auth-provider"]) {
    return config_error("kubeconfig user \"" + user_name +
                        "\" uses an exec or auth-provider credential plugin, which is not supported; use a "
                        "token or a client certificate");
  }
  if (!scalar(u, "username").empty() || !scalar(u, "password").empty()) {
    return config_error("kubeconfig user \"" + user_name + "\" uses basic auth, which is not supported");
  }
  config.bearer_token = scalar(u, "token");
  std::string token_file = scalar(u, "tokenFile");
  if (config.bearer_token.empty() && !token_file.empty())
    config.token_file = resolve(token_file, user->second.base_dir);
  Result<std::string> cert = pem_field(user->second, "client-certificate", "user " + user_name);
  if (!cert) return cert.error();
  Result<std::string> key = pem_field(user->second, "client-key", "user " + user_name);
  if (!key) return key.error();
  if (cert->empty() != key->empty()) {
    return config_error("kubeconfig user \"" + user_name +
                        "\" has a client certificate without its key or the reverse");
  }
  config.client_cert_pem = *cert;
  config.client_key_pem = *key;
  return config;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only at startup
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  int padding = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    int v = value(c);
    if (v < 0 || padding > 0) return make_kube_error(ErrorKind::kConfig, "invalid base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (symbols % 4 != 0 || padding > 2) return make_kube_error(ErrorKind::kConfig, "invalid base64 length");
  return out;
}

Result<Config> in_cluster_config(const EnvLookup& env, const std::string& service_account_dir) {
  std::optional<std::string> host = env("KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return config_error(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  Config config;
  config.source = "in-cluster";
  bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = (fs::path(service_account_dir) / "token").string();
  Result<std::string> token = read_file(config.token_file, "service account token");
  if (!token) return token.error();
  if (trim(*token).empty()) return config_error("service account token " + config.token_file + " is empty");
  Result<std::string> ca =
      read_file((fs::path(service_account_dir) / "ca.crt").string(), "service account CA");
  if (!ca) return ca.error();
  config.ca_pem = *ca;
  Result<std::string> ns = read_file((fs::path(service_account_dir) / "namespace").string(), "namespace");
  if (ns && !trim(*ns).empty()) config.default_namespace = trim(*ns);
  return config;
}

Result<Config> kubeconfig_from_yaml(const std::string& yaml_text, const std::string& base_dir,
                                    const std::string& context) {
  Merged merged;
  if (Status s = merge_document(yaml_text, base_dir, "(inline)", merged); !s) return s.error();
  return build(merged, context, "(inline)");
}

Result<Config> kubeconfig_from_files(const std::string& paths, const std::string& context) {
  Merged merged;
  std::size_t start = 0;
  int loaded = 0;
  while (start <= paths.size()) {
    std::size_t end = paths.find(':', start);
    if (end == std::string::npos) end = paths.size();
    std::string path = paths.substr(start, end - start);
    start = end + 1;
    if (path.empty()) continue;
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;  // kubectl skips missing entries of $KUBECONFIG
    Result<std::string> text = read_file(path, "kubeconfig");
    if (!text) return text.error();
    std::string dir = fs::absolute(fs::path(path), ec).parent_path().string();
    if (Status s = merge_document(*text, dir, path, merged); !s) return s.error();
    ++loaded;
  }
  if (loaded == 0) return config_error("no kubeconfig file found in \"" + paths + "\"");
  return build(merged, context, paths);
}

Result<Config> load_default_config(const EnvLookup& env, const std::string& service_account_dir) {
  std::optional<std::string> host = env("KUBERNETES_SERVICE_HOST");
  std::error_code ec;
  if (host && !host->empty() && fs::exists(fs::path(service_account_dir) / "token", ec)) {
    return in_cluster_config(env, service_account_dir);
  }
  std::optional<std::string> kubeconfig = env("KUBECONFIG");
  if (kubeconfig && !kubeconfig->empty()) return kubeconfig_from_files(*kubeconfig);
  std::optional<std::string> home = env("HOME");
  if (home && !home->empty()) return kubeconfig_from_files((fs::path(*home) / ".kube" / "config").string());
  return config_error(
      "no Kubernetes configuration: not in a cluster, and neither KUBECONFIG nor HOME is set");
}

}  // namespace etsecd::kube
