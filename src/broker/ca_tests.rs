use super::*;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::UnixTime;
use rustls::RootCertStore;
use std::sync::Arc;

fn hosts() -> Vec<String> {
    BUILT_IN_HOSTS.iter().map(|h| h.to_string()).collect()
}

/// What a standard client decides about `leaf` presented for `name`, trusting only `ca`.
fn verify(ca: &Ca, leaf: &Leaf, name: &str) -> Result<(), rustls::Error> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .unwrap();
    verifier
        .verify_server_cert(
            &leaf.cert,
            &[],
            &ServerName::try_from(name.to_owned()).unwrap(),
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
}

#[test]
fn a_leaf_for_a_terminated_host_verifies() {
    let ca = Ca::new(&hosts(), SystemTime::now()).unwrap();
    for host in BUILT_IN_HOSTS {
        let leaf = ca.leaf(host, SystemTime::now()).unwrap();
        verify(&ca, &leaf, host).unwrap();
    }
}

#[test]
fn a_leaf_for_another_name_cannot_be_made() {
    let ca = Ca::new(&hosts(), SystemTime::now()).unwrap();
    for other in ["example.com", "pypi.org", "tasty.works", "127.0.0.1", ""] {
        assert!(ca.leaf(other, SystemTime::now()).is_err(), "{other}");
    }
}

#[test]
fn the_name_constraints_make_a_verifier_reject_a_leaf_for_another_site() {
    let ca = Ca::new(&hosts(), SystemTime::now()).unwrap();
    // Signed regardless of the check: only the CA's own constraints stand in the way.
    let leaf = ca.sign_unchecked("example.com", SystemTime::now()).unwrap();
    let refused = verify(&ca, &leaf, "example.com").unwrap_err();
    assert!(
        format!("{refused:?}").contains("NameConstraint")
            || format!("{refused:?}").contains("NotValidForName"),
        "{refused:?}"
    );
    // The same leaf from an unconstrained CA would have passed: the constraint is the cause.
    let unconstrained = unconstrained_ca();
    let leaf = unconstrained
        .sign_unchecked("example.com", SystemTime::now())
        .unwrap();
    verify(&unconstrained, &leaf, "example.com").unwrap();
}

#[test]
fn the_name_constraints_exclude_ip_addresses() {
    let ca = Ca::new(&hosts(), SystemTime::now()).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.is_ca = IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    set_validity(&mut params, SystemTime::now());
    let key = KeyPair::generate().unwrap();
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let leaf = Leaf {
        cert: params.signed_by(&key, &issuer).unwrap().der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    };
    assert!(verify(&ca, &leaf, "127.0.0.1").is_err());
}

#[test]
fn the_ca_lasts_one_day_at_most_and_may_sign_only_leaves() {
    let now = SystemTime::now();
    let ca = Ca::new(&hosts(), now).unwrap();
    assert!(ca.params.not_after - ca.params.not_before <= time::Duration::days(1));
    assert!(ca.params.not_after > time::OffsetDateTime::from(now + Duration::from_secs(3600)));
    assert_eq!(ca.params.is_ca, IsCa::Ca(BasicConstraints::Constrained(0)));
    // The extensions are in the certificate itself, not only in our parameters: name
    // constraints (2.5.29.30) and basic constraints (2.5.29.19, critical, CA, pathLen 0).
    let der = ca.cert().as_ref();
    assert!(contains(der, &[0x06, 0x03, 0x55, 0x1d, 0x1e]));
    assert!(contains(
        der,
        &[
            0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x08, 0x30, 0x06, 0x01, 0x01,
            0xff, 0x02, 0x01, 0x00
        ]
    ));
    assert!(ca.pem().starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn a_leaf_from_this_ca_cannot_act_as_a_ca() {
    // Path length 0: a certificate the CA signed is never an intermediate, so even a
    // leaked leaf key cannot mint further certificates.
    let ca = Ca::new(&hosts(), SystemTime::now()).unwrap();
    let leaf = ca.leaf("api.tastyworks.com", SystemTime::now()).unwrap();
    let leaf_key = KeyPair::try_from(leaf.key.secret_pkcs8_der()).unwrap();
    let mut inter_params = CertificateParams::new(vec!["api.tastyworks.com".to_owned()]).unwrap();
    inter_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = Issuer::from_params(&inter_params, &leaf_key);
    let mut params = CertificateParams::new(vec!["api.tastyworks.com".to_owned()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .unwrap();
    let refused = verifier.verify_server_cert(
        cert.der(),
        std::slice::from_ref(&leaf.cert),
        &ServerName::try_from("api.tastyworks.com").unwrap(),
        &[],
        UnixTime::now(),
    );
    assert!(refused.is_err());
}

#[test]
fn host_names_are_normalized_and_ip_addresses_refused() {
    assert_eq!(
        normalize_host("API.Tastyworks.COM.").unwrap(),
        "api.tastyworks.com"
    );
    assert!(normalize_host("127.0.0.1").is_err());
    assert!(normalize_host("localhost").is_err());
    assert!(normalize_host("bad name.com").is_err());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn unconstrained_ca() -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    set_validity(&mut params, SystemTime::now());
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        cert: cert.der().clone(),
        params,
        key,
        hosts: Vec::new(),
    }
}
