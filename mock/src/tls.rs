//! `--tls`: a throw-away CA and server certificates generated at start
//! (rcgen, ECDSA P-256 via ring), the rustls server configurations of the
//! main listener and of the three TLS-fault listeners, and the CA file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

use crate::timefmt;

/// Name of the CA certificate file written in the TLS directory.
pub const CA_FILE_NAME: &str = "ca.pem";
/// The only name in the `wrong_host` certificate.
pub const WRONG_HOST: &str = "wrong-host.invalid";

/// Server configurations for every TLS listener, and the CA to trust.
pub struct TlsSetup {
    /// Valid for 127.0.0.1, ::1 and localhost (and the bound address), signed by the CA.
    pub main: Arc<ServerConfig>,
    /// Right names, but signed by a second CA that is never written anywhere.
    pub unknown_ca: Arc<ServerConfig>,
    /// Signed by the CA, valid only for `wrong-host.invalid` (no IP SAN).
    pub wrong_host: Arc<ServerConfig>,
    /// Signed by the CA, right names, expired on 2020-01-02.
    pub expired: Arc<ServerConfig>,
    /// The CA certificate (PEM) that clients should trust.
    pub ca_pem: String,
}

/// (year, month, day), UTC midnight.
type Date = (i32, u8, u8);
/// (not_before, not_after)
type Validity = (Date, Date);

fn rcgen_err(what: &str) -> impl Fn(rcgen::Error) -> String + '_ {
    move |e| format!("cannot generate the {what}: {e}")
}

fn set_validity(p: &mut CertificateParams, v: Validity) {
    let ((y0, m0, d0), (y1, m1, d1)) = v;
    p.not_before = date_time_ymd(y0, m0, d0);
    p.not_after = date_time_ymd(y1, m1, d1);
}

/// From yesterday to ten years from now (UTC dates).
fn current_validity() -> Validity {
    let now = SystemTime::now();
    let yesterday = now.checked_sub(Duration::from_secs(86_400)).unwrap_or(now);
    let (y0, m0, d0) = timefmt::civil_date(yesterday);
    let (y1, m1, d1) = timefmt::civil_date(now);
    let y1 = y1.saturating_add(10);
    // day 1-28 exists in every month
    ((y0, m0, d0), (y1, m1, d1.min(28)))
}

fn new_ca(common_name: &str, v: Validity) -> Result<(String, Issuer<'static, KeyPair>), String> {
    let err = rcgen_err("CA certificate");
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(&err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "qovery-mock");
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut p, v);
    let key = KeyPair::generate().map_err(&err)?;
    let cert = p.self_signed(&key).map_err(&err)?;
    Ok((cert.pem(), Issuer::new(p, key)))
}

/// A server certificate for `names` (IP addresses become IP SANs, the rest
/// DNS SANs) signed by `issuer`, with its key, as a rustls config.
fn leaf_config(
    names: &[String],
    issuer: &Issuer<'static, KeyPair>,
    v: Validity,
) -> Result<Arc<ServerConfig>, String> {
    let err = rcgen_err("server certificate");
    let mut p = CertificateParams::new(names.to_vec()).map_err(&err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "qovery-mock");
    dn.push(
        DnType::CommonName,
        names.first().map_or("qovery-mock", String::as_str),
    );
    p.distinguished_name = dn;
    p.use_authority_key_identifier_extension = true;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    set_validity(&mut p, v);
    let key = KeyPair::generate().map_err(&err)?;
    let cert = p.signed_by(&key, issuer).map_err(&err)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    server_config(vec![cert.der().clone()], key_der)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("TLS configuration: {e}"))?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

/// Generates the CAs and certificates. `bound` is the main listener's address:
/// if it is not one of the loopback names it is added to the main certificate.
pub fn generate(bound: IpAddr) -> Result<TlsSetup, String> {
    let valid = current_validity();
    let mut names: Vec<String> = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST).to_string(),
        IpAddr::V6(Ipv6Addr::LOCALHOST).to_string(),
        "localhost".to_string(),
    ];
    if !bound.is_unspecified() && !names.contains(&bound.to_string()) {
        names.push(bound.to_string());
    }
    let loopback = &names[..3];
    let (ca_pem, ca) = new_ca("qovery-mock test CA", valid)?;
    let (_, other_ca) = new_ca("qovery-mock unknown CA (not in the CA file)", valid)?;
    Ok(TlsSetup {
        main: leaf_config(&names, &ca, valid)?,
        unknown_ca: leaf_config(loopback, &other_ca, valid)?,
        wrong_host: leaf_config(&[WRONG_HOST.to_string()], &ca, valid)?,
        expired: leaf_config(loopback, &ca, ((2020, 1, 1), (2020, 1, 2)))?,
        ca_pem,
    })
}

/// A fresh private directory `<temp>/qovery-mock-<pid>-<random>`.
pub fn make_temp_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let mut last = String::new();
    for _ in 0..16 {
        let dir = base.join(format!(
            "qovery-mock-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                last = e.to_string();
            }
            Err(e) => {
                return Err(format!(
                    "cannot create a temporary directory in {}: {e}",
                    base.display()
                ))
            }
        }
    }
    Err(format!(
        "cannot create a temporary directory in {}: {last}",
        base.display()
    ))
}

/// Writes the CA certificate as `<dir>/ca.pem` (creating `dir`); returns the
/// file's absolute path, which must be printable on one stdout line.
pub fn write_ca_file(dir: &Path, ca_pem: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the TLS directory {}: {e}", dir.display()))?;
    let path = std::path::absolute(dir.join(CA_FILE_NAME))
        .map_err(|e| format!("cannot make {} absolute: {e}", dir.display()))?;
    match path.to_str() {
        Some(s) if !s.contains(['\n', '\r']) => {}
        _ => {
            return Err(format!(
                "the CA file path {path:?} is not UTF-8 or contains a line break"
            ))
        }
    }
    std::fs::write(&path, ca_pem).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_configs_and_writes_the_ca_file() {
        let t = generate(IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        assert!(t.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(t.main.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let dir = make_temp_dir().unwrap();
        let sub = dir.join("a/b");
        let path = write_ca_file(&sub, &t.ca_pem).unwrap();
        assert!(path.is_absolute());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), t.ca_pem);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn validity_is_sane() {
        let ((y0, m0, d0), (y1, m1, d1)) = current_validity();
        assert!(y0 >= 2024);
        assert!(y1 - y0 == 10 || y1 - y0 == 11);
        assert!((1..=12).contains(&m0) && (1..=12).contains(&m1));
        assert!((1..=31).contains(&d0) && (1..=28).contains(&d1));
    }
}
