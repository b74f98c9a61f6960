//! Certificate subject DNs as OpenSearch writes them, and `plugins.security.nodes_dn`
//! patterns as OpenSearch matches them.
//!
//! The DN is RFC 2253 text, which is what Java's `X500Principal.getName()` gives the security
//! plugin: relative names from last to first (`CN=node-1,OU=ops,O=Example,C=US`), the usual
//! keywords, `+` between the parts of a multi-valued name, special characters escaped and
//! unknown attribute types as `OID=#hex`. A pattern is matched like the plugin's
//! `WildcardMatcher`: `/regex/` is a whole-string regular expression, a pattern with `*` or
//! `?` a wildcard (`*` any run of characters, `?` one character), anything else exact text;
//! all case sensitive. This module must never decide what happens to a connection: it answers
//! "which DN" and "does it match".

use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::IdentityError;

/// Patterns in one `nodes_dn` list at most.
pub const NODES_DN_PATTERNS_MAX: usize = 1024;
/// Length of one pattern at most.
pub const NODES_DN_PATTERN_BYTES_MAX: usize = 4096;
/// Compiled size of one `/regex/` pattern at most, so a pattern cannot eat memory.
const REGEX_SIZE_BYTES_MAX: usize = 1024 * 1024;

/// The subject DN of a DER certificate, in RFC 2253 form.
pub fn subject_dn(certificate: &CertificateDer<'_>) -> Result<String, IdentityError> {
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref()).map_err(|error| {
        IdentityError::Certificate {
            reason: error.to_string(),
        }
    })?;
    let mut rdns = Vec::new();
    for rdn in parsed.subject().iter_rdn() {
        let parts: Vec<String> = rdn
            .iter()
            .map(|attribute| {
                let oid = attribute.attr_type().to_id_string();
                match keyword(&oid) {
                    Some(keyword) => format!("{keyword}={}", escape(&attribute_text(attribute))),
                    None => format!("{oid}=#{}", der_hex(attribute.attr_value())),
                }
            })
            .collect();
        rdns.push(parts.join("+"));
    }
    // RFC 2253 writes the most specific name first: the reverse of the encoding order.
    rdns.reverse();
    Ok(rdns.join(","))
}

/// The keywords Java's RFC 2253 output uses; other types are written as their OID.
fn keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn attribute_text(attribute: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    if let Ok(text) = attribute.as_str() {
        return text.to_owned();
    }
    let raw = attribute.as_slice();
    // BMPString is UTF-16BE; anything else undecodable is shown lossily rather than refused,
    // since the pattern match then simply fails.
    if attribute.attr_value().tag() == x509_parser::der_parser::asn1_rs::Tag::BmpString {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// `#` form of RFC 2253: the hex of the value's whole DER encoding (tag, length, content).
fn der_hex(value: &x509_parser::der_parser::asn1_rs::Any<'_>) -> String {
    let content = value.as_bytes();
    let mut encoded = Vec::with_capacity(content.len() + 6);
    // Attribute values are universal primitive types, whose tag fits one byte.
    encoded.push(u8::try_from(value.tag().0).unwrap_or(0x04));
    let len = content.len();
    if len < 0x80 {
        encoded.push(len as u8);
    } else {
        let len_bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        encoded.push(0x80 | len_bytes.len() as u8);
        encoded.extend(len_bytes);
    }
    encoded.extend_from_slice(content);
    encoded.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// RFC 2253 §2.4 escaping.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, character) in value.chars().enumerate() {
        let special = matches!(character, ',' | '+' | '"' | '\\' | '<' | '>' | ';');
        let edge_space = character == ' ' && (index == 0 || index == last);
        let leading_hash = character == '#' && index == 0;
        if special || edge_space || leading_hash {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// A compiled `plugins.security.nodes_dn` list.
#[derive(Debug, Clone)]
pub struct NodesDn {
    patterns: Vec<DnPattern>,
}

#[derive(Debug, Clone)]
enum DnPattern {
    Exact(String),
    Wildcard(String),
    Regex(regex::Regex),
}

impl NodesDn {
    /// Compiles the patterns; a bad regex or an over-long list is an error, not a silent miss.
    pub fn new(patterns: &[String]) -> Result<Self, IdentityError> {
        if patterns.len() > NODES_DN_PATTERNS_MAX {
            return Err(IdentityError::Pattern {
                pattern: format!("<{} patterns>", patterns.len()),
                reason: format!("more than {NODES_DN_PATTERNS_MAX} patterns"),
            });
        }
        let compiled = patterns
            .iter()
            .map(|pattern| compile(pattern))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns: compiled })
    }

    /// Whether `dn` matches at least one pattern. An empty list matches nothing.
    pub fn matches(&self, dn: &str) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            DnPattern::Exact(text) => text == dn,
            DnPattern::Wildcard(text) => wildcard_match(text, dn),
            DnPattern::Regex(regex) => regex.is_match(dn),
        })
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether the list is empty (then no peer is allowed).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

fn compile(pattern: &str) -> Result<DnPattern, IdentityError> {
    if pattern.len() > NODES_DN_PATTERN_BYTES_MAX {
        return Err(IdentityError::Pattern {
            pattern: pattern.chars().take(64).collect(),
            reason: format!("longer than {NODES_DN_PATTERN_BYTES_MAX} bytes"),
        });
    }
    if pattern.len() >= 2 && pattern.starts_with('/') && pattern.ends_with('/') {
        let inner = &pattern[1..pattern.len() - 1];
        // Java's `matches()` is a whole-string match.
        let regex = regex::RegexBuilder::new(&format!("^(?:{inner})$"))
            .size_limit(REGEX_SIZE_BYTES_MAX)
            .build()
            .map_err(|error| IdentityError::Pattern {
                pattern: pattern.to_owned(),
                reason: error.to_string(),
            })?;
        return Ok(DnPattern::Regex(regex));
    }
    if pattern.contains(['*', '?']) {
        return Ok(DnPattern::Wildcard(pattern.to_owned()));
    }
    Ok(DnPattern::Exact(pattern.to_owned()))
}

/// Glob match with `*` (any run) and `?` (one character), iterative with one backtrack
/// point, so it is linear-ish and never recursive on hostile patterns.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

#[cfg(test)]
mod tests;
