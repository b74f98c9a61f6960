//! Primitive field codec shared by every message: fixed-width big-endian integers, booleans,
//! length-prefixed strings and byte blobs, list counts.
//!
//! The reader checks each length against its named limit and against the bytes left before it
//! allocates or slices, and never panics on short input. Large blobs are sliced out of the
//! frame body without copying, and written as separate chunks without copying, so an operation
//! batch crosses this crate by reference only. This module knows nothing of message kinds.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::WireError;

/// Blobs at least this long are kept as their own chunk when encoding instead of being copied
/// into the body buffer; below it a copy is cheaper than an extra chunk.
const SHARED_BLOB_BYTES_MIN: usize = 4096;

/// Builds a message body as a list of chunks, copying small fields and sharing large blobs.
#[derive(Debug, Default)]
pub(crate) struct BodyWriter {
    chunks: Vec<Bytes>,
    current: BytesMut,
    len: u64,
}

impl BodyWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.current.put_u8(value);
        self.len += 1;
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.current.put_u16(value);
        self.len += 2;
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.current.put_u32(value);
        self.len += 4;
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.current.put_u64(value);
        self.len += 8;
    }

    pub(crate) fn i64(&mut self, value: i64) {
        self.current.put_i64(value);
        self.len += 8;
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    /// A UTF-8 string with a u16 length prefix.
    pub(crate) fn str(
        &mut self,
        field: &'static str,
        value: &str,
        max: usize,
    ) -> Result<(), WireError> {
        debug_assert!(
            max <= usize::from(u16::MAX),
            "string limits fit a u16 prefix"
        );
        check_len(field, value.len(), max)?;
        let len = u16::try_from(value.len()).map_err(|_| too_long(field, value.len(), max))?;
        self.u16(len);
        self.current.put_slice(value.as_bytes());
        self.len += u64::from(len);
        Ok(())
    }

    /// A byte blob with a u32 length prefix; large blobs are shared, not copied.
    pub(crate) fn blob(
        &mut self,
        field: &'static str,
        value: &Bytes,
        max: u32,
    ) -> Result<(), WireError> {
        check_len(field, value.len(), max as usize)?;
        let len =
            u32::try_from(value.len()).map_err(|_| too_long(field, value.len(), max as usize))?;
        self.u32(len);
        if value.len() >= SHARED_BLOB_BYTES_MIN {
            self.flush_current();
            self.chunks.push(value.clone());
        } else {
            self.current.put_slice(value);
        }
        self.len += u64::from(len);
        Ok(())
    }

    /// A list length with a u32 prefix.
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        count: usize,
        max: u32,
    ) -> Result<(), WireError> {
        let Ok(count_u32) = u32::try_from(count) else {
            return Err(too_many(field, count as u64, max));
        };
        if count_u32 > max {
            return Err(too_many(field, u64::from(count_u32), max));
        }
        self.u32(count_u32);
        Ok(())
    }

    /// Presence tag of an optional field: 0 absent, 1 present.
    pub(crate) fn option_tag(&mut self, present: bool) {
        self.u8(u8::from(present));
    }

    /// The body as chunks, and its total length.
    pub(crate) fn finish(mut self) -> (Vec<Bytes>, u64) {
        self.flush_current();
        debug_assert_eq!(
            self.chunks.iter().map(|c| c.len() as u64).sum::<u64>(),
            self.len
        );
        (self.chunks, self.len)
    }

    fn flush_current(&mut self) {
        if !self.current.is_empty() {
            self.chunks.push(self.current.split().freeze());
        }
    }
}

/// Reads fields off a message body, slicing blobs out of it without copying.
#[derive(Debug)]
pub(crate) struct BodyReader {
    rest: Bytes,
}

impl BodyReader {
    pub(crate) fn new(body: Bytes) -> Self {
        Self { rest: body }
    }

    fn need(&self, field: &'static str, len: usize) -> Result<(), WireError> {
        if self.rest.remaining() < len {
            return Err(WireError::Truncated { field });
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        self.need(field, 1)?;
        Ok(self.rest.get_u8())
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        self.need(field, 2)?;
        Ok(self.rest.get_u16())
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        self.need(field, 4)?;
        Ok(self.rest.get_u32())
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        self.need(field, 8)?;
        Ok(self.rest.get_u64())
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, WireError> {
        self.need(field, 8)?;
        Ok(self.rest.get_i64())
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, WireError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(WireError::UnknownTag {
                field,
                tag: u16::from(tag),
            }),
        }
    }

    /// A UTF-8 string with a u16 length prefix, checked against `max` before allocating.
    pub(crate) fn str(&mut self, field: &'static str, max: usize) -> Result<String, WireError> {
        let len = usize::from(self.u16(field)?);
        check_len(field, len, max)?;
        self.need(field, len)?;
        let text =
            std::str::from_utf8(&self.rest[..len]).map_err(|_| WireError::InvalidUtf8 { field })?;
        let owned = text.to_owned();
        self.rest.advance(len);
        Ok(owned)
    }

    /// A byte blob with a u32 length prefix, sliced out of the body without copying.
    pub(crate) fn blob(&mut self, field: &'static str, max: u32) -> Result<Bytes, WireError> {
        let len = self.u32(field)? as usize;
        check_len(field, len, max as usize)?;
        self.need(field, len)?;
        Ok(self.rest.split_to(len))
    }

    /// A list length, checked against `max` and against the bytes left (each item takes at
    /// least `item_bytes_min`), so a caller may reserve `count` items safely.
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        max: u32,
        item_bytes_min: usize,
    ) -> Result<usize, WireError> {
        debug_assert!(
            item_bytes_min > 0,
            "every list item takes at least one byte"
        );
        let count = self.u32(field)?;
        if count > max {
            return Err(too_many(field, u64::from(count), max));
        }
        let count = count as usize;
        if count.saturating_mul(item_bytes_min) > self.rest.remaining() {
            return Err(WireError::Truncated { field });
        }
        Ok(count)
    }

    /// Presence tag of an optional field.
    pub(crate) fn option_tag(&mut self, field: &'static str) -> Result<bool, WireError> {
        self.bool(field)
    }

    /// Ends the read: any byte left over is a protocol error.
    pub(crate) fn finish(self, kind: &'static str) -> Result<(), WireError> {
        if self.rest.has_remaining() {
            return Err(WireError::TrailingBytes {
                kind,
                count: self.rest.remaining(),
            });
        }
        Ok(())
    }
}

fn check_len(field: &'static str, len: usize, max: usize) -> Result<(), WireError> {
    if len > max {
        return Err(too_long(field, len, max));
    }
    Ok(())
}

fn too_long(field: &'static str, len: usize, max: usize) -> WireError {
    WireError::FieldTooLong {
        field,
        len: len as u64,
        max: max as u64,
    }
}

fn too_many(field: &'static str, count: u64, max: u32) -> WireError {
    WireError::TooManyItems {
        field,
        count,
        max: u64::from(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(writer: BodyWriter) -> Bytes {
        let (chunks, len) = writer.finish();
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(joined.len() as u64, len);
        Bytes::from(joined)
    }

    #[test]
    fn primitives_round_trip() {
        let mut writer = BodyWriter::new();
        writer.u8(7);
        writer.u16(0xBEEF);
        writer.u32(0xDEAD_BEEF);
        writer.u64(u64::MAX - 1);
        writer.i64(-1);
        writer.bool(true);
        writer.str("name", "héllo", 16).unwrap();
        let big = Bytes::from(vec![9u8; SHARED_BLOB_BYTES_MIN + 1]);
        writer.blob("big", &big, u32::MAX).unwrap();
        writer
            .blob("small", &Bytes::from_static(b"abc"), 16)
            .unwrap();
        let mut reader = BodyReader::new(written(writer));
        assert_eq!(reader.u8("a").unwrap(), 7);
        assert_eq!(reader.u16("b").unwrap(), 0xBEEF);
        assert_eq!(reader.u32("c").unwrap(), 0xDEAD_BEEF);
        assert_eq!(reader.u64("d").unwrap(), u64::MAX - 1);
        assert_eq!(reader.i64("e").unwrap(), -1);
        assert!(reader.bool("f").unwrap());
        assert_eq!(reader.str("name", 16).unwrap(), "héllo");
        assert_eq!(reader.blob("big", u32::MAX).unwrap(), big);
        assert_eq!(
            reader.blob("small", 16).unwrap(),
            Bytes::from_static(b"abc")
        );
        reader.finish("test").unwrap();
    }

    #[test]
    fn large_blob_is_shared_not_copied() {
        let big = Bytes::from(vec![1u8; SHARED_BLOB_BYTES_MIN]);
        let mut writer = BodyWriter::new();
        writer.u8(1);
        writer.blob("ops", &big, u32::MAX).unwrap();
        let (chunks, _) = writer.finish();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].as_ptr(), big.as_ptr());
    }

    #[test]
    fn string_over_limit_is_refused_on_both_sides() {
        let mut writer = BodyWriter::new();
        assert!(matches!(
            writer.str("n", "abcd", 3),
            Err(WireError::FieldTooLong { .. })
        ));
        let mut raw = BytesMut::new();
        raw.put_u16(4);
        raw.put_slice(b"abcd");
        let mut reader = BodyReader::new(raw.freeze());
        assert!(matches!(
            reader.str("n", 3),
            Err(WireError::FieldTooLong { .. })
        ));
    }

    #[test]
    fn length_beyond_the_body_is_truncated_not_allocated() {
        let mut raw = BytesMut::new();
        raw.put_u32(u32::MAX);
        let mut reader = BodyReader::new(raw.clone().freeze());
        assert_eq!(
            reader.blob("ops", u32::MAX),
            Err(WireError::Truncated { field: "ops" })
        );
        let mut reader = BodyReader::new(raw.freeze());
        assert_eq!(
            reader.count("files", u32::MAX, 1),
            Err(WireError::Truncated { field: "files" })
        );
    }

    #[test]
    fn bad_bool_tag_and_bad_utf8_are_typed() {
        let mut reader = BodyReader::new(Bytes::from_static(&[2]));
        assert_eq!(
            reader.bool("flag"),
            Err(WireError::UnknownTag {
                field: "flag",
                tag: 2
            })
        );
        let mut reader = BodyReader::new(Bytes::from_static(&[0, 2, 0xff, 0xfe]));
        assert_eq!(
            reader.str("name", 8),
            Err(WireError::InvalidUtf8 { field: "name" })
        );
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let reader = BodyReader::new(Bytes::from_static(&[0]));
        assert_eq!(
            reader.finish("ack"),
            Err(WireError::TrailingBytes {
                kind: "ack",
                count: 1
            })
        );
    }
}
