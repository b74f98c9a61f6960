//! The read paths: one record by location (real-time get), durable operations by seq_no range
//! (replication), and every operation in append order (crash replay).
//!
//! Sealed generations are read through their long-lived memory maps; the active generation by
//! positioned reads below what was written to it. It must never serve a record whose crc did
//! not verify, never read past a sealed generation's checkpointed length, and never allocate
//! per record in `read_ops` beyond the output buffer.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use memmap2::Mmap;

use super::error::io_error;
use super::generation::GENERATION_HEADER_BYTES;
use super::{Location, OpsBatch, ReadState, Result, Shared, TranslogError};
use crate::record::{
    self, Operation, RecordError, RECORD_BODY_BYTES_MAX, RECORD_FRAME_HEADER_BYTES,
};

impl Shared {
    pub(super) fn read(&self, location: Location) -> Result<Operation> {
        let not_found = || TranslogError::LocationNotFound { location };
        let len = location.len as usize;
        if !(RECORD_FRAME_HEADER_BYTES..=RECORD_FRAME_HEADER_BYTES + RECORD_BODY_BYTES_MAX).contains(&len)
            || location.offset < GENERATION_HEADER_BYTES as u64
        {
            return Err(not_found());
        }
        {
            let writer = self.writer.lock();
            if location.generation == writer.generation {
                if location.offset >= writer.written {
                    let start = usize::try_from(location.offset - writer.written).map_err(|_| not_found())?;
                    let bytes = writer.buffer.get(start..start + len).ok_or_else(not_found)?;
                    return decode_at(&writer.path, location, bytes);
                }
                if location.end() > writer.written {
                    return Err(not_found());
                }
                let file = Arc::clone(&writer.file);
                let path = writer.path.clone();
                drop(writer);
                let mut bytes = vec![0u8; len];
                file.read_exact_at(&mut bytes, location.offset).map_err(io_error(&path))?;
                return decode_at(&path, location, &bytes);
            }
        }
        let state = self.state.read();
        let sealed = state.sealed.get(&location.generation).ok_or_else(not_found)?;
        if location.end() > sealed.summary.bytes {
            return Err(not_found());
        }
        let start = location.offset as usize;
        decode_at(&sealed.path, location, &sealed.map[start..start + len])
    }

    pub(super) fn read_ops(
        &self,
        from_seq_no: i64,
        to_seq_no: i64,
        ops_max: usize,
        bytes_max: usize,
    ) -> Result<OpsBatch> {
        if from_seq_no < 0 {
            return Err(TranslogError::InvalidArgument {
                reason: format!("from_seq_no {from_seq_no} is negative"),
            });
        }
        let state = self.state.read();
        if from_seq_no < state.history_min_seq_no {
            return Err(TranslogError::HistoryGone {
                requested: from_seq_no,
                available_from: state.history_min_seq_no,
            });
        }
        // Read once: a mark that moves on meanwhile only makes this batch shorter.
        let durable = *self.durable.lock();
        let mut out = Vec::new();
        let mut expected = from_seq_no;
        let mut ops = 0usize;
        if from_seq_no <= to_seq_no && ops_max > 0 {
            for (&seq_no, entry) in state.index.range(from_seq_no..=to_seq_no) {
                if seq_no != expected {
                    if ops == 0 {
                        return Err(TranslogError::HistoryIncomplete {
                            missing_seq_no: expected,
                        });
                    }
                    // The batch holds a contiguous prefix; the next call reports the gap.
                    break;
                }
                let location = entry.location;
                if !durable.covers(location.generation, location.end()) {
                    break;
                }
                if ops > 0 && out.len() + location.len as usize > bytes_max {
                    break;
                }
                state.copy_record(location, seq_no, &mut out)?;
                ops += 1;
                expected += 1;
                if ops == ops_max {
                    break;
                }
            }
        }
        Ok(OpsBatch {
            records: Bytes::from(out),
            ops,
            first_seq_no: from_seq_no,
            last_seq_no: expected - 1,
        })
    }

    pub(super) fn iter_from(&self, above_seq_no: i64) -> Result<TranslogIter> {
        let mut writer = self.writer.lock();
        // After a fatal error the buffer is never written again; replay what reached the file.
        if self.check_open().is_ok() {
            let path = writer.path.clone();
            writer.flush().map_err(|err| self.tragic(&path, err))?;
        }
        let state = self.state.read();
        let mut sources: VecDeque<Source> = state
            .sealed
            .values()
            .map(|sealed| Source {
                path: sealed.path.clone(),
                data: SourceData::Mapped(Arc::clone(&sealed.map)),
                end: sealed.summary.bytes,
            })
            .collect();
        sources.push_back(Source {
            path: writer.path.clone(),
            data: SourceData::File(Arc::clone(&writer.file)),
            end: writer.written,
        });
        Ok(TranslogIter {
            sources,
            offset: GENERATION_HEADER_BYTES as u64,
            above_seq_no,
            failed: false,
        })
    }
}

impl ReadState {
    /// Appends the record at `location` to `out` after checking it is a valid record of
    /// `seq_no` exactly `location.len` bytes long.
    fn copy_record(&self, location: Location, seq_no: i64, out: &mut Vec<u8>) -> Result<()> {
        let len = location.len as usize;
        let start = out.len();
        let path = if let Some(sealed) = self.sealed.get(&location.generation) {
            let bytes = (location.end() <= sealed.summary.bytes)
                .then(|| sealed.map.get(location.offset as usize..location.end() as usize))
                .flatten()
                .ok_or(TranslogError::LocationNotFound { location })?;
            out.extend_from_slice(bytes);
            &sealed.path
        } else if location.generation == self.active_generation {
            out.resize(start + len, 0);
            self.active_file
                .read_exact_at(&mut out[start..], location.offset)
                .map_err(io_error(&self.active_path))?;
            &self.active_path
        } else {
            return Err(TranslogError::LocationNotFound { location });
        };
        let corrupt = |reason: String| TranslogError::Corrupt {
            file: path.clone(),
            offset: location.offset,
            reason,
        };
        let header = record::peek_header(&out[start..]).map_err(|err| corrupt(err.to_string()))?;
        if header.seq_no != seq_no || header.frame_len != len {
            return Err(corrupt(format!(
                "record holds seq_no {} in {} bytes, index expects seq_no {seq_no} in {len}",
                header.seq_no, header.frame_len
            )));
        }
        Ok(())
    }
}

fn decode_at(path: &Path, location: Location, bytes: &[u8]) -> Result<Operation> {
    let corrupt = |reason: String| TranslogError::Corrupt {
        file: path.to_path_buf(),
        offset: location.offset,
        reason,
    };
    let (op, used) = record::decode(bytes).map_err(|err| corrupt(err.to_string()))?;
    if used != bytes.len() {
        return Err(corrupt(format!("record is {used} bytes, location says {}", bytes.len())));
    }
    Ok(op)
}

/// Operations in append order with `seq_no` above a bound; see
/// [`Translog::iter_from`](super::Translog::iter_from). Holds its own references to the files,
/// so it stays valid while the translog keeps appending, rolling or trimming. After an error
/// it ends.
#[derive(Debug)]
pub struct TranslogIter {
    sources: VecDeque<Source>,
    offset: u64,
    above_seq_no: i64,
    failed: bool,
}

#[derive(Debug)]
struct Source {
    path: PathBuf,
    data: SourceData,
    /// Length of the valid prefix of the file.
    end: u64,
}

#[derive(Debug)]
enum SourceData {
    Mapped(Arc<Mmap>),
    File(Arc<File>),
}

impl Iterator for TranslogIter {
    type Item = Result<Operation>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            let source = self.sources.front()?;
            if self.offset >= source.end {
                self.sources.pop_front();
                self.offset = GENERATION_HEADER_BYTES as u64;
                continue;
            }
            match source.read(self.offset, self.above_seq_no) {
                Ok((op, len)) => {
                    self.offset += len as u64;
                    if let Some(op) = op {
                        return Some(Ok(op));
                    }
                }
                Err(err) => {
                    self.failed = true;
                    return Some(Err(err));
                }
            }
        }
        None
    }
}

impl Source {
    /// Reads the record at `offset`: the operation if its seq_no is above `above_seq_no`, and
    /// its frame length.
    fn read(&self, offset: u64, above_seq_no: i64) -> Result<(Option<Operation>, usize)> {
        let corrupt = |err: RecordError| TranslogError::Corrupt {
            file: self.path.clone(),
            offset,
            reason: match err {
                RecordError::Incomplete { needed } => {
                    format!("record of {needed} bytes crosses the valid length {}", self.end)
                }
                other => other.to_string(),
            },
        };
        match &self.data {
            SourceData::Mapped(map) => {
                let bytes = &map[offset as usize..self.end as usize];
                let header = record::peek_header(bytes).map_err(corrupt)?;
                if header.seq_no <= above_seq_no {
                    return Ok((None, header.frame_len));
                }
                let (op, len) = record::decode(bytes).map_err(corrupt)?;
                Ok((Some(op), len))
            }
            SourceData::File(file) => {
                let available = self.end - offset;
                let mut head = [0u8; RECORD_FRAME_HEADER_BYTES];
                if available < head.len() as u64 {
                    return Err(corrupt(RecordError::Incomplete { needed: head.len() }));
                }
                file.read_exact_at(&mut head, offset).map_err(io_error(&self.path))?;
                let body_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
                if body_len > RECORD_BODY_BYTES_MAX {
                    return Err(corrupt(RecordError::Corrupt {
                        reason: format!("body length {body_len} exceeds {RECORD_BODY_BYTES_MAX}"),
                    }));
                }
                let frame_len = RECORD_FRAME_HEADER_BYTES + body_len;
                if available < frame_len as u64 {
                    return Err(corrupt(RecordError::Incomplete { needed: frame_len }));
                }
                let mut frame = vec![0u8; frame_len];
                file.read_exact_at(&mut frame, offset).map_err(io_error(&self.path))?;
                let frame = Bytes::from(frame);
                let (op, len) = record::decode_bytes(&frame).map_err(corrupt)?;
                Ok(((op.seq_no > above_seq_no).then_some(op), len))
            }
        }
    }
}
