//! The per-run certificate authority and its leaves.
//!
//! The program is told to trust this CA (through the run's CA bundle), so the CA must be
//! worthless to anyone who copies it: it is made fresh per run, valid one day at most, may
//! only sign end-entity certificates (path length 0), and carries X.509 name constraints
//! permitting only the terminated Tastytrade host names (and excluding every IP address),
//! so a standard verifier rejects anything it signs for another site. The broker mints the
//! leaves for every terminated host at start and then drops the CA key: no key that can sign
//! a new certificate outlives `Broker::start`.

use crate::Error;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use std::time::{Duration, SystemTime};

/// Tastytrade's API hosts, always terminated (shared/tastytrade.md: production under both
/// names, the documented sandbox, and the sandbox name third-party tools use).
pub const BUILT_IN_HOSTS: [&str; 4] = [
    "api.tastyworks.com",
    "api.tastytrade.com",
    "api.cert.tastyworks.com",
    "api.sandbox.tastytrade.com",
];

/// How far back the certificates start, for a client whose clock is a little behind.
const BACKDATE: Duration = Duration::from_secs(5 * 60);
/// The whole validity window, backdating included: one day at most.
pub const VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// The CA of one run: its certificate, and its key until the leaves are made.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    #[cfg_attr(not(test), allow(dead_code))]
    cert: CertificateDer<'static>,
    pem: String,
    hosts: Vec<String>,
}

/// A leaf certificate for one terminated host and its private key.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

/// `host` as certificates name it: lower case, no trailing dot; an error unless it is a DNS
/// name (an IP address cannot be constrained to one host, and is never terminated).
pub fn normalize_host(host: &str) -> Result<String, Error> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match ServerName::try_from(host.as_str()) {
        Ok(ServerName::DnsName(_)) if host.contains('.') => Ok(host),
        _ => Err(Error::usage(format!(
            "the broker can only terminate TLS for DNS host names, not {host:?}"
        ))),
    }
}

impl Ca {
    /// A fresh CA constrained to `hosts` (already normalized), valid from a little before
    /// `now` for one day in all.
    pub fn new(hosts: &[String], now: SystemTime) -> Result<Ca, Error> {
        let key = KeyPair::generate().map_err(ca_error)?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "ttvault");
        name.push(DnType::CommonName, "ttvault broker CA (one run only)");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: hosts
                .iter()
                .map(|h| GeneralSubtree::DnsName(h.clone()))
                .collect(),
            // Without these, IP addresses would be unconstrained (RFC 5280 constrains only
            // the name forms a subtree names).
            excluded_subtrees: vec![
                GeneralSubtree::IpAddress(CidrSubnet::V4([0; 4], [0; 4])),
                GeneralSubtree::IpAddress(CidrSubnet::V6([0; 16], [0; 16])),
            ],
        });
        set_validity(&mut params, now);
        let cert = params.self_signed(&key).map_err(ca_error)?;
        Ok(Ca {
            pem: cert.pem(),
            cert: cert.der().clone(),
            params,
            key,
            hosts: hosts.to_vec(),
        })
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// A leaf for `host`, which must be one of the CA's hosts: the CA's constraints would
    /// make any other leaf useless, and refusing here keeps a mistake from looking like a
    /// TLS failure in the program.
    pub fn leaf(&self, host: &str, now: SystemTime) -> Result<Leaf, Error> {
        let host = normalize_host(host)?;
        if !self.hosts.contains(&host) {
            return Err(Error::usage(format!(
                "the broker's CA may only sign for Tastytrade's API hosts, not {host}"
            )));
        }
        self.sign(&host, now)
    }

    fn sign(&self, host: &str, now: SystemTime) -> Result<Leaf, Error> {
        let key = KeyPair::generate().map_err(ca_error)?;
        let mut params = CertificateParams::new(vec![host.to_owned()]).map_err(ca_error)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, host);
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, now);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(ca_error)?;
        Ok(Leaf {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// Signs for any name, skipping the check in [`Ca::leaf`]: only for the test that the
    /// name constraints themselves stop such a leaf.
    #[cfg(test)]
    pub fn sign_unchecked(&self, host: &str, now: SystemTime) -> Result<Leaf, Error> {
        self.sign(host, now)
    }
}

fn set_validity(params: &mut CertificateParams, now: SystemTime) {
    let start = now.checked_sub(BACKDATE).unwrap_or(now);
    params.not_before = time::OffsetDateTime::from(start);
    params.not_after = time::OffsetDateTime::from(start + VALIDITY);
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
}

/// A positive 16-byte serial: a fresh CA signs few certificates, but verifiers expect
/// distinct serials per issuer.
fn random_serial() -> [u8; 16] {
    use rand::RngCore;
    let mut serial = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    serial
}

fn ca_error(e: rcgen::Error) -> Error {
    Error::failure(format!("could not make the broker's certificate: {e}"))
}

#[cfg(test)]
#[path = "ca_tests.rs"]
mod tests;
