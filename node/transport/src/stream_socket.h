#pragma once
// TCP plumbing for the members' Raft stream: resolving, connecting with a deadline, listening.

#include <chrono>
#include <string>
#include <utility>

#include "etsecd/common/result.h"

namespace etsecd::transport::stream {

// "host:port", "[v6]:port" -> host (without brackets) and port text.
std::pair<std::string, std::string> split_host_port(const std::string& address);
bool is_ip_literal(const std::string& host);

// A connected, blocking TCP socket with Nagle off and dead-peer detection (keepalive, user timeout).
// Errors: transport.unreachable.
Result<int> connect_tcp(const std::string& host, const std::string& port, std::chrono::milliseconds timeout);
// A listening socket on host and an ephemeral port; *port gets the port. Errors: transport.listen.
Result<int> listen_tcp(const std::string& host, int* port);
// Blocking reads and writes on `fd` give up after `timeout` (zero: never).
void set_io_timeout(int fd, std::chrono::milliseconds timeout);
// Keepalive and user timeout, so a vanished peer ends the connection instead of leaving it open forever.
void detect_dead_peer(int fd);

}  // namespace etsecd::transport::stream
