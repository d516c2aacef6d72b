#pragma once
// The operator's command line: the flags the Helm chart's Deployment passes, plus --kubeconfig for
// running outside a cluster. Parsing is pure so that every bad input has a tested, clear message.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::operator_cmd {

struct BindAddress {
  std::string host;  // "0.0.0.0" for ":PORT"
  std::uint16_t port = 0;
};

struct Flags {
  bool leader_elect = false;
  std::string leader_election_id = "etsecd-operator";
  std::string leader_election_namespace;      // "" = $POD_NAMESPACE, else the kubeconfig's namespace
  std::vector<std::string> watch_namespaces;  // empty = all namespaces
  std::optional<BindAddress> metrics;         // nullopt = "--metrics-bind-address=0" (off)
  std::string member_image_repository = "etsecd/etsecd-node";
  std::string default_member_version = "0.1.0";
  std::string cluster_domain = "cluster.local";
  std::string log_level = "info";
  std::string kubeconfig;  // "" = in-cluster, else $KUBECONFIG, else ~/.kube/config
};

enum class Command { kRun, kHelp, kVersion };

struct ParsedCommandLine {
  Command command = Command::kRun;
  Flags flags;
};

// Errors have code "flags.invalid" and a message naming the flag.
Result<ParsedCommandLine> parse_command_line(const std::vector<std::string>& args);

// "host:port", ":port" (all interfaces) or "0" (off).
Result<std::optional<BindAddress>> parse_bind_address(const std::string& text);

std::string usage();

}  // namespace etsecd::operator_cmd
