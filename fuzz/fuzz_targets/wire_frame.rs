//! Fuzz target: arbitrary bytes, fed in pieces, into the streaming frame decoder, and every
//! frame it yields into the message decoder. Must never panic; a decoded message must encode
//! back to a frame that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_wire::{Frame, FrameDecoder, Message, FRAME_BODY_BYTES_MAX};

fuzz_target!(|data: &[u8]| {
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece_len = usize::from(piece).max(1);
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    for chunk in stream.chunks(piece_len) {
        decoder.feed(chunk);
        loop {
            match decoder.decode() {
                Ok(Some(frame)) => check_frame(&frame),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = decoder.finish();
});

fn check_frame(frame: &Frame) {
    let Ok(message) = Message::decode(frame) else {
        return;
    };
    let encoded = message
        .encode_with_flags(frame.flags)
        .expect("a message that decodes must encode");
    let again = Frame::decode_exact(encoded.to_bytes()).expect("an encoded frame must decode");
    assert_eq!(&again, frame, "encoding is canonical");
    assert_eq!(Message::decode(&again).expect("decodes again"), message);
}
