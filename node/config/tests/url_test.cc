#include "etsecd/config/url.h"

#include <doctest/doctest.h>

using etsecd::config::parse_url;
using etsecd::config::parse_url_list;

TEST_CASE("well-formed URLs parse") {
  auto u = parse_url("https://127.0.0.1:2379", "--x");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 2379);
  CHECK(u->str() == "https://127.0.0.1:2379");

  auto v6 = parse_url("http://[::1]:80/", "--x");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->host_port() == "[::1]:80");
  CHECK(v6->str() == "http://[::1]:80");

  auto name = parse_url("https://etsecd-0.etsecd.ns.svc:2380", "--x");
  REQUIRE(name.ok());
  CHECK(name->host == "etsecd-0.etsecd.ns.svc");
}

TEST_CASE("malformed URLs are refused naming the flag") {
  const char* bad[] = {
      "127.0.0.1:2379",  "ftp://h:1",        "https://h",         "https://h:0",
      "https://h:65536", "https://h:12x",    "https://:2379",     "https://h:2379/p",
      "https://u@h:1",   "https://::1:2379", "https://[::1:2379", "https://[zz]:1",
      "https://h_h:1",   "https://h:1?q",    "https://[::1]2379", "",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto u = parse_url(text, "--listen-peer-urls");
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().code == "config.bad_url");
    CHECK(u.error().message.find("--listen-peer-urls") != std::string::npos);
  }
}

TEST_CASE("URL lists") {
  auto list = parse_url_list("https://a:1,https://b:2", "--x");
  REQUIRE(list.ok());
  CHECK(list->size() == 2);
  CHECK(parse_url_list("", "--x").error().code == "config.missing");
  CHECK(parse_url_list("https://a:1,", "--x").error().code == "config.bad_url");
  CHECK(parse_url_list("https://a:1,,https://b:2", "--x").error().code == "config.bad_url");
}
