//! Fuzz target: arbitrary bytes into the record codec (`decode`, `decode_bytes`, `peek_header`)
//! and into `RecordBatch`. Must never panic or allocate from an unchecked length; a decoded
//! record must re-encode to exactly the bytes it was decoded from (the encoding is canonical),
//! and the three entry points must agree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_storage::record::{self, RecordBatch, RecordError};

fuzz_target!(|data: &[u8]| {
    // `Bytes` through `into()`, so the fuzz crate needs no direct dependency on `bytes`.
    let shared = data.to_vec().into();
    let copied = record::decode(data);
    let sliced = record::decode_bytes(&shared);
    let header = record::peek_header(data);
    match (&copied, &sliced, &header) {
        (Ok((op, used)), Ok((op2, used2)), Ok(header)) => {
            assert_eq!(op, op2, "decode and decode_bytes agree");
            assert_eq!(used, used2);
            assert_eq!(*used, header.frame_len);
            assert_eq!(header.seq_no, op.seq_no);
            assert_eq!(header.primary_term, op.primary_term);
            assert_eq!(header.op_type, op.op_type);
            assert_eq!(record::encoded_len(op), *used);
            let mut again = Vec::new();
            record::encode(op, &mut again).expect("a decoded operation is valid");
            assert_eq!(again.as_slice(), &data[..*used], "encoding is canonical");
        }
        (Err(a), Err(b), Err(c)) => {
            assert_eq!(a, b, "decode and decode_bytes fail alike");
            assert_eq!(a, c, "decode and peek_header fail alike");
            if let RecordError::Incomplete { needed } = a {
                assert!(*needed > data.len(), "incomplete asks for more than it has");
            }
        }
        _ => panic!("entry points disagree: {copied:?} / {sliced:?} / {header:?}"),
    }
    if let Ok(batch) = RecordBatch::new(shared.clone()) {
        let ops: Vec<_> = batch.iter().collect();
        assert_eq!(ops.len(), batch.count());
        assert!(ops.iter().all(Result::is_ok), "a checked batch decodes");
        let seq_nos: Vec<i64> = ops.iter().flatten().map(|op| op.seq_no).collect();
        assert_eq!(seq_nos.first().copied(), batch.first_seq_no());
        assert_eq!(seq_nos.last().copied(), batch.last_seq_no());
    }
});
