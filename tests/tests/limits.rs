//! Relations between limits of crates that cannot name each other: `wire` must carry anything
//! `storage` accepts, or one large operation would stall a follower forever.

use tandem_storage::record::{RECORD_BODY_BYTES_MAX, RECORD_FRAME_HEADER_BYTES};
use tandem_wire::limits::{CHANGES_OPS_BYTES_MAX, FRAME_BODY_BYTES_MAX};

const _: () = assert!(
    RECORD_BODY_BYTES_MAX + RECORD_FRAME_HEADER_BYTES <= CHANGES_OPS_BYTES_MAX as usize,
    "a changes response must fit the largest record"
);
const _: () = assert!(CHANGES_OPS_BYTES_MAX < FRAME_BODY_BYTES_MAX);

#[test]
fn the_largest_record_fits_one_changes_response() {
    let largest_record_bytes = RECORD_BODY_BYTES_MAX + RECORD_FRAME_HEADER_BYTES;
    assert!(largest_record_bytes <= CHANGES_OPS_BYTES_MAX as usize);
}
