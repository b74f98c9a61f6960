//! Fuzz target: arbitrary bytes as the body of a chosen message kind, bypassing the frame crc
//! so the fuzzer reaches every field decoder. Must never panic; a body that decodes must be
//! exactly what encoding the decoded message produces (the encoding is canonical).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_wire::{Frame, Message, MessageKind};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = MessageKind::ALL[usize::from(selector) % MessageKind::ALL.len()];
    let Ok(message) = Message::decode_body(kind, body.to_vec().into()) else {
        return;
    };
    assert_eq!(message.kind(), kind);
    let encoded = message
        .encode()
        .expect("a message that decodes must encode");
    let frame = Frame::decode_exact(encoded.to_bytes()).expect("an encoded frame must decode");
    assert_eq!(&frame.body[..], body, "encoding is canonical");
});
