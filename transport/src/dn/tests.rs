//! Unit tests of `dn`: RFC 2253 formatting of real certificates and OpenSearch's wildcard and
//! regex pattern semantics.

use super::*;

fn certificate_with(dn: &[(rcgen::DnType, &str)]) -> CertificateDer<'static> {
    let mut params =
        rcgen::CertificateParams::new(vec!["node.example".to_owned()]).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    for (kind, value) in dn {
        params.distinguished_name.push(kind.clone(), *value);
    }
    let key = rcgen::KeyPair::generate().expect("key");
    params.self_signed(&key).expect("certificate").der().clone()
}

fn patterns(list: &[&str]) -> NodesDn {
    NodesDn::new(&list.iter().map(|p| p.to_string()).collect::<Vec<_>>()).expect("patterns")
}

#[test]
fn subject_dn_is_rfc2253_most_specific_first() {
    let certificate = certificate_with(&[
        (rcgen::DnType::CountryName, "US"),
        (rcgen::DnType::OrganizationName, "Example"),
        (rcgen::DnType::OrganizationalUnitName, "ops"),
        (rcgen::DnType::CommonName, "node-1"),
    ]);
    assert_eq!(
        subject_dn(&certificate).expect("dn"),
        "CN=node-1,OU=ops,O=Example,C=US"
    );
}

#[test]
fn special_characters_are_escaped() {
    let certificate = certificate_with(&[(rcgen::DnType::CommonName, "a,b+c")]);
    assert_eq!(subject_dn(&certificate).expect("dn"), "CN=a\\,b\\+c");
    assert_eq!(escape(" lead#"), "\\ lead#");
    assert_eq!(escape("#x "), "\\#x\\ ");
}

#[test]
fn exact_patterns_match_whole_dns_only() {
    let nodes_dn = patterns(&["CN=node-1,OU=ops,O=Example,C=US"]);
    assert!(nodes_dn.matches("CN=node-1,OU=ops,O=Example,C=US"));
    assert!(!nodes_dn.matches("CN=node-10,OU=ops,O=Example,C=US"));
    assert!(
        !nodes_dn.matches("cn=node-1,ou=ops,o=example,c=us"),
        "case sensitive"
    );
}

#[test]
fn wildcards_match_runs_and_single_characters() {
    let nodes_dn = patterns(&["CN=node-*,OU=ops,O=Example,C=US", "CN=?.example.com"]);
    assert!(nodes_dn.matches("CN=node-1,OU=ops,O=Example,C=US"));
    assert!(nodes_dn.matches("CN=node-,OU=ops,O=Example,C=US"));
    assert!(nodes_dn.matches("CN=a.example.com"));
    assert!(!nodes_dn.matches("CN=ab.example.com"));
    assert!(!nodes_dn.matches("CN=node-1,OU=dev,O=Example,C=US"));
    assert!(patterns(&["*"]).matches("anything at all"));
    assert!(wildcard_match("a*b*c", "aXXbYYc"));
    assert!(!wildcard_match("a*b*c", "aXXbYY"));
    assert!(wildcard_match("**", ""));
}

#[test]
fn slash_delimited_patterns_are_whole_string_regexes() {
    let nodes_dn = patterns(&["/CN=node-[0-9]+,O=Example/"]);
    assert!(nodes_dn.matches("CN=node-42,O=Example"));
    assert!(
        !nodes_dn.matches("CN=node-42,O=Example,C=US"),
        "anchored at the end"
    );
    assert!(
        !nodes_dn.matches("XCN=node-42,O=Example"),
        "anchored at the start"
    );
}

#[test]
fn bad_regex_is_an_error_and_empty_list_allows_nobody() {
    let error = NodesDn::new(&["/CN=(/".to_owned()]).expect_err("bad regex");
    assert!(matches!(error, IdentityError::Pattern { .. }), "{error}");
    let empty = patterns(&[]);
    assert!(empty.is_empty());
    assert!(!empty.matches("CN=node-1"));
}
