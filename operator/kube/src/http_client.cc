// The only translation unit that sees cpprestsdk (and through it Boost.Asio): HTTP(S) transport for
// Client. Everything above the wire (URLs, bodies, error mapping, watch decoding) lives in pure files.

#include <cpprest/http_client.h>
#include <cpprest/streams.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <memory>
#include <optional>

#include "etsecd/kube/client.h"
#include "etsecd/kube/errors.h"
#include "etsecd/kube/token_source.h"

namespace etsecd::kube {
namespace {

namespace http = web::http;
namespace http_client_ns = web::http::client;

Error config_error(std::string message) { return make_kube_error(ErrorKind::kConfig, std::move(message)); }

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioDeleter> memory_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::vector<std::unique_ptr<X509, X509Deleter>> parse_certificates(const std::string& pem) {
  std::vector<std::unique_ptr<X509, X509Deleter>> certs;
  auto bio = memory_bio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();  // the loop ends on "no start line"
  return certs;
}

// Checks the PEM material up front so that a bad CA or key is a clear config error at startup rather
// than an opaque TLS failure on the first request.
Status check_tls_material(const Config& config) {
  if (!config.ca_pem.empty() && parse_certificates(config.ca_pem).empty()) {
    return config_error("the CA bundle of " + config.source + " contains no PEM certificate");
  }
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return config_error("a client certificate needs its key (and the reverse) in " + config.source);
  }
  if (!config.client_cert_pem.empty()) {
    auto certs = parse_certificates(config.client_cert_pem);
    if (certs.empty()) return config_error("the client certificate of " + config.source + " is not PEM");
    auto bio = memory_bio(config.client_key_pem);
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key) return config_error("the client key of " + config.source + " is not a PEM private key");
    if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
      ERR_clear_error();
      return config_error("the client key of " + config.source + " does not match its certificate");
    }
  }
  return Status::Ok();
}

// Trust exactly the configured CAs (not the system store as well, as kubectl does), TLS 1.2+, and
// present the client certificate if there is one.
void configure_tls(boost::asio::ssl::context& context, const Config& config) {
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (!config.ca_pem.empty()) {
    X509_STORE* store = X509_STORE_new();
    for (auto& cert : parse_certificates(config.ca_pem)) X509_STORE_add_cert(store, cert.get());
    SSL_CTX_set_cert_store(native, store);  // takes ownership
  }
  if (!config.client_cert_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(config.client_cert_pem));
    context.use_private_key(boost::asio::buffer(config.client_key_pem), boost::asio::ssl::context::pem);
  }
}

Error transport_error(const std::exception& e) {
  std::string what = e.what();
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out)
      return make_kube_error(ErrorKind::kTimeout, "request timed out: " + what);
  }
  return make_kube_error(ErrorKind::kTransport, "HTTP transport error: " + what);
}

}  // namespace

struct Client::Impl {
  Config config;
  ClientOptions options;
  std::unique_ptr<FileTokenSource> token_source;
  std::unique_ptr<http_client_ns::http_client> http;

  http_client_ns::http_client_config http_config(std::chrono::seconds timeout) const {
    http_client_ns::http_client_config c;
    c.set_timeout(timeout);
    c.set_validate_certificates(!config.insecure_skip_tls_verify);
    Config tls = config;  // the callback may outlive a moved-from Impl member; keep its own copy
    c.set_ssl_context_callback([tls](boost::asio::ssl::context& context) { configure_tls(context, tls); });
    return c;
  }

  Result<std::string> bearer() {
    if (!config.bearer_token.empty()) return config.bearer_token;
    if (token_source) return token_source->token();
    return std::string();
  }

  Result<http::http_request> build(const Request& request) {
    http::http_request out(request.method);
    out.set_request_uri(web::uri(request.target()));
    out.headers().add("Accept", "application/json");
    out.headers().add("User-Agent", options.user_agent);
    Result<std::string> token = bearer();
    if (!token) return token.error();
    if (!token->empty()) out.headers().add("Authorization", "Bearer " + *token);
    if (!request.content_type.empty()) out.set_body(request.body, request.content_type);
    return out;
  }

  // Sends request on client; retries once with a re-read token after a 401.
  Result<http::http_response> send(http_client_ns::http_client& client, const Request& request,
                                   const pplx::cancellation_token& cancel) {
    for (int attempt = 0;; ++attempt) {
      Result<http::http_request> built = build(request);
      if (!built) return built.error();
      try {
        http::http_response response = client.request(*built, cancel).get();
        if (response.status_code() == http::status_codes::Unauthorized && token_source && attempt == 0) {
          token_source->invalidate();  // the kubelet may have rotated the token
          continue;
        }
        return response;
      } catch (const pplx::task_canceled&) {
        return make_kube_error(ErrorKind::kCancelled, "request cancelled");
      } catch (const std::exception& e) {
        if (cancel.is_canceled()) return make_kube_error(ErrorKind::kCancelled, "request cancelled");
        return transport_error(e);
      }
    }
  }
};

Result<std::unique_ptr<Client>> Client::create(Config config, ClientOptions options) {
  if (config.server.empty()) return config_error("no API server URL configured");
  if (Status s = check_tls_material(config); !s) return s.error();
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->options = std::move(options);
  if (impl->config.bearer_token.empty() && !impl->config.token_file.empty()) {
    impl->token_source = std::make_unique<FileTokenSource>(impl->config.token_file, system_clock());
    Result<std::string> first = impl->token_source->token();
    if (!first) return first.error();
  }
  try {
    impl->http = std::make_unique<http_client_ns::http_client>(
        web::uri(impl->config.server), impl->http_config(impl->options.request_timeout));
  } catch (const std::exception& e) {
    return config_error("cannot use API server URL \"" + impl->config.server + "\": " + e.what());
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const Config& Client::config() const { return impl_->config; }

Result<nlohmann::json> Client::execute(const Request& request) {
  Result<http::http_response> response = impl_->send(*impl_->http, request, pplx::cancellation_token::none());
  if (!response) return response.error();
  std::string body;
  try {
    body = response->extract_utf8string(/*ignore_content_type=*/true).get();
  } catch (const std::exception& e) {
    return transport_error(e);
  }
  int status = response->status_code();
  if (status < 200 || status >= 300) return error_from_response(status, body);
  if (body.empty()) return nlohmann::json();
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return make_kube_error(ErrorKind::kDecode,
                           request.method + " " + request.path + ": response is not JSON");
  }
  return parsed;
}

Result<nlohmann::json> Client::get(const Resource& r, std::string_view ns, std::string_view name,
                                   std::string_view subresource) {
  Result<Request> request = get_request(r, ns, name, subresource);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::list(const Resource& r, std::string_view ns, const ListOptions& options) {
  Result<Request> request = list_request(r, ns, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::list_all(const Resource& r, std::string_view ns, ListOptions options) {
  if (options.limit == 0) options.limit = 500;
  bool fell_back = false;
  while (true) {
    nlohmann::json all;
    ListOptions page_options = options;
    bool restart = false;
    do {
      Result<nlohmann::json> page = list(r, ns, page_options);
      if (!page) {
        // The continue token expired mid-way: like client-go's pager, fall back to one unpaged list.
        if (error_kind(page.error()) == ErrorKind::kGone && !page_options.continue_token.empty() &&
            !fell_back) {
          fell_back = true;
          options.limit = 0;
          options.continue_token.clear();
          restart = true;
          break;
        }
        return page.error();
      }
      if (!page->is_object() || !page->contains("items") || !(*page)["items"].is_array()) {
        return make_kube_error(ErrorKind::kDecode, "list response has no items array");
      }
      if (all.is_null()) {
        all = *page;
      } else {
        for (auto& item : (*page)["items"]) all["items"].push_back(std::move(item));
      }
      page_options.continue_token = (*page)["metadata"].value("continue", "");
    } while (!page_options.continue_token.empty());
    if (restart) continue;
    all["metadata"].erase("continue");
    all["metadata"].erase("remainingItemCount");
    return all;
  }
}

Result<nlohmann::json> Client::create(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                      const WriteOptions& options) {
  Result<Request> request = create_request(r, ns, object, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::replace(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                       const WriteOptions& options) {
  Result<Request> request = replace_request(r, ns, object, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::update_status(const Resource& r, std::string_view ns,
                                             const nlohmann::json& object, const WriteOptions& options) {
  Result<Request> request = replace_request(r, ns, object, options, "status");
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::remove(const Resource& r, std::string_view ns, std::string_view name,
                                      const DeleteOptions& options) {
  Result<Request> request = delete_request(r, ns, name, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::apply(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                     const ApplyOptions& options) {
  std::string name;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    name = object["metadata"].value("name", "");
  }
  Result<Request> request = apply_request(r, ns, name, object, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::patch(const Resource& r, std::string_view ns, std::string_view name,
                                     PatchType type, const nlohmann::json& patch,
                                     const PatchOptions& options) {
  Result<Request> request = patch_request(r, ns, name, type, patch, options);
  if (!request) return request.error();
  return execute(*request);
}

Result<nlohmann::json> Client::patch_status(const Resource& r, std::string_view ns, std::string_view name,
                                            PatchType type, const nlohmann::json& patch,
                                            PatchOptions options) {
  options.subresource = "status";
  return this->patch(r, ns, name, type, patch, options);
}

Status Client::watch(const Resource& r, std::string_view ns, const WatchOptions& options,
                     const std::function<bool(const WatchEvent&)>& on_event, StopSignal* stop) {
  Result<Request> request = watch_request(r, ns, options);
  if (!request) return request.error();
  // Its own connection with a deadline past the server-side timeout: the stream is long-lived.
  auto timeout = std::chrono::seconds(options.timeout_seconds > 0 ? options.timeout_seconds + 30 : 3600);
  std::unique_ptr<http_client_ns::http_client> client;
  try {
    client = std::make_unique<http_client_ns::http_client>(web::uri(impl_->config.server),
                                                           impl_->http_config(timeout));
  } catch (const std::exception& e) {
    return transport_error(e);
  }
  pplx::cancellation_token_source cancel;
  std::uint64_t registration = 0;
  if (stop != nullptr) registration = stop->add_callback([&cancel] { cancel.cancel(); });
  struct Unregister {
    StopSignal* stop;
    std::uint64_t id;
    ~Unregister() {
      if (stop != nullptr && id != 0) stop->remove_callback(id);
    }
  } unregister{stop, registration};
  auto cancelled = [&] { return make_kube_error(ErrorKind::kCancelled, "watch stopped"); };

  // Leaving early (on_event said stop, an ERROR event, a decode error) must drop the connection rather
  // than leave the server streaming into it.
  struct CancelOnExit {
    pplx::cancellation_token_source& source;
    ~CancelOnExit() { source.cancel(); }
  };
  Result<http::http_response> response = impl_->send(*client, *request, cancel.get_token());
  CancelOnExit cancel_on_exit{cancel};
  if (!response) return response.error();
  if (response->status_code() != http::status_codes::OK) {
    std::string body;
    try {
      body = response->extract_utf8string(true).get();
    } catch (const std::exception&) {
    }
    return error_from_response(response->status_code(), body);
  }

  WatchLineDecoder decoder;
  auto deliver = [&](std::vector<Result<WatchEvent>> events) -> std::optional<Status> {
    for (auto& event : events) {
      if (!event) return Status(event.error());
      if (!on_event(*event)) return Status::Ok();
      if (event->type == WatchEventType::kError)
        return Status(error_from_status_object(event->object.dump()));
    }
    return std::nullopt;
  };
  try {
    auto body = response->body().streambuf();
    std::string chunk;
    while (true) {
      // Block for one byte, then take whatever else has arrived: a fixed-size read would wait for
      // the buffer to fill and hold events back.
      unsigned char first = 0;
      std::size_t n = body.getn(&first, 1).get();
      if (n == 0) break;  // the server ended the watch
      chunk.assign(1, static_cast<char>(first));
      std::size_t available = body.in_avail();
      if (available > 0) {
        chunk.resize(1 + available);
        std::size_t got = body.getn(reinterpret_cast<unsigned char*>(chunk.data() + 1), available).get();
        chunk.resize(1 + got);
      }
      if (auto done = deliver(decoder.feed(chunk))) return *done;
      if (stop != nullptr && stop->stopped()) return cancelled();
    }
  } catch (const pplx::task_canceled&) {
    return cancelled();
  } catch (const std::exception& e) {
    if (stop != nullptr && stop->stopped()) return cancelled();
    return transport_error(e);
  }
  if (stop != nullptr && stop->stopped()) return cancelled();
  if (auto done = deliver(decoder.finish())) return *done;
  return Status::Ok();
}

}  // namespace etsecd::kube
