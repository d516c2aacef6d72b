// Step 3: certificates. A CA (the operator's own, or spec.tls.existingCASecret), a peer and a server
// certificate for every member slot, and a client certificate for the operator and users. A stored
// certificate is kept while it chains to the CA, matches its key, names every host it must, and is
// not within renew_before of expiry; otherwise it is minted again.
#include <algorithm>
#include <set>

#include "etsecd/pki/pki.h"
#include "pass.h"

namespace etsecd::reconcile::detail {

using Data = std::map<std::string, std::string>;

namespace {

struct CertificateCheck {
  bool keep = false;
  TimePoint not_after{};
};

CertificateCheck check_leaf(const Pass& pass, const Data& data, const std::string& cert_key,
                            const std::string& key_key, const std::string& ca_pem,
                            const std::vector<std::string>& required_dns) {
  auto cert = data.find(cert_key);
  auto key = data.find(key_key);
  if (cert == data.end() || key == data.end()) return {};
  Result<pki::CertificateInfo> info = pki::inspect_certificate(cert->second);
  if (!info) return {};
  if (pki::needs_renewal(*info, pass.now, pass.observed.config.renew_before)) return {};
  if (!pki::verify_key_matches(cert->second, key->second)) return {};
  if (!pki::verify_signed_by(cert->second, ca_pem, pass.now)) return {};
  for (const std::string& dns : required_dns) {
    if (std::find(info->dns_names.begin(), info->dns_names.end(), dns) == info->dns_names.end()) return {};
  }
  return CertificateCheck{true, info->not_after};
}

void track_renewal(Pass& pass, TimePoint not_after) {
  TimePoint renew_at = not_after - pass.observed.config.renew_before;
  if (!pass.next_certificate_renewal || renew_at < *pass.next_certificate_renewal) {
    pass.next_certificate_renewal = renew_at;
  }
}

// The names a member answers to, short forms first.
std::vector<std::string> member_dns_names(const ClusterNames& names, int ordinal) {
  const std::string m = names.member(ordinal);
  const std::string svc = names.peer_service();
  return {m + "." + svc, m + "." + svc + "." + names.ns(), m + "." + svc + "." + names.ns() + ".svc",
          names.member_host(ordinal)};
}

std::vector<std::string> client_service_dns_names(const ClusterNames& names) {
  const std::string svc = names.client_service();
  return {svc, svc + "." + names.ns(), svc + "." + names.ns() + ".svc", names.client_service_host(),
          "localhost"};
}

// Ensures data[cert_key]/data[key_key] hold a good certificate for `request`; mints one if not.
Status ensure_leaf(Pass& pass, Data& data, const pki::KeyAndCertificate& ca, const std::string& cert_key,
                   const std::string& key_key, pki::LeafRequest request) {
  request.validity = pass.observed.config.certificate_validity;
  CertificateCheck check = check_leaf(pass, data, cert_key, key_key, ca.certificate_pem, request.dns_names);
  if (check.keep) {
    track_renewal(pass, check.not_after);
    return Status::Ok();
  }
  Result<pki::KeyAndCertificate> issued = pki::issue_leaf(ca, request, pass.now);
  if (!issued) return issued.error();
  data[cert_key] = issued->certificate_pem;
  data[key_key] = issued->private_key_pem;
  track_renewal(pass, pass.now + request.validity);
  return Status::Ok();
}

bool owned_by_us_or_absent(const Pass& pass, const std::string& name) {
  auto it = pass.observed.secrets.find(name);
  return it == pass.observed.secrets.end() || it->second.controller_uid == pass.owner.uid;
}

const Data* observed_data(const Pass& pass, const std::string& name) {
  auto it = pass.observed.secrets.find(name);
  return it == pass.observed.secrets.end() ? nullptr : &it->second.data;
}

void conflict(Pass& pass, const std::string& name) {
  pass.blocked = true;
  pass.degrade("NameConflict", "Secret " + pass.owner.ns + "/" + name +
                                   " exists but is not owned by this EtsecdCluster; it is left untouched");
  pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(60), "name conflict");
}

void apply_if_changed(Pass& pass, const std::string& name, const Data& desired) {
  const Data* current = observed_data(pass, name);
  if (current && *current == desired) return;
  pass.object_actions.push_back(ApplyObject{secret_manifest(pass.names, pass.owner, name, desired)});
}

// The CA: from spec.tls.existingCASecret (validated in step 1) or the operator's own Secret.
std::optional<pki::KeyAndCertificate> certificate_authority(Pass& pass) {
  if (!pass.spec.existing_ca_secret.empty()) {
    const Data& d = pass.observed.secrets.at(pass.spec.existing_ca_secret).data;
    return pki::KeyAndCertificate{d.at("tls.crt"), d.at("tls.key")};
  }
  const std::string name = pass.names.ca_secret();
  if (!owned_by_us_or_absent(pass, name)) {
    conflict(pass, name);
    return std::nullopt;
  }
  if (const Data* d = observed_data(pass, name)) {
    auto cert = d->find("ca.crt");
    auto key = d->find("ca.key");
    if (cert != d->end() && key != d->end() && pki::verify_key_matches(cert->second, key->second)) {
      Result<pki::CertificateInfo> info = pki::inspect_certificate(cert->second);
      if (info && info->is_ca) {
        if (pki::needs_renewal(*info, pass.now, pass.observed.config.renew_before)) {
          // Rotating a CA needs a bundle of old and new (designed, not built): say so loudly.
          pass.degrade("CAExpiring", "the cluster CA in Secret " + name + " expires at " +
                                         format_time(info->not_after) + "; CA rotation is not automated yet");
        }
        return pki::KeyAndCertificate{cert->second, key->second};
      }
    }
    pass.warn("CAReplaced", "Secret " + name +
                                " did not hold a usable CA; a new CA is created and every "
                                "member certificate is issued again");
  }
  Result<pki::KeyAndCertificate> ca = pki::create_ca(pass.owner.ns + "/" + pass.owner.name + " etsecd CA",
                                                     pass.now, pass.observed.config.ca_validity);
  if (!ca) {
    pass.blocked = true;
    pass.degrade("CertificateError", ca.error().message);
    pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(30), ca.error().message);
    return std::nullopt;
  }
  pass.object_actions.push_back(ApplyObject{secret_manifest(
      pass.names, pass.owner, name, {{"ca.crt", ca->certificate_pem}, {"ca.key", ca->private_key_pem}})});
  return *ca;
}

}  // namespace

void step_tls_secrets(Pass& pass) {
  std::optional<pki::KeyAndCertificate> ca = certificate_authority(pass);
  if (!ca) return;

  // Member slots: every member the cluster knows plus every pod the StatefulSet will run.
  std::set<int> slots;
  for (const MemberRow& m : pass.members) slots.insert(m.ordinal);
  for (int i = 0; i < pass.statefulset_replicas; ++i) slots.insert(i);

  Status failed = Status::Ok();
  const std::string member_secret = pass.names.member_tls_secret();
  const std::string client_secret = pass.names.client_tls_secret();
  for (const std::string& name : {member_secret, client_secret}) {
    if (!owned_by_us_or_absent(pass, name)) {
      conflict(pass, name);
      return;
    }
  }

  Data members;
  if (const Data* current = observed_data(pass, member_secret)) {
    // Keep only entries of current slots, so removed members' keys disappear.
    for (int ordinal : slots) {
      for (const char* file : {"peer.crt", "peer.key", "server.crt", "server.key"}) {
        std::string key = member_tls_key(pass.names.member(ordinal), file);
        if (auto it = current->find(key); it != current->end()) members[key] = it->second;
      }
    }
  }
  members[std::string(kCaCertKey)] = ca->certificate_pem;
  for (int ordinal : slots) {
    const std::string member = pass.names.member(ordinal);
    std::vector<std::string> dns = member_dns_names(pass.names, ordinal);
    pki::LeafRequest peer{member, dns, {}, true, true, {}};
    std::vector<std::string> server_dns = dns;
    for (std::string& n : client_service_dns_names(pass.names)) server_dns.push_back(std::move(n));
    pki::LeafRequest server{member, server_dns, {"127.0.0.1", "::1"}, true, true, {}};
    for (auto& [file, request] :
         {std::pair{std::string("peer"), peer}, std::pair{std::string("server"), server}}) {
      Status s = ensure_leaf(pass, members, *ca, member_tls_key(member, file + ".crt"),
                             member_tls_key(member, file + ".key"), request);
      if (!s) failed = s;
    }
  }

  Data client;
  if (const Data* current = observed_data(pass, client_secret)) client = *current;
  client[std::string(kCaCertKey)] = ca->certificate_pem;
  Status s = ensure_leaf(pass, client, *ca, "tls.crt", "tls.key",
                         pki::LeafRequest{"etsecd-client", {}, {}, false, true, {}});
  if (!s) failed = s;

  if (!failed) {
    pass.blocked = true;
    pass.degrade("CertificateError", failed.error().message);
    pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(30), failed.error().message);
    return;
  }
  apply_if_changed(pass, member_secret, members);
  apply_if_changed(pass, client_secret, client);
}

}  // namespace etsecd::reconcile::detail
