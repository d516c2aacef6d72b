// Step 1: is there anything valid to reconcile? An invalid spec (one that bypassed the CRD's CEL
// rules) or a missing TLS input stops the pass with a condition and an Event; nothing is created,
// changed or deleted until the spec or the Secret changes.
#include "etsecd/pki/pki.h"
#include "pass.h"

namespace etsecd::reconcile::detail {

namespace {

void block(Pass& pass, const std::string& reason, const std::string& message, RequeueReason requeue,
           std::optional<std::chrono::seconds> after) {
  pass.phase = phase::kInvalid;
  pass.set_condition("Degraded", true, reason, message);
  pass.set_condition("Progressing", false, reason, "waiting for the spec or its inputs to change");
  pass.request_requeue(requeue, after, message);
}

}  // namespace

bool step_validate_spec(Pass& pass) {
  const nlohmann::json spec =
      pass.observed.cluster.contains("spec") ? pass.observed.cluster["spec"] : nlohmann::json();
  Result<ClusterSpec> parsed = parse_cluster_spec(spec);
  if (!parsed) {
    block(pass, "InvalidSpec", parsed.error().message, RequeueReason::InvalidSpec, std::nullopt);
    return false;
  }
  pass.spec = std::move(*parsed);

  // Admission enforces immutability; this catches objects written around it (e.g. with CEL disabled).
  const auto& previous = pass.previous_status;
  if (previous.contains("threshold") && previous["threshold"].is_number_integer() &&
      previous["threshold"].get<int>() != pass.spec.threshold) {
    block(pass, "InvalidSpec",
          "threshold is immutable (changing it would need every value to be re-shared); the cluster keeps "
          "running with threshold " +
              std::to_string(previous["threshold"].get<int>()),
          RequeueReason::InvalidSpec, std::nullopt);
    return false;
  }

  if (!pass.spec.existing_ca_secret.empty()) {
    const std::string& name = pass.spec.existing_ca_secret;
    auto it = pass.observed.secrets.find(name);
    constexpr std::chrono::seconds kRetry{30};
    if (it == pass.observed.secrets.end()) {
      block(pass, "TLSSecretMissing",
            "spec.tls.existingCASecret names Secret " + pass.owner.ns + "/" + name + ", which does not exist",
            RequeueReason::MissingDependency, kRetry);
      return false;
    }
    const auto& data = it->second.data;
    auto cert = data.find("tls.crt");
    auto key = data.find("tls.key");
    if (cert == data.end() || key == data.end()) {
      block(pass, "TLSSecretInvalid",
            "Secret " + pass.owner.ns + "/" + name + " must hold tls.crt and tls.key",
            RequeueReason::MissingDependency, kRetry);
      return false;
    }
    Result<pki::CertificateInfo> info = pki::inspect_certificate(cert->second);
    Status matches = info ? pki::verify_key_matches(cert->second, key->second) : Status(info.error());
    if (!matches || !info->is_ca) {
      block(pass, "TLSSecretInvalid",
            "Secret " + pass.owner.ns + "/" + name + " does not hold a CA certificate and its key: " +
                (matches ? std::string("the certificate is not a CA") : matches.error().message),
            RequeueReason::MissingDependency, kRetry);
      return false;
    }
  }
  pass.version = pass.spec.version.empty() ? pass.observed.config.default_version : pass.spec.version;
  pass.image = pass.spec.image.empty() ? pass.observed.config.member_image_repository + ":" + pass.version
                                       : pass.spec.image;
  return true;
}

}  // namespace etsecd::reconcile::detail
