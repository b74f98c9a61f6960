//! A node's transport identity: its certificate chain and private key, loaded from
//! OpenSearch's PEM settings or generated once into the data folder for demos, and the SHA-256
//! [`Fingerprint`] followers pin.
//!
//! It owns the two generated files (`transport.crt`, `transport.key`, written atomically, the
//! key readable by its owner only). It must never regenerate an identity that exists, even in
//! part: a new certificate breaks every follower's pin, so that is an operator's decision.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::dn::subject_dn;
use crate::error::IdentityError;

/// File name of the generated certificate inside the certificate folder.
pub const GENERATED_CERT_FILE: &str = "transport.crt";
/// File name of the generated private key inside the certificate folder.
pub const GENERATED_KEY_FILE: &str = "transport.key";
/// Largest PEM file we read (a chain of a few certificates is a few KiB).
pub const PEM_FILE_BYTES_MAX: u64 = 1024 * 1024;
/// Certificates in one chain at most.
pub const CHAIN_CERTS_MAX: usize = 16;

/// SHA-256 of a certificate's DER bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `der` (a certificate's DER encoding).
    pub fn of(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Fingerprint(bytes)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses what `Display` writes (`sha256:` and 64 hex digits), for stored pins.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16).ok()?;
        }
        Some(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A certificate chain (leaf first) and its private key.
#[derive(Debug)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    fingerprint: Fingerprint,
    subject_dn: String,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            fingerprint: self.fingerprint,
            subject_dn: self.subject_dn.clone(),
        }
    }
}

impl Identity {
    /// Loads the identity generated earlier in `certs_dir`, or generates one for `node_name`
    /// and writes it there. Refuses a folder holding only one of the two files.
    pub fn load_or_generate(certs_dir: &Path, node_name: &str) -> Result<Self, IdentityError> {
        let cert_path = certs_dir.join(GENERATED_CERT_FILE);
        let key_path = certs_dir.join(GENERATED_KEY_FILE);
        let cert_exists = file_exists(&cert_path)?;
        let key_exists = file_exists(&key_path)?;
        match (cert_exists, key_exists) {
            (true, true) => {
                warn_if_key_is_readable_by_others(&key_path);
                return Self::from_pem_files(&cert_path, &key_path);
            }
            (true, false) => {
                return Err(IdentityError::HalfIdentity {
                    present: cert_path,
                    missing: key_path,
                })
            }
            (false, true) => {
                return Err(IdentityError::HalfIdentity {
                    present: key_path,
                    missing: cert_path,
                })
            }
            (false, false) => {}
        }
        let (cert_pem, key_pem) = generate_self_signed_pem(node_name)?;
        fs::create_dir_all(certs_dir).map_err(|source| IdentityError::Io {
            path: certs_dir.to_owned(),
            source,
        })?;
        // Key first: a crash between the two leaves a key without a certificate, which the
        // next start reports instead of silently pairing mismatched files.
        write_atomically(&key_path, key_pem.as_bytes(), KEY_FILE_MODE)?;
        write_atomically(&cert_path, cert_pem.as_bytes(), CERT_FILE_MODE)?;
        sync_dir(certs_dir)?;
        tracing::info!(path = %cert_path.display(), "generated transport certificate");
        Self::from_pem_files(&cert_path, &key_path)
    }

    /// Loads `plugins.security.ssl.transport.pemcert_filepath` and `pemkey_filepath`.
    pub fn from_pem_files(cert_path: &Path, key_path: &Path) -> Result<Self, IdentityError> {
        let cert_pem = read_pem_file(cert_path)?;
        let key_pem = read_pem_file(key_path)?;
        Self::from_pem(&cert_pem, &key_pem, cert_path, key_path)
    }

    /// A fresh self-signed identity kept in memory only (tests, tools).
    pub fn generate(node_name: &str) -> Result<Self, IdentityError> {
        let (cert_pem, key_pem) = generate_self_signed_pem(node_name)?;
        let memory = Path::new("<memory>");
        Self::from_pem(cert_pem.as_bytes(), key_pem.as_bytes(), memory, memory)
    }

    /// Builds an identity from PEM text; the paths only name the sources in errors.
    pub fn from_pem(
        cert_pem: &[u8],
        key_pem: &[u8],
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<Self, IdentityError> {
        let chain = parse_certificates(cert_pem, cert_path)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| IdentityError::Pem {
            path: key_path.to_owned(),
            reason: error.to_string(),
        })?;
        let leaf = chain.first().ok_or_else(|| IdentityError::Pem {
            path: cert_path.to_owned(),
            reason: "no certificate".into(),
        })?;
        let fingerprint = Fingerprint::of(leaf.as_ref());
        let subject_dn = subject_dn(leaf)?;
        Ok(Self {
            chain,
            key,
            fingerprint,
            subject_dn,
        })
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// A copy of the private key, for a rustls config.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The leaf certificate's fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The leaf certificate's subject DN, formatted as OpenSearch does.
    pub fn subject_dn(&self) -> &str {
        &self.subject_dn
    }
}

/// Reads every certificate of a PEM file (`pemtrustedcas_filepath` as well as a chain).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, IdentityError> {
    parse_certificates(&read_pem_file(path)?, path)
}

fn parse_certificates(
    pem: &[u8],
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, IdentityError> {
    let mut chain = Vec::new();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        let certificate = certificate.map_err(|error| IdentityError::Pem {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        if chain.len() == CHAIN_CERTS_MAX {
            return Err(IdentityError::Pem {
                path: path.to_owned(),
                reason: format!("more than {CHAIN_CERTS_MAX} certificates"),
            });
        }
        chain.push(certificate);
    }
    if chain.is_empty() {
        return Err(IdentityError::Pem {
            path: path.to_owned(),
            reason: "no certificate".into(),
        });
    }
    Ok(chain)
}

fn generate_self_signed_pem(node_name: &str) -> Result<(String, String), IdentityError> {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    // Encoded most general first, so the RFC 2253 form reads `CN=tandem <node>,O=tandem demo`.
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "tandem demo");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("tandem {node_name}"));
    params.subject_alt_names.push(rcgen::SanType::IpAddress(
        std::net::Ipv4Addr::LOCALHOST.into(),
    ));
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn read_pem_file(path: &Path) -> Result<Vec<u8>, IdentityError> {
    let io_error = |source| IdentityError::Io {
        path: path.to_owned(),
        source,
    };
    let len = fs::metadata(path).map_err(io_error)?.len();
    if len > PEM_FILE_BYTES_MAX {
        return Err(IdentityError::Pem {
            path: path.to_owned(),
            reason: format!("{len} bytes, more than {PEM_FILE_BYTES_MAX}"),
        });
    }
    fs::read(path).map_err(io_error)
}

/// A private key others can read is worth a warning, not a refusal: the demo still runs.
fn warn_if_key_is_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = fs::metadata(path) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "transport key is readable by other users"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn file_exists(path: &Path) -> Result<bool, IdentityError> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(IdentityError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The key is readable by its owner only, the certificate by anyone.
const KEY_FILE_MODE: u32 = 0o600;
const CERT_FILE_MODE: u32 = 0o644;

/// Temp file, fsync, rename, so a crash leaves the old file or the new one, never half.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let temp: PathBuf = path.with_extension("tmp");
    let io_error = |source| IdentityError::Io {
        path: temp.clone(),
        source,
    };
    // A temp file left by a crash may carry other permissions; start from nothing.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_error(source)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temp).map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    drop(file);
    fs::rename(&temp, path).map_err(|source| IdentityError::Io {
        path: path.to_owned(),
        source,
    })
}

fn sync_dir(dir: &Path) -> Result<(), IdentityError> {
    let io_error = |source| IdentityError::Io {
        path: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error)?;
    #[cfg(not(unix))]
    let _ = io_error;
    Ok(())
}

#[cfg(test)]
mod tests;
