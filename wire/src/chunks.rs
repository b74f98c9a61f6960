//! `ChunkSequence`: checks that the [`FileChunk`] frames answering one [`FileChunkRequest`]
//! arrive in order, cover exactly the bytes asked for (cut at the end of the file), respect
//! the chunk size, and end with the one frame without the MORE flag.
//!
//! Pure state over decoded frames; the shell writes the data and this only says whether the
//! sequence so far is valid and whether it is complete. Each chunk's own crc was already
//! checked when it was decoded.

use crate::{FileChunk, FileChunkRequest, FrameFlags, WireError};

/// Where a streamed file answer stands after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkProgress {
    /// More chunks must follow.
    More,
    /// The answer is complete.
    Done,
}

/// Validates one streamed file answer, chunk by chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSequence {
    next_offset: u64,
    end_offset: u64,
    chunk_bytes_max: u32,
    done: bool,
}

impl ChunkSequence {
    /// Expects the answer to `request` for a file of `file_size_bytes` (from the manifest).
    pub fn new(request: &FileChunkRequest, file_size_bytes: u64) -> Self {
        let requested_end = request.offset.saturating_add(request.length);
        let end_offset = requested_end.min(file_size_bytes.max(request.offset));
        ChunkSequence {
            next_offset: request.offset,
            end_offset,
            chunk_bytes_max: request.chunk_bytes_max,
            done: false,
        }
    }

    /// The file offset the next chunk must start at.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Whether the last chunk arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Checks the next chunk and the flags of its frame.
    pub fn accept(
        &mut self,
        chunk: &FileChunk,
        flags: FrameFlags,
    ) -> Result<ChunkProgress, WireError> {
        if self.done {
            return Err(WireError::invalid("file_chunk", "chunk after the last one"));
        }
        if chunk.offset != self.next_offset {
            return Err(WireError::invalid(
                "offset",
                "chunk not contiguous with the previous one",
            ));
        }
        if chunk.data.len() > self.chunk_bytes_max as usize {
            return Err(WireError::invalid(
                "data",
                "chunk larger than chunk_bytes_max",
            ));
        }
        let chunk_end = chunk.offset.saturating_add(chunk.data.len() as u64);
        if chunk_end > self.end_offset {
            return Err(WireError::invalid(
                "data",
                "chunk beyond the requested range or the file end",
            ));
        }
        let more = flags.contains(FrameFlags::MORE);
        if more && (chunk.data.is_empty() || chunk_end == self.end_offset) {
            return Err(WireError::invalid(
                "flags",
                "more flag on a chunk that ends the answer",
            ));
        }
        if !more && chunk_end != self.end_offset {
            return Err(WireError::invalid(
                "flags",
                "answer ended before the requested range",
            ));
        }
        self.next_offset = chunk_end;
        if more {
            return Ok(ChunkProgress::More);
        }
        self.done = true;
        Ok(ChunkProgress::Done)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn request(offset: u64, length: u64, chunk_bytes_max: u32) -> FileChunkRequest {
        FileChunkRequest {
            pin_id: 1,
            file_name: "f".into(),
            offset,
            length,
            chunk_bytes_max,
        }
    }

    fn chunk(offset: u64, len: usize) -> FileChunk {
        FileChunk::new(offset, Bytes::from(vec![0u8; len]))
    }

    #[test]
    fn contiguous_chunks_complete_the_range() {
        let mut sequence = ChunkSequence::new(&request(10, 10, 4), 100);
        assert_eq!(
            sequence.accept(&chunk(10, 4), FrameFlags::MORE),
            Ok(ChunkProgress::More)
        );
        assert_eq!(
            sequence.accept(&chunk(14, 4), FrameFlags::MORE),
            Ok(ChunkProgress::More)
        );
        assert_eq!(
            sequence.accept(&chunk(18, 2), FrameFlags::NONE),
            Ok(ChunkProgress::Done)
        );
        assert!(sequence.is_done());
        assert!(sequence.accept(&chunk(20, 1), FrameFlags::NONE).is_err());
    }

    #[test]
    fn answer_is_cut_at_the_end_of_the_file() {
        let mut sequence = ChunkSequence::new(&request(90, 50, 64), 100);
        assert_eq!(
            sequence.accept(&chunk(90, 10), FrameFlags::NONE),
            Ok(ChunkProgress::Done)
        );
        let mut past_end = ChunkSequence::new(&request(200, 5, 64), 100);
        assert_eq!(
            past_end.accept(&chunk(200, 0), FrameFlags::NONE),
            Ok(ChunkProgress::Done)
        );
    }

    #[test]
    fn gaps_overlaps_oversize_and_early_ends_are_refused() {
        let fresh = || ChunkSequence::new(&request(0, 10, 4), 100);
        assert!(fresh().accept(&chunk(1, 4), FrameFlags::MORE).is_err());
        assert!(fresh().accept(&chunk(0, 5), FrameFlags::MORE).is_err());
        assert!(fresh().accept(&chunk(0, 4), FrameFlags::NONE).is_err());
        assert!(fresh().accept(&chunk(0, 0), FrameFlags::MORE).is_err());
        let mut last_with_more = fresh();
        last_with_more
            .accept(&chunk(0, 4), FrameFlags::MORE)
            .unwrap();
        last_with_more
            .accept(&chunk(4, 4), FrameFlags::MORE)
            .unwrap();
        assert!(last_with_more
            .accept(&chunk(8, 2), FrameFlags::MORE)
            .is_err());
    }
}
