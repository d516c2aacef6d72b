#include "flags.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "etsecd/log/logger.h"

namespace etsecd::operator_cmd {
namespace {

Error invalid(const std::string& message) { return make_error("flags.invalid", message); }

bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(s.begin(), s.end(), ok) && s.front() != '-' && s.back() != '-';
}

bool is_dns_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    if (!is_dns_label(s.substr(start, dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

Result<bool> parse_bool(const std::string& flag, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return invalid(flag + ": expected true or false, got \"" + value + "\"");
}

}  // namespace

Result<std::optional<BindAddress>> parse_bind_address(const std::string& text) {
  if (text == "0") return std::optional<BindAddress>{};
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return invalid("--metrics-bind-address: expected HOST:PORT, :PORT or 0, got \"" + text + "\"");
  }
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return invalid("--metrics-bind-address: port must be 1..65535, got \"" + port_text + "\"");
  }
  BindAddress out;
  out.host = host.empty() ? "0.0.0.0" : host;
  out.port = static_cast<std::uint16_t>(port);
  return std::optional<BindAddress>(out);
}

Result<ParsedCommandLine> parse_command_line(const std::vector<std::string>& args) {
  ParsedCommandLine out;
  Flags& f = out.flags;
  // Flags taking a value; --leader-elect is the only boolean.
  const std::map<std::string, std::string*> text_flags = {
      {"--leader-election-id", &f.leader_election_id},
      {"--leader-election-namespace", &f.leader_election_namespace},
      {"--member-image-repository", &f.member_image_repository},
      {"--default-member-version", &f.default_member_version},
      {"--cluster-domain", &f.cluster_domain},
      {"--log-level", &f.log_level},
      {"--kubeconfig", &f.kubeconfig},
  };
  std::string watch_namespaces;
  std::string metrics = ":8080";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.command = Command::kHelp;
      return out;
    }
    if (arg == "--version") {
      out.command = Command::kVersion;
      return out;
    }
    if (arg.rfind("--", 0) != 0) return invalid("unexpected argument \"" + arg + "\" (see --help)");
    std::size_t eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) value = arg.substr(eq + 1);
    if (name == "--leader-elect") {
      if (!value) {
        f.leader_elect = true;
        continue;
      }
      auto b = parse_bool(name, *value);
      if (!b.ok()) return b.error();
      f.leader_elect = *b;
      continue;
    }
    std::string* target = nullptr;
    if (name == "--watch-namespaces") {
      target = &watch_namespaces;
    } else if (name == "--metrics-bind-address") {
      target = &metrics;
    } else if (auto it = text_flags.find(name); it != text_flags.end()) {
      target = it->second;
    } else {
      return invalid("unknown flag " + name + " (see --help)");
    }
    if (!value) {
      if (i + 1 >= args.size()) return invalid(name + " needs a value");
      value = args[++i];
    }
    *target = *value;
  }

  std::size_t start = 0;
  while (!watch_namespaces.empty() && start <= watch_namespaces.size()) {
    std::size_t comma = watch_namespaces.find(',', start);
    std::string ns = watch_namespaces.substr(start, comma - start);
    ns.erase(0, ns.find_first_not_of(' '));
    ns.erase(ns.find_last_not_of(' ') + 1);
    if (!is_dns_label(ns)) return invalid("--watch-namespaces: \"" + ns + "\" is not a namespace name");
    if (std::find(f.watch_namespaces.begin(), f.watch_namespaces.end(), ns) == f.watch_namespaces.end()) {
      f.watch_namespaces.push_back(ns);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto bind = parse_bind_address(metrics);
  if (!bind.ok()) return bind.error();
  f.metrics = *bind;
  if (!is_dns_subdomain(f.leader_election_id)) {
    return invalid("--leader-election-id: \"" + f.leader_election_id + "\" is not a valid Lease name");
  }
  if (!f.leader_election_namespace.empty() && !is_dns_label(f.leader_election_namespace)) {
    return invalid("--leader-election-namespace: \"" + f.leader_election_namespace +
                   "\" is not a namespace name");
  }
  if (!is_dns_subdomain(f.cluster_domain)) {
    return invalid("--cluster-domain: \"" + f.cluster_domain + "\" is not a DNS domain");
  }
  if (f.member_image_repository.empty() ||
      std::any_of(f.member_image_repository.begin(), f.member_image_repository.end(),
                  [](unsigned char c) { return std::isspace(c) || c == '@'; })) {
    return invalid("--member-image-repository: \"" + f.member_image_repository +
                   "\" is not an image repository (no tag or digest)");
  }
  if (f.default_member_version.empty() ||
      std::any_of(f.default_member_version.begin(), f.default_member_version.end(),
                  [](unsigned char c) { return std::isspace(c) || c == ':' || c == '@' || c == '/'; })) {
    return invalid("--default-member-version: \"" + f.default_member_version + "\" is not an image tag");
  }
  if (!log::parse_level(f.log_level).ok()) {
    return invalid("--log-level: expected debug, info, warn or error, got \"" + f.log_level + "\"");
  }
  return out;
}

std::string usage() {
  return R"(Usage: etsecd-operator [flags]

Reconciles EtsecdCluster objects (etsecd.io/v1alpha1) into etsecd members on Kubernetes.

Flags:
  --leader-elect[=true|false]          hold a Lease so that only one replica acts (default false)
  --leader-election-id NAME            Lease name (default etsecd-operator)
  --leader-election-namespace NS       Lease namespace (default $POD_NAMESPACE, else the
                                       kubeconfig's namespace)
  --watch-namespaces NS[,NS...]        namespaces to watch; empty = all (default empty)
  --metrics-bind-address ADDR          HOST:PORT or :PORT for /metrics and /healthz, 0 = off
                                       (default :8080)
  --member-image-repository REPO       member image without tag (default etsecd/etsecd-node)
  --default-member-version TAG         member version when spec.version is empty (default 0.1.0)
  --cluster-domain DOMAIN              cluster DNS domain (default cluster.local)
  --log-level LEVEL                    debug, info, warn or error (default info)
  --kubeconfig PATH[:PATH...]          kubeconfig; default: in-cluster service account when
                                       KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG,
                                       else ~/.kube/config
  --help, --version
)";
}

}  // namespace etsecd::operator_cmd
