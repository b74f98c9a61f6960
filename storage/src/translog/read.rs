//! The read paths: one record by location (real-time get), durable operations by seq_no range
//! (replication), and every operation in append order (crash replay).
//!
//! Sealed generations are read through their long-lived memory maps; the active generation by
//! positioned reads below what was written to it. It must never serve a record whose crc did
//! not verify, never read past a sealed generation's checkpointed length, and never allocate
//! per record in `read_ops` beyond the output buffer.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use memmap2::Mmap;

use super::error::io_error;
use super::generation::GENERATION_HEADER_BYTES;
use super::{DurableMark, Location, OpsBatch, ReadState, Result, Shared, TranslogError};
use crate::record::{
    self, Operation, RecordError, RECORD_BODY_BYTES_MAX, RECORD_FRAME_HEADER_BYTES,
};

impl Shared {
    pub(super) fn read(&self, location: Location) -> Result<Operation> {
        let not_found = || TranslogError::LocationNotFound { location };
        let len = location.len as usize;
        if !(RECORD_FRAME_HEADER_BYTES..=RECORD_FRAME_HEADER_BYTES + RECORD_BODY_BYTES_MAX)
            .contains(&len)
            || location.offset < GENERATION_HEADER_BYTES as u64
        {
            return Err(not_found());
        }
        {
            let writer = self.writer.lock();
            if location.generation == writer.generation {
                if location.offset >= writer.written {
                    let start = usize::try_from(location.offset - writer.written)
                        .map_err(|_| not_found())?;
                    let bytes = writer
                        .buffer
                        .get(start..start + len)
                        .ok_or_else(not_found)?;
                    return decode_at(&writer.path, location, bytes);
                }
                if location.end() > writer.written {
                    return Err(not_found());
                }
                let file = Arc::clone(&writer.file);
                let path = writer.path.clone();
                drop(writer);
                let mut bytes = vec![0u8; len];
                file.read_exact_at(&mut bytes, location.offset)
                    .map_err(io_error(&path))?;
                return decode_at(&path, location, &bytes);
            }
        }
        let state = self.state.read();
        let sealed = state
            .sealed
            .get(&location.generation)
            .ok_or_else(not_found)?;
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
        // Pick under the lock, copy outside it: appends take the state lock for writing, and
        // must not wait for a multi-megabyte copy.
        let (picks, sources) = {
            let state = self.state.read();
            if from_seq_no < state.history_min_seq_no {
                return Err(TranslogError::HistoryGone {
                    requested: from_seq_no,
                    available_from: state.history_min_seq_no,
                });
            }
            // Read once: a mark that moves on meanwhile only makes this batch shorter.
            let durable = *self.durable.lock();
            let picks = pick(&state, durable, from_seq_no, to_seq_no, ops_max, bytes_max)?;
            let sources = BatchSources::new(&state, &picks);
            (picks, sources)
        };
        let bytes: usize = picks
            .iter()
            .map(|(_, location)| location.len as usize)
            .sum();
        let mut out = Vec::with_capacity(bytes);
        for (seq_no, location) in &picks {
            sources.copy_record(*location, *seq_no, &mut out)?;
        }
        debug_assert_eq!(out.len(), bytes);
        Ok(OpsBatch {
            records: Bytes::from(out),
            ops: picks.len(),
            first_seq_no: from_seq_no,
            last_seq_no: from_seq_no + picks.len() as i64 - 1,
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

/// Chooses the records `read_ops` returns: consecutive seq_nos from `from_seq_no`, durable,
/// within the limits. Fails only when `from_seq_no` itself is missing but a later seq_no in
/// range is stored; a gap after it ends the batch, and the next call reports it.
fn pick(
    state: &ReadState,
    durable: DurableMark,
    from_seq_no: i64,
    to_seq_no: i64,
    ops_max: usize,
    bytes_max: usize,
) -> Result<Vec<(i64, Location)>> {
    let mut picks = Vec::new();
    if from_seq_no > to_seq_no || ops_max == 0 {
        return Ok(picks);
    }
    let mut bytes = 0usize;
    for (&seq_no, entry) in state.index.range(from_seq_no..=to_seq_no) {
        // Cannot overflow: the index holds a seq_no at or above it.
        let expected = from_seq_no + picks.len() as i64;
        if seq_no != expected {
            if picks.is_empty() {
                return Err(TranslogError::HistoryIncomplete {
                    missing_seq_no: expected,
                });
            }
            break;
        }
        let location = entry.location;
        if !durable.covers(location.generation, location.end()) {
            break;
        }
        let len = location.len as usize;
        if !picks.is_empty() && bytes + len > bytes_max {
            break;
        }
        picks.push((seq_no, location));
        bytes += len;
        if picks.len() == ops_max {
            break;
        }
    }
    Ok(picks)
}

/// The files one `read_ops` batch reads, held by reference count so the copy can run without
/// the state lock while rolls and trims go on.
struct BatchSources {
    sealed: BTreeMap<u64, (Arc<Mmap>, PathBuf, u64)>,
    active: Option<(u64, Arc<File>, PathBuf)>,
}

impl BatchSources {
    fn new(state: &ReadState, picks: &[(i64, Location)]) -> BatchSources {
        let mut sources = BatchSources {
            sealed: BTreeMap::new(),
            active: None,
        };
        for (_, location) in picks {
            let generation = location.generation;
            if let Some(sealed) = state.sealed.get(&generation) {
                sources.sealed.entry(generation).or_insert_with(|| {
                    (
                        Arc::clone(&sealed.map),
                        sealed.path.clone(),
                        sealed.summary.bytes,
                    )
                });
            } else if generation == state.active_generation && sources.active.is_none() {
                sources.active = Some((
                    generation,
                    Arc::clone(&state.active_file),
                    state.active_path.clone(),
                ));
            }
        }
        sources
    }

    /// Appends the record at `location` to `out` after checking it is a valid record of
    /// `seq_no` exactly `location.len` bytes long.
    fn copy_record(&self, location: Location, seq_no: i64, out: &mut Vec<u8>) -> Result<()> {
        let len = location.len as usize;
        let start = out.len();
        let path = if let Some((map, path, valid_bytes)) = self.sealed.get(&location.generation) {
            let bytes = (location.end() <= *valid_bytes)
                .then(|| map.get(location.offset as usize..location.end() as usize))
                .flatten()
                .ok_or(TranslogError::LocationNotFound { location })?;
            out.extend_from_slice(bytes);
            path
        } else if let Some((_, file, path)) = self
            .active
            .as_ref()
            .filter(|(generation, _, _)| *generation == location.generation)
        {
            out.resize(start + len, 0);
            file.read_exact_at(&mut out[start..], location.offset)
                .map_err(io_error(path))?;
            path
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
        return Err(corrupt(format!(
            "record is {used} bytes, location says {}",
            bytes.len()
        )));
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
                    format!(
                        "record of {needed} bytes crosses the valid length {}",
                        self.end
                    )
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
                file.read_exact_at(&mut head, offset)
                    .map_err(io_error(&self.path))?;
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
                file.read_exact_at(&mut frame, offset)
                    .map_err(io_error(&self.path))?;
                let frame = Bytes::from(frame);
                let (op, len) = record::decode_bytes(&frame).map_err(corrupt)?;
                Ok(((op.seq_no > above_seq_no).then_some(op), len))
            }
        }
    }
}
