//! The error table against OpenSearch, and reason strings.

use super::*;

#[test]
fn every_kind_has_one_row() {
    for (index, row) in TABLE.iter().enumerate() {
        assert_eq!(row.0 as usize, index, "table order follows the enum");
        assert_eq!(ErrorKind::from_wire_tag(row.1), Ok(row.0));
    }
    let mut tags: Vec<u16> = TABLE.iter().map(|row| row.1).collect();
    tags.dedup();
    assert_eq!(tags.len(), TABLE.len());
    assert_eq!(ErrorKind::ALL.len(), TABLE.len());
}

#[test]
fn mapping_matches_opensearch() {
    let expected = [
        (ErrorKind::IndexNotFound, "index_not_found_exception", 404),
        (ErrorKind::IndexClosed, "index_closed_exception", 400),
        (
            ErrorKind::ChainingRefused,
            "illegal_argument_exception",
            400,
        ),
        (
            ErrorKind::RetentionLeaseNotFound,
            "retention_lease_not_found_exception",
            404,
        ),
        (
            ErrorKind::RetentionLeaseAlreadyExists,
            "retention_lease_already_exists_exception",
            400,
        ),
        (ErrorKind::Unauthorized, "security_exception", 403),
        (ErrorKind::Overloaded, "rejected_execution_exception", 429),
    ];
    for (kind, opensearch_type, status) in expected {
        assert_eq!(kind.opensearch_type(), opensearch_type);
        assert_eq!(kind.http_status(), status);
    }
}

#[test]
fn client_errors_other_than_429_are_not_retried() {
    for kind in ErrorKind::ALL {
        let status = kind.http_status();
        if (400..500).contains(&status) && status != 429 {
            assert!(!kind.is_retryable(), "{kind:?}");
        }
    }
    assert!(!ErrorKind::HistoryGone.is_retryable());
}

#[test]
fn spec_reason_strings() {
    assert_eq!(
        RemoteError::index_not_found("leader").reason,
        "no such index [leader]"
    );
    assert_eq!(
        RemoteError::chaining_refused("leader").reason,
        "Cannot Replicate a Replicated Index leader"
    );
    assert_eq!(RemoteError::index_closed().reason, "closed");
}

#[test]
fn long_reasons_are_cut_at_a_char_boundary() {
    let error = RemoteError::new(ErrorKind::Internal, "é".repeat(REASON_BYTES_MAX));
    assert!(error.reason.len() <= REASON_BYTES_MAX);
    assert!(error.reason.len() >= REASON_BYTES_MAX - 1);
}

#[test]
fn unknown_kind_tag_is_typed() {
    assert_eq!(
        ErrorKind::from_wire_tag(0),
        Err(WireError::UnknownTag {
            field: "error_kind",
            tag: 0
        })
    );
}
