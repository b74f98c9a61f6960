//! Fuzz target: arbitrary bytes as a durable file image (leases, node and cluster state use
//! this layout). Decoding must never panic or allocate from an unchecked length, and whatever
//! it accepts must re-encode to exactly the same bytes.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tandem_storage::durable_file;

const MAGIC: [u8; 8] = *b"TNDMLEAS";

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.tnd");
    if let Ok((version, payload)) = durable_file::decode(path, data, MAGIC, 1..=u32::MAX) {
        let encoded = durable_file::encode(path, MAGIC, version, payload).expect("re-encode");
        assert_eq!(encoded, data, "accepted images are canonical");
    }
});
