//! Fuzz target: arbitrary bytes into the translog checkpoint decoders, as one slot and as a
//! whole two-slot file. Must never panic; a slot that decodes must re-encode to the bytes it
//! was decoded from, and a file decodes to one of its valid slots.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_storage::translog::checkpoint::{
    decode_file, decode_slot, encode_slot, CHECKPOINT_SLOT_BYTES,
};

fuzz_target!(|data: &[u8]| {
    if let Ok((counter, checkpoint)) = decode_slot(data) {
        let again = encode_slot(&checkpoint, counter);
        assert_eq!(
            again.as_slice(),
            &data[..again.len()],
            "slot encoding is canonical"
        );
        assert_eq!(decode_slot(&again), Ok((counter, checkpoint)));
    }
    // Short inputs are spread over both slots so the fuzzer reaches the second one cheaply.
    let file = if data.len() < CHECKPOINT_SLOT_BYTES {
        let half = data.len() / 2;
        let mut file = data[..half].to_vec();
        file.resize(CHECKPOINT_SLOT_BYTES, 0);
        file.extend_from_slice(&data[half..]);
        file
    } else {
        data.to_vec()
    };
    if let Ok((counter, checkpoint)) = decode_file(&file) {
        let start = (counter % 2) as usize * CHECKPOINT_SLOT_BYTES;
        let end = (start + CHECKPOINT_SLOT_BYTES).min(file.len());
        assert_eq!(decode_slot(&file[start..end]), Ok((counter, checkpoint)));
    }
});
