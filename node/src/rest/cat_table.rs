//! `_cat` table rendering: column selection (`h`, with aliases and `*`), sorting (`s`), and
//! output as aligned text (`v` adds the header) or JSON (`format=json`, `Accept: json`).
//!
//! It owns layout only. It must never compute the values it lays out.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::cat_columns::{Column, RIGHT_ALIGNED};
use super::{RestBody, RestRequest, RestResponse};
use crate::error::{NodeError, NodeResult};

/// One row: column name to cell (`None` prints blank).
pub(super) type Row = BTreeMap<&'static str, Option<String>>;

/// Picks columns from `h` (names or aliases, `*` wildcards) or the defaults.
fn selected(request: &RestRequest, columns: &'static [Column]) -> Vec<(String, &'static str)> {
    let wanted = request.params.list("h");
    if wanted.is_empty() {
        return columns
            .iter()
            .filter(|c| c.default)
            .map(|c| (c.name.to_string(), c.name))
            .collect();
    }
    let mut out = Vec::new();
    for name in wanted {
        for column in columns {
            let hit = crate::indices::names::glob_match(&name, column.name)
                || column.aliases.contains(&name.as_str());
            if hit {
                let shown = if name.contains('*') {
                    column.name.to_string()
                } else {
                    name.clone()
                };
                out.push((shown, column.name));
            }
        }
    }
    out
}

pub(super) fn render(
    request: &RestRequest,
    columns: &'static [Column],
    mut rows: Vec<Row>,
) -> NodeResult<RestResponse> {
    let picked = selected(request, columns);
    for key in request.params.list("s").iter().rev() {
        let (name, descending) = match key.split_once(':') {
            Some((name, order)) => (name.to_string(), order == "desc"),
            None => (key.clone(), false),
        };
        let Some(column) = columns
            .iter()
            .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
        else {
            return Err(NodeError::Unsupported(format!(
                "Unable to sort by unknown sort key `{name}`"
            )));
        };
        rows.sort_by(|a, b| {
            let (left, right) = (
                a.get(column.name).cloned().flatten(),
                b.get(column.name).cloned().flatten(),
            );
            let ordering = match (
                left.as_deref().and_then(|l| l.parse::<f64>().ok()),
                right.as_deref().and_then(|r| r.parse::<f64>().ok()),
            ) {
                (Some(l), Some(r)) => l.partial_cmp(&r).unwrap_or(std::cmp::Ordering::Equal),
                _ => left.cmp(&right),
            };
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    let json = request.params.str("format") == Some("json")
        || (request.accept_json && request.params.str("format").is_none());
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|row| {
                Value::Object(
                    picked
                        .iter()
                        .map(|(shown, name)| {
                            (
                                shown.clone(),
                                row.get(name)
                                    .cloned()
                                    .flatten()
                                    .map_or(Value::Null, Value::String),
                            )
                        })
                        .collect::<Map<String, Value>>(),
                )
            })
            .collect();
        return Ok(RestResponse::ok(Value::Array(list)));
    }
    let verbose = request.params.bool("v", false)?;
    let mut table: Vec<Vec<String>> = Vec::new();
    if verbose {
        table.push(picked.iter().map(|(shown, _)| shown.clone()).collect());
    }
    for row in &rows {
        table.push(
            picked
                .iter()
                .map(|(_, name)| row.get(name).cloned().flatten().unwrap_or_default())
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..picked.len())
        .map(|column| {
            table
                .iter()
                .map(|line| line[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right: Vec<bool> = picked
        .iter()
        .map(|(_, name)| RIGHT_ALIGNED.contains(name))
        .collect();
    let mut text = String::new();
    for line in table {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .zip(&right)
            .map(|((cell, width), right)| {
                if *right {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        text.push_str(&cells.join(" "));
        text.push('\n');
    }
    Ok(RestResponse {
        status: axum::http::StatusCode::OK,
        body: RestBody::Text(text),
    })
}
