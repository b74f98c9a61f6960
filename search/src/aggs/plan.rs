//! Binding aggregation requests to one shard's mapping: which `_kw` column each field reads,
//! as which value type, and whether the aggregation applies to that type at all.
//!
//! Failures here are shard failures with OpenSearch's messages (text fields have no field
//! data; a keyword has no average). An unmapped field aggregates nothing. This module must
//! never open a column.

use tandem_storage::mapping::{FieldMapping, Mapping};

use super::{AggKind, AggRequest, MetricKind};
use crate::compile::{column_name, FieldKind};
use crate::error::FailureCause;

/// How a field's values are read and how keys print.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueStyle {
    /// No values on this shard.
    Unmapped,
    /// Strings, from a dictionary column.
    Keyword,
    /// Whole numbers.
    Long,
    /// Floating point numbers.
    Double,
    /// Booleans: key 0/1, `key_as_string` `false`/`true`.
    Boolean,
    /// Dates as epoch millis, printed with this format.
    Date { format: String },
}

/// Where an aggregation reads its values on this shard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Source {
    pub(crate) column: String,
    pub(crate) style: ValueStyle,
}

/// One aggregation bound to this shard.
#[derive(Debug, Clone)]
pub(crate) struct PlanNode {
    pub(crate) source: Source,
    pub(crate) request: AggRequest,
    pub(crate) subs: Vec<PlanNode>,
}

/// The aggregations of a request bound to one shard.
#[derive(Debug, Clone, Default)]
pub(crate) struct AggPlan {
    pub(crate) nodes: Vec<PlanNode>,
}

/// Binds `requests` to `mapping`.
pub(crate) fn plan_aggs(
    requests: &[AggRequest],
    mapping: &Mapping,
) -> Result<AggPlan, FailureCause> {
    let nodes = requests
        .iter()
        .map(|request| plan_node(request, mapping))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AggPlan { nodes })
}

fn plan_node(request: &AggRequest, mapping: &Mapping) -> Result<PlanNode, FailureCause> {
    let field = match &request.kind {
        AggKind::Metric { field, .. } => field,
        AggKind::Terms(terms) => &terms.field,
        AggKind::Histogram(histogram) => &histogram.field,
        AggKind::DateHistogram(histogram) => &histogram.field,
    };
    let source = source(request, field, mapping)?;
    let subs = request
        .subs
        .iter()
        .map(|sub| plan_node(sub, mapping))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PlanNode {
        source,
        request: request.clone(),
        subs,
    })
}

fn type_name(request: &AggRequest) -> &'static str {
    match &request.kind {
        AggKind::Metric { metric, .. } => metric.name(),
        AggKind::Terms(_) => "terms",
        AggKind::Histogram(_) => "histogram",
        AggKind::DateHistogram(_) => "date_histogram",
    }
}

fn source(request: &AggRequest, path: &str, mapping: &Mapping) -> Result<Source, FailureCause> {
    let column = column_name(path);
    let Some(field) = mapping.field(path) else {
        return Ok(Source {
            column,
            style: ValueStyle::Unmapped,
        });
    };
    let unsupported = || {
        FailureCause::illegal_argument(format!(
            "Field [{path}] of type [{}] is not supported for aggregation [{}]",
            field.field_type.name(),
            type_name(request)
        ))
    };
    if FieldKind::of(field) == FieldKind::Text {
        return Err(FailureCause::text_field_data(path));
    }
    let style = style_of(field);
    let allowed = match (&request.kind, &style) {
        (_, ValueStyle::Unmapped) => true,
        (AggKind::Terms(_), _) => true,
        (
            AggKind::Metric {
                metric: MetricKind::ValueCount,
                ..
            },
            _,
        ) => true,
        (AggKind::Metric { .. }, style) => *style != ValueStyle::Keyword,
        (AggKind::Histogram(_), style) => matches!(style, ValueStyle::Long | ValueStyle::Double),
        (AggKind::DateHistogram(_), style) => {
            matches!(style, ValueStyle::Date { .. } | ValueStyle::Long)
        }
    };
    if !allowed {
        return Err(unsupported());
    }
    Ok(Source { column, style })
}

/// How a mapped field's column reads: `index: false` fields and objects have no column.
pub(crate) fn style_of(field: &FieldMapping) -> ValueStyle {
    if !field.index {
        // Storage indexes nothing (no column either) for `index: false` fields.
        return ValueStyle::Unmapped;
    }
    match FieldKind::of(field) {
        FieldKind::Object | FieldKind::Text => ValueStyle::Unmapped,
        FieldKind::Keyword => ValueStyle::Keyword,
        FieldKind::Integer { .. } => ValueStyle::Long,
        FieldKind::Float => ValueStyle::Double,
        FieldKind::Boolean => ValueStyle::Boolean,
        FieldKind::Date(format) => ValueStyle::Date {
            format: format.as_str().to_string(),
        },
    }
}
