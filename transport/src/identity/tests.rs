//! Unit tests of `identity`: generated identities persist and reload unchanged, the key file is
//! private, half an identity is refused, and fingerprints print and parse back.

use super::*;

#[test]
fn generated_identity_is_written_once_and_reloaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("certs");
    let first = Identity::load_or_generate(&certs, "node-a").expect("generate");
    let second = Identity::load_or_generate(&certs, "node-a").expect("reload");
    assert_eq!(first.fingerprint(), second.fingerprint());
    assert_eq!(first.subject_dn(), "CN=tandem node-a,O=tandem demo");
    assert!(!certs.join("transport.tmp").exists());
}

#[cfg(unix)]
#[test]
fn generated_key_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    Identity::load_or_generate(dir.path(), "node-a").expect("generate");
    let mode = fs::metadata(dir.path().join(GENERATED_KEY_FILE))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn half_an_identity_is_refused_not_regenerated() {
    let dir = tempfile::tempdir().expect("temp dir");
    Identity::load_or_generate(dir.path(), "node-a").expect("generate");
    fs::remove_file(dir.path().join(GENERATED_KEY_FILE)).expect("remove key");
    let error = Identity::load_or_generate(dir.path(), "node-a").expect_err("half identity");
    assert!(
        matches!(error, IdentityError::HalfIdentity { .. }),
        "{error}"
    );
}

#[test]
fn garbage_pem_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("node.pem");
    let key = dir.path().join("node-key.pem");
    fs::write(&cert, b"not a certificate").expect("write");
    fs::write(&key, b"not a key").expect("write");
    let error = Identity::from_pem_files(&cert, &key).expect_err("garbage");
    assert!(matches!(error, IdentityError::Pem { .. }), "{error}");
    let missing =
        Identity::from_pem_files(&dir.path().join("absent.pem"), &key).expect_err("missing");
    assert!(matches!(missing, IdentityError::Io { .. }), "{missing}");
}

#[test]
fn fingerprints_print_and_parse_back() {
    let fingerprint = Fingerprint::of(b"certificate bytes");
    let text = fingerprint.to_string();
    assert!(
        text.starts_with("sha256:") && text.len() == 7 + 64,
        "{text}"
    );
    assert_eq!(Fingerprint::parse(&text), Some(fingerprint));
    assert_eq!(Fingerprint::parse("sha256:zz"), None);
    assert_eq!(Fingerprint::parse(&text.replace("sha256:", "md5:")), None);
}

#[test]
fn two_generated_identities_differ() {
    let a = Identity::generate("node-a").expect("generate");
    let b = Identity::generate("node-a").expect("generate");
    assert_ne!(a.fingerprint(), b.fingerprint());
}
