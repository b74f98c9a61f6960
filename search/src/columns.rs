//! Opening `_kw` fast-field columns by type, shared by sorting and aggregations.
//!
//! This module must never interpret values; it only hands out typed column readers.

use tantivy::columnar::{Column, DynamicColumn, NumericalType};
use tantivy::SegmentReader;

/// The first numeric column named `column`, coerced to `target` (i64 columns read as f64 when
/// asked; f64 columns never read as i64).
pub(crate) fn numeric_column<T>(
    reader: &SegmentReader,
    column: &str,
    target: NumericalType,
) -> tantivy::Result<Option<Column<T>>>
where
    DynamicColumn: Into<Option<Column<T>>>,
{
    for handle in reader.fast_fields().dynamic_column_handles(column)? {
        let opened = handle.open()?;
        if opened.is_numerical() {
            if let Some(coerced) = opened.coerce_numerical(target) {
                return Ok(coerced.into());
            }
        }
    }
    Ok(None)
}
