//! Fuzz target: a streamed file answer checked chunk by chunk with arbitrary offsets, sizes
//! and flags. Must never panic; a sequence it calls complete must cover exactly the bytes
//! asked for, cut at the end of the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_wire::{ChunkProgress, ChunkSequence, FileChunk, FileChunkRequest, FrameFlags};

fuzz_target!(|data: &[u8]| {
    let Some((head, chunks)) = data.split_first_chunk::<4>() else {
        return;
    };
    let request = FileChunkRequest {
        pin_id: 1,
        file_name: "f".into(),
        offset: u64::from(head[0]),
        length: u64::from(head[1]).max(1),
        chunk_bytes_max: u32::from(head[2] % 64).max(1),
    };
    let file_size_bytes = u64::from(head[3]) * 2;
    let expected_end = (request.offset + request.length).min(file_size_bytes.max(request.offset));
    let mut sequence = ChunkSequence::new(&request, file_size_bytes);
    for event in chunks.chunks_exact(3) {
        let offset = sequence
            .next_offset()
            .wrapping_add(u64::from(event[0] % 4))
            .wrapping_sub(1);
        let chunk = FileChunk::new(offset, vec![0u8; usize::from(event[1] % 80)].into());
        let flags = if event[2] & 1 == 1 {
            FrameFlags::MORE
        } else {
            FrameFlags::NONE
        };
        if let Ok(ChunkProgress::Done) = sequence.accept(&chunk, flags) {
            assert_eq!(sequence.next_offset(), expected_end);
            assert!(sequence.is_done());
        }
    }
});
