//! Fuzz target: arbitrary text as a tantivy commit payload. Decoding must never panic, and an
//! accepted payload must survive an encode and decode unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_storage::engine::CommitPayload;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(payload) = CommitPayload::decode(text) {
        let again = CommitPayload::decode(&payload.encode()).expect("re-decode");
        assert_eq!(again, payload);
    }
});
