//! A constant-score range query over one `_kw` fast-field column.
//!
//! tantivy's own `RangeQuery` names the column from the term's raw JSON path, which loses the
//! escaping a dotted key needs, so ranges on `user.age` or `title.keyword` found nothing. This
//! query resolves the column by its escaped name instead and scans it with the columnar
//! crate's range search. Bounds arrive inclusive and already converted to the column's type;
//! dates compare at millisecond precision (the column keeps nanoseconds; the inverted index
//! would truncate to seconds). This module must never convert user values.

use std::ops::RangeInclusive;

use tantivy::columnar::{Column, DynamicColumn, NumericalType};
use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{BitSet, DateTime, DocId, DocSet, Score, SegmentReader, TantivyError};

/// Inclusive bounds in a column's value type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColumnRange {
    I64(RangeInclusive<i64>),
    F64(RangeInclusive<f64>),
    /// Epoch millis.
    Date(RangeInclusive<i64>),
    Bool(RangeInclusive<bool>),
}

/// Documents with at least one value of the column inside the range.
#[derive(Debug, Clone)]
pub(crate) struct FastRangeQuery {
    column: String,
    range: ColumnRange,
}

impl FastRangeQuery {
    pub(crate) fn new(column: String, range: ColumnRange) -> FastRangeQuery {
        FastRangeQuery { column, range }
    }
}

impl Query for FastRangeQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

const NANOS_PER_MILLI: i64 = 1_000_000;

impl FastRangeQuery {
    fn matching_docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let max_doc = reader.max_doc();
        let mut bitset = BitSet::with_max_value(max_doc);
        let mut docs: Vec<DocId> = Vec::new();
        for handle in reader.fast_fields().dynamic_column_handles(&self.column)? {
            let column = handle.open()?;
            docs.clear();
            match &self.range {
                ColumnRange::I64(range) => {
                    if let Some(column) = numeric::<i64>(column, NumericalType::I64) {
                        column.get_docids_for_value_range(range.clone(), 0..max_doc, &mut docs);
                    }
                }
                ColumnRange::F64(range) => {
                    if let Some(column) = numeric::<f64>(column, NumericalType::F64) {
                        column.get_docids_for_value_range(range.clone(), 0..max_doc, &mut docs);
                    }
                }
                ColumnRange::Date(range) => {
                    let column: Option<Column<DateTime>> = column.into();
                    if let Some(column) = column {
                        let low = DateTime::from_timestamp_nanos(
                            range.start().saturating_mul(NANOS_PER_MILLI),
                        );
                        let high = DateTime::from_timestamp_nanos(
                            range
                                .end()
                                .saturating_mul(NANOS_PER_MILLI)
                                .saturating_add(NANOS_PER_MILLI - 1),
                        );
                        column.get_docids_for_value_range(low..=high, 0..max_doc, &mut docs);
                    }
                }
                ColumnRange::Bool(range) => {
                    let column: Option<Column<bool>> = column.into();
                    if let Some(column) = column {
                        column.get_docids_for_value_range(range.clone(), 0..max_doc, &mut docs);
                    }
                }
            }
            // A multi-valued document may be reported once per matching value.
            for doc in &docs {
                bitset.insert(*doc);
            }
        }
        Ok(bitset)
    }
}

/// The column as `T` when it is numeric (coercing i64 to f64 where asked).
fn numeric<T>(column: DynamicColumn, target: NumericalType) -> Option<Column<T>>
where
    DynamicColumn: Into<Option<Column<T>>>,
{
    if !column.is_numerical() {
        return None;
    }
    column.coerce_numerical(target)?.into()
}

impl Weight for FastRangeQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = BitSetDocSet::from(self.matching_docs(reader)?);
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("FastRangeQuery", scorer.score()))
    }
}
