//! Aggregation unit tests without an index: request parsing and its errors, date bucketing,
//! and shard merging with `shard_size` pruning.

use std::collections::BTreeMap;

use serde_json::json;

use super::collect::{date_bucket, next_date_bucket};
use super::merge::{AggValue, Bucket, Buckets, Key, ShardAggs};
use super::plan::ValueStyle;
use super::*;

fn parse(json: serde_json::Value) -> Vec<AggRequest> {
    parse_aggs(&json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

fn parse_error(json: serde_json::Value) -> String {
    parse_aggs(&json)
        .expect_err("aggregation should fail")
        .reason()
}

#[test]
fn every_supported_type_parses_with_defaults() {
    let aggs = parse(json!({
        "t": {"terms": {"field": "tag"}, "aggs": {"m": {"max": {"field": "n"}}}},
        "h": {"histogram": {"field": "n", "interval": 5}},
        "d": {"date_histogram": {"field": "at", "fixed_interval": "90m", "offset": "-1h"}},
        "c": {"date_histogram": {"field": "at", "calendar_interval": "quarter"}},
        "s": {"stats": {"field": "n"}}
    }));
    let AggKind::Terms(terms) = &aggs[0].kind else {
        panic!("terms expected")
    };
    assert_eq!(
        (terms.size, terms.min_doc_count, terms.order.clone()),
        (10, 1, BucketOrder::Count { descending: true })
    );
    assert_eq!(aggs[0].subs[0].name, "m");
    let AggKind::Histogram(histogram) = &aggs[1].kind else {
        panic!("histogram expected")
    };
    assert_eq!((histogram.interval, histogram.min_doc_count), (5.0, 0));
    let AggKind::DateHistogram(fixed) = &aggs[2].kind else {
        panic!("date_histogram expected")
    };
    assert_eq!(
        (fixed.interval, fixed.offset_millis),
        (DateInterval::Fixed(5_400_000), -3_600_000)
    );
    let AggKind::DateHistogram(calendar) = &aggs[3].kind else {
        panic!("date_histogram expected")
    };
    assert_eq!(
        calendar.interval,
        DateInterval::Calendar(CalendarUnit::Quarter)
    );
    assert!(matches!(
        aggs[4].kind,
        AggKind::Metric {
            metric: MetricKind::Stats,
            ..
        }
    ));
}

#[test]
fn malformed_aggregations_are_refused_with_opensearch_messages() {
    assert_eq!(
        parse_error(json!({"a": {"terms": {"field": "x"}, "max": {"field": "y"}}})),
        "Found two aggregation type definitions in [a]: [terms] and [max]"
    );
    assert_eq!(
        parse_error(json!({"a": {"min": {"field": "x"}, "aggs": {"b": {"max": {"field": "y"}}}}})),
        "Aggregator [a] of type [min] cannot accept sub-aggregations"
    );
    assert_eq!(
        parse_error(json!({"a": {"terms": {"field": "x", "size": 0}}})),
        "[size] must be greater than 0. Found [0] in [a]"
    );
    assert_eq!(
        parse_error(json!({"a": {"terms": {}}})),
        "Required one of fields [field, script], but none were specified."
    );
    assert_eq!(
        parse_error(json!({"a": {"terms": {"field": "x", "foo": 1}}})),
        "[terms] unknown field [foo]"
    );
    assert_eq!(
        parse_error(json!({"a": {"histogram": {"field": "x", "interval": 0}}})),
        "[interval] must be >0 for histogram aggregation [a]"
    );
    assert_eq!(parse_error(json!({"a>b": {"max": {"field": "x"}}})), "Invalid aggregation name [a>b]. Aggregation names can contain any character except '[', ']', and '>'");
    assert!(
        parse_error(json!({"a": {"date_histogram": {"field": "x", "fixed_interval": "1M"}}}))
            .contains("[date_histogram.fixedInterval] with value [1M]")
    );
    assert!(
        parse_error(json!({"a": {"date_histogram": {"field": "x"}}}))
            .starts_with("Required one of fields [fixed_interval, calendar_interval, interval]")
    );
    assert!(parse_error(json!({"a": {"date_histogram": {"field": "x", "interval": "1d", "time_zone": "Europe/Paris"}}})).contains("not supported"));
    assert_eq!(
        parse_error(json!({"a": {"terms": {"field": "x", "include": "a.*"}}})),
        "[terms] aggregation parameter [include] is not supported"
    );
}

#[test]
fn date_buckets_honour_offsets_and_zones() {
    let hour = 3_600_000;
    let day = 24 * hour;
    assert_eq!(date_bucket(day + 5, DateInterval::Fixed(day), 0, 0), day);
    assert_eq!(
        date_bucket(day + 5, DateInterval::Fixed(day), 6 * hour, 0),
        6 * hour
    );
    assert_eq!(
        date_bucket(
            day + 5,
            DateInterval::Calendar(CalendarUnit::Day),
            0,
            -2 * hour
        ),
        2 * hour
    );
    let feb = next_date_bucket(0, DateInterval::Calendar(CalendarUnit::Month), 0, 0);
    assert_eq!(feb, 31 * day);
}

fn terms_value(counts: &[(&str, u64)]) -> AggValue {
    let map: BTreeMap<Key, Bucket> = counts
        .iter()
        .map(|(key, count)| {
            (
                Key::Str((*key).into()),
                Bucket {
                    doc_count: *count,
                    subs: Vec::new(),
                },
            )
        })
        .collect();
    AggValue::Buckets(Buckets {
        map,
        other_doc_count: 0,
        error_upper_bound: 0,
        style: ValueStyle::Keyword,
    })
}

#[test]
fn shard_pruning_keeps_the_best_buckets_and_bounds_the_error() {
    let requests = parse(json!({"t": {"terms": {"field": "tag", "size": 1, "shard_size": 2}}}));
    let mut shard = ShardAggs {
        values: vec![terms_value(&[("a", 5), ("b", 4), ("c", 3), ("d", 1)])],
    };
    shard.prune_for_merge(&requests);
    let AggValue::Buckets(buckets) = &shard.values[0] else {
        panic!("buckets expected")
    };
    assert_eq!(
        buckets.map.keys().cloned().collect::<Vec<_>>(),
        vec![Key::Str("a".into()), Key::Str("b".into())]
    );
    assert_eq!((buckets.other_doc_count, buckets.error_upper_bound), (4, 4));
    let mut merged = shard.values.remove(0);
    merged.merge(terms_value(&[("b", 2), ("e", 7)]));
    let AggValue::Buckets(merged) = merged else {
        panic!("buckets expected")
    };
    assert_eq!(
        merged.map.get(&Key::Str("b".into())).map(|b| b.doc_count),
        Some(6)
    );
    assert_eq!(merged.map.len(), 3);
}
