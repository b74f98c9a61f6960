//! Every query type against a real shard: text vs keyword semantics, numbers, dates, booleans,
//! dotted object paths, multi-fields, scoring rules and query-time errors.

use serde_json::{json, Value};

use super::{ids, sorted, strings, Cluster};

fn mapping() -> Value {
    json!({"properties": {
        "title": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "body": {"type": "text"},
        "tag": {"type": "keyword"},
        "count": {"type": "integer"},
        "price": {"type": "double"},
        "active": {"type": "boolean"},
        "date": {"type": "date"},
        "user": {"properties": {"name": {"type": "keyword"}, "age": {"type": "long"}}}
    }})
}

fn cluster() -> Cluster {
    Cluster::single(
        mapping(),
        &[
            (
                "1",
                json!({"title": "The Quick Brown Fox", "body": "jumps over the lazy dog", "tag": "animal", "count": 5, "price": 10.5, "active": true, "date": "2024-01-01T10:00:00Z", "user": {"name": "alice", "age": 30}}),
            ),
            (
                "2",
                json!({"title": "Quick brown dogs", "body": "the dog sleeps", "tag": ["animal", "pet"], "count": 10, "price": 20.0, "active": false, "date": "2024-01-02", "user": {"name": "bob", "age": 40}}),
            ),
            (
                "3",
                json!({"title": "Lazy cats", "body": "cats sleep all day", "tag": "pet", "count": 15, "price": 5.25, "active": true, "date": "2024-01-05T23:59:59.999Z", "user": {"name": "carol", "age": 25}}),
            ),
            (
                "4",
                json!({"title": "Slow turtle", "tag": "reptile", "count": 20}),
            ),
        ],
    )
}

fn check(cluster: &Cluster, query: Value, expected: &[&str]) {
    let found = sorted(cluster.ids(query.clone()));
    assert_eq!(found, strings(expected), "query {query}");
}

fn scores(cluster: &Cluster, query: Value) -> Vec<f64> {
    let body = cluster.search(json!({"query": query}));
    body["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["_score"].as_f64().expect("score"))
        .collect()
}

#[test]
fn match_analyses_text_and_keeps_keywords_whole() {
    let c = cluster();
    check(&c, json!({"match": {"title": "QUICK"}}), &["1", "2"]);
    check(
        &c,
        json!({"match": {"title": {"query": "quick fox", "operator": "and"}}}),
        &["1"],
    );
    check(
        &c,
        json!({"match": {"title": {"query": "quick fox turtle", "minimum_should_match": 2}}}),
        &["1"],
    );
    check(&c, json!({"match": {"tag": "animal"}}), &["1", "2"]);
    check(&c, json!({"match": {"title.keyword": "Lazy cats"}}), &["3"]);
    check(&c, json!({"match": {"title.keyword": "lazy cats"}}), &[]);
    check(&c, json!({"match": {"title": "!!!"}}), &[]);
    check(
        &c,
        json!({"match": {"title": {"query": "!!!", "zero_terms_query": "all"}}}),
        &["1", "2", "3", "4"],
    );
    check(&c, json!({"match": {"count": "10"}}), &["2"]);
    check(&c, json!({"match": {"user.name": "bob"}}), &["2"]);
    check(&c, json!({"match": {"nope": "x"}}), &[]);
}

#[test]
fn match_on_a_number_with_text_fails_unless_lenient() {
    let c = cluster();
    let error = c.search_error(json!({"query": {"match": {"count": "abc"}}}));
    let body = error.to_json();
    assert_eq!(body["status"], 400);
    assert_eq!(body["error"]["type"], "search_phase_execution_exception");
    assert_eq!(
        body["error"]["root_cause"][0]["type"],
        "query_shard_exception"
    );
    assert_eq!(
        body["error"]["root_cause"][0]["reason"],
        "failed to create query: For input string: \"abc\""
    );
    check(
        &c,
        json!({"match": {"count": {"query": "abc", "lenient": true}}}),
        &[],
    );
}

#[test]
fn match_phrase_needs_order_and_adjacency_unless_slop() {
    let c = cluster();
    check(
        &c,
        json!({"match_phrase": {"title": "quick brown"}}),
        &["1", "2"],
    );
    check(&c, json!({"match_phrase": {"title": "brown quick"}}), &[]);
    check(&c, json!({"match_phrase": {"title": "quick fox"}}), &[]);
    check(
        &c,
        json!({"match_phrase": {"title": {"query": "quick fox", "slop": 1}}}),
        &["1"],
    );
}

#[test]
fn multi_match_combines_fields_and_boosts() {
    let c = cluster();
    check(
        &c,
        json!({"multi_match": {"query": "lazy", "fields": ["title", "body"]}}),
        &["1", "3"],
    );
    let boosted = c.ids(json!({"multi_match": {"query": "lazy", "fields": ["title^10", "body"]}}));
    assert_eq!(boosted.first().map(String::as_str), Some("3"));
    check(
        &c,
        json!({"multi_match": {"query": "sleep", "fields": ["b*"], "type": "most_fields"}}),
        &["3"],
    );
    check(
        &c,
        json!({"multi_match": {"query": "the dog", "fields": ["body"], "type": "phrase"}}),
        &["2"],
    );
    check(
        &c,
        json!({"multi_match": {"query": "pet", "lenient": true}}),
        &["2", "3"],
    );
}

#[test]
fn term_is_exact_and_never_analysed() {
    let c = cluster();
    check(&c, json!({"term": {"tag": "pet"}}), &["2", "3"]);
    check(&c, json!({"term": {"title": "Quick"}}), &[]);
    check(&c, json!({"term": {"title": "quick"}}), &["1", "2"]);
    check(
        &c,
        json!({"term": {"title.keyword": "Slow turtle"}}),
        &["4"],
    );
    check(
        &c,
        json!({"term": {"tag": {"value": "PET", "case_insensitive": true}}}),
        &["2", "3"],
    );
    check(&c, json!({"term": {"count": 10}}), &["2"]);
    check(&c, json!({"term": {"count": "15"}}), &["3"]);
    check(&c, json!({"term": {"count": 10.5}}), &[]);
    check(&c, json!({"term": {"price": 20}}), &["2"]);
    check(&c, json!({"term": {"price": 10.5}}), &["1"]);
    check(&c, json!({"term": {"active": true}}), &["1", "3"]);
    check(&c, json!({"term": {"active": "false"}}), &["2"]);
    check(&c, json!({"term": {"date": "2024-01-02"}}), &["2"]);
    check(&c, json!({"term": {"date": "2024-01-01"}}), &["1"]);
    check(
        &c,
        json!({"term": {"date": "2024-01-01T10:00:00.001Z"}}),
        &[],
    );
    check(
        &c,
        json!({"term": {"date": "2024-01-05T23:59:59.999Z"}}),
        &["3"],
    );
    check(&c, json!({"term": {"user.age": 40}}), &["2"]);
}

#[test]
fn terms_matches_any_value_with_a_constant_score() {
    let c = cluster();
    check(
        &c,
        json!({"terms": {"tag": ["pet", "reptile"]}}),
        &["2", "3", "4"],
    );
    check(&c, json!({"terms": {"count": [5, "20", 7]}}), &["1", "4"]);
    check(
        &c,
        json!({"terms": {"date": ["2024-01-02", "2024-01-01T10:00:00Z"]}}),
        &["1", "2"],
    );
    check(
        &c,
        json!({"terms": {"title": ["fox", "turtle"]}}),
        &["1", "4"],
    );
    assert_eq!(
        scores(&c, json!({"terms": {"tag": ["pet"], "boost": 2.5}})),
        vec![2.5, 2.5]
    );
}

#[test]
fn range_covers_numbers_keywords_and_dotted_paths() {
    let c = cluster();
    check(
        &c,
        json!({"range": {"count": {"gte": 10, "lt": 20}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"range": {"count": {"gt": 5.5}}}),
        &["2", "3", "4"],
    );
    check(&c, json!({"range": {"count": {"lte": "10"}}}), &["1", "2"]);
    check(&c, json!({"range": {"price": {"lt": 10.5}}}), &["3"]);
    check(&c, json!({"range": {"price": {"gt": 10.5}}}), &["2"]);
    check(&c, json!({"range": {"user.age": {"gte": 30}}}), &["1", "2"]);
    check(
        &c,
        json!({"range": {"tag": {"gte": "b", "lt": "q"}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"range": {"title.keyword": {"gte": "S"}}}),
        &["1", "4"],
    );
    check(&c, json!({"range": {"active": {"gt": false}}}), &["1", "3"]);
    check(&c, json!({"range": {"count": {"gt": 100}}}), &[]);
    check(
        &c,
        json!({"range": {"count": {"from": 5, "to": 10, "include_lower": false}}}),
        &["2"],
    );
}

#[test]
fn date_ranges_round_like_opensearch() {
    let c = cluster();
    check(
        &c,
        json!({"range": {"date": {"gte": "2024-01-02", "lte": "2024-01-05"}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"range": {"date": {"gt": "2024-01-01"}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"range": {"date": {"gte": "2024-01-01", "lt": "2024-01-02"}}}),
        &["1"],
    );
    check(&c, json!({"range": {"date": {"gte": "now-7d/d"}}}), &["3"]);
    check(
        &c,
        json!({"range": {"date": {"gte": "02/01/2024", "format": "dd/MM/yyyy"}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"range": {"date": {"lt": 1704153600000i64}}}),
        &["1"],
    );
    check(
        &c,
        json!({"range": {"date": {"gte": "2024-01-01T11:00:00", "time_zone": "+01:00", "lt": "2024-01-02"}}}),
        &["1"],
    );
    let error = c.search_error(json!({"query": {"range": {"date": {"gte": "yesterday"}}}}));
    assert_eq!(
        error.to_json()["error"]["root_cause"][0]["type"],
        "parse_exception"
    );
}

#[test]
fn exists_ids_prefix_and_wildcard() {
    let c = cluster();
    check(&c, json!({"exists": {"field": "price"}}), &["1", "2", "3"]);
    check(&c, json!({"exists": {"field": "user"}}), &["1", "2", "3"]);
    check(
        &c,
        json!({"exists": {"field": "title.keyword"}}),
        &["1", "2", "3", "4"],
    );
    check(&c, json!({"exists": {"field": "nope"}}), &[]);
    check(&c, json!({"ids": {"values": ["1", "3", "9"]}}), &["1", "3"]);
    check(&c, json!({"prefix": {"tag": "re"}}), &["4"]);
    check(&c, json!({"prefix": {"title.keyword": "Quick"}}), &["2"]);
    check(&c, json!({"prefix": {"title": "QUI"}}), &["1", "2"]);
    check(
        &c,
        json!({"prefix": {"tag": {"value": "PE", "case_insensitive": true}}}),
        &["2", "3"],
    );
    check(&c, json!({"wildcard": {"tag": "*et"}}), &["2", "3"]);
    check(&c, json!({"wildcard": {"tag": "an?mal"}}), &["1", "2"]);
    check(&c, json!({"wildcard": {"title": "l*y"}}), &["3"]);
    let error = c.search_error(json!({"query": {"prefix": {"count": "1"}}}));
    assert!(error.to_json()["error"]["root_cause"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .starts_with("Can only use prefix queries on keyword and text fields"));
}

#[test]
fn bool_follows_opensearch_clause_rules() {
    let c = cluster();
    check(
        &c,
        json!({"bool": {"must": {"match": {"title": "quick"}}, "filter": {"range": {"count": {"gte": 10}}}}}),
        &["2"],
    );
    check(
        &c,
        json!({"bool": {"should": [{"term": {"tag": "reptile"}}, {"term": {"count": 5}}]}}),
        &["1", "4"],
    );
    check(
        &c,
        json!({"bool": {"must": {"term": {"tag": "pet"}}, "should": {"term": {"count": 999}}}}),
        &["2", "3"],
    );
    check(
        &c,
        json!({"bool": {"must_not": {"term": {"tag": "pet"}}}}),
        &["1", "4"],
    );
    check(
        &c,
        json!({"bool": {"should": [{"term": {"tag": "pet"}}, {"term": {"active": true}}, {"term": {"count": 15}}], "minimum_should_match": 2}}),
        &["3"],
    );
    check(
        &c,
        json!({"bool": {"must": {"term": {"tag": "pet"}}, "should": [{"term": {"active": true}}], "minimum_should_match": 1}}),
        &["3"],
    );
    check(&c, json!({"bool": {}}), &["1", "2", "3", "4"]);
}

#[test]
fn filters_score_zero_and_constant_score_scores_its_boost() {
    let c = cluster();
    assert_eq!(
        scores(&c, json!({"bool": {"filter": {"term": {"tag": "pet"}}}})),
        vec![0.0, 0.0]
    );
    assert_eq!(
        scores(&c, json!({"bool": {"must_not": {"term": {"tag": "pet"}}}})),
        vec![0.0, 0.0]
    );
    assert_eq!(
        scores(
            &c,
            json!({"constant_score": {"filter": {"term": {"tag": "pet"}}, "boost": 1.5}})
        ),
        vec![1.5, 1.5]
    );
    assert_eq!(scores(&c, json!({"match_all": {"boost": 2}})), vec![2.0; 4]);
    assert_eq!(
        scores(&c, json!({"range": {"count": {"gte": 20}}})),
        vec![1.0]
    );
    let text = scores(&c, json!({"match": {"title": "quick"}}));
    assert!(
        text.iter().all(|score| *score > 0.0 && *score != 1.0),
        "BM25 scores: {text:?}"
    );
    check(&c, json!({"match_none": {}}), &[]);
    check(
        &c,
        json!({"dis_max": {"queries": [{"term": {"tag": "pet"}}, {"term": {"count": 5}}]}}),
        &["1", "2", "3"],
    );
}

#[test]
fn query_string_supports_the_basic_syntax() {
    let c = cluster();
    let qs = |query: &str| json!({"query_string": {"query": query, "default_field": "title"}});
    check(&c, qs("quick AND fox"), &["1"]);
    check(&c, qs("title:lazy OR tag:reptile"), &["3", "4"]);
    check(&c, qs("count:>=15"), &["3", "4"]);
    check(&c, qs("_exists_:price AND NOT tag:pet"), &["1"]);
    check(&c, qs("date:[2024-01-02 TO 2024-01-05]"), &["2", "3"]);
    check(&c, qs("\"quick brown\" -dogs"), &["1"]);
    check(
        &c,
        qs("tag:(pet OR reptile) AND count:{10 TO *]"),
        &["3", "4"],
    );
    check(&c, qs("qui*"), &["1", "2"]);
    check(&c, json!({"query_string": {"query": "pet"}}), &["2", "3"]);
    check(
        &c,
        json!({"query_string": {"query": "[2024-01-02 TO 2024-01-03]"}}),
        &["2"],
    );
    check(
        &c,
        json!({"query_string": {"query": "lazy", "fields": ["title", "body"]}}),
        &["1", "3"],
    );
}

#[test]
fn unknown_queries_and_bad_values_fail_with_400() {
    let c = cluster();
    let error = c.search_error(json!({"query": {"fuzzy": {"title": "quikc"}}}));
    assert_eq!(
        (error.error_type(), error.reason().as_str(), error.status()),
        ("parsing_exception", "unknown query [fuzzy]", 400)
    );
    let error = c.search_error(json!({"query": {"term": {"active": "maybe"}}}));
    assert_eq!(error.status(), 400);
    assert!(error.to_json()["error"]["root_cause"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("Can't parse boolean value [maybe]"));
}

#[test]
fn too_many_clauses_fail_with_too_many_clauses() {
    let c = cluster();
    let should: Vec<Value> = (0..1100).map(|n| json!({"term": {"count": n}})).collect();
    let error = c.search_error(json!({"query": {"bool": {"should": should}}}));
    let body = error.to_json();
    assert_eq!(body["error"]["root_cause"][0]["type"], "too_many_clauses");
    assert_eq!(
        body["error"]["root_cause"][0]["reason"],
        "maxClauseCount is set to 1024"
    );
    assert_eq!(body["status"], 400);
}

#[test]
fn dynamic_mapping_gives_strings_a_keyword_multi_field() {
    let c = Cluster::single(
        json!(null),
        &[
            (
                "a",
                json!({"name": "Alpha Beta", "n": 3, "when": "2024-03-01T00:00:00Z", "nested": {"k": "v"}}),
            ),
            ("b", json!({"name": "alpha", "n": 4.5})),
        ],
    );
    check(&c, json!({"match": {"name": "alpha"}}), &["a", "b"]);
    check(&c, json!({"match": {"name.keyword": "Alpha Beta"}}), &["a"]);
    check(&c, json!({"term": {"name.keyword": "alpha"}}), &["b"]);
    check(
        &c,
        json!({"range": {"when": {"gte": "2024-02-01"}}}),
        &["a"],
    );
    check(&c, json!({"term": {"nested.k.keyword": "v"}}), &["a"]);
    check(&c, json!({"range": {"n": {"gt": 3}}}), &["b"]);
    let body = c.search(json!({"query": {"match": {"name": "beta"}}}));
    assert_eq!(ids(&body), strings(&["a"]));
}

#[test]
fn term_and_terms_on_id_match_document_ids() {
    let cluster = cluster();
    let all = ids(&cluster.search(json!({"query": {"match_all": {}}, "size": 100})));
    let first = all.first().expect("documents").clone();
    check(
        &cluster,
        json!({"term": {"_id": first.clone()}}),
        &[first.as_str()],
    );
    check(
        &cluster,
        json!({"terms": {"_id": [first.clone(), "no-such-id"]}}),
        &[first.as_str()],
    );
}
