//! The `query_string` syntax (Lucene's classic query parser, as OpenSearch uses it) into
//! [`QueryAst`].
//!
//! Supported: bare terms, `field:value`, quoted phrases with `~slop`, `AND`/`&&`, `OR`/`||`,
//! `NOT`/`!`, `+`/`-`, parentheses (also after `field:`), `^boost`, wildcards `*` and `?`,
//! `field:*` and `_exists_:field`, ranges `[a TO b]`, `{a TO b}` with `*` for open ends, and
//! comparisons `>`, `>=`, `<`, `<=`. Clause combination follows Lucene's `addClause` rules
//! exactly, including how `default_operator` interacts with `AND`/`OR`. Fuzzy terms (`~` after
//! a term) and regular expressions (`/re/`) are refused. This module must never look at a
//! mapping: terms without a field go to the default fields, resolved by `compile`.

mod leaves;
#[cfg(test)]
mod tests;

pub(crate) use leaves::with_boost;
use leaves::{add_clause, build_bool};

use crate::ast::{Analyzer, FieldBoost, Operator, QueryAst, RangeBound, Scalar, BOOST_DEFAULT};
use crate::error::SearchError;
use crate::limits::{QUERY_DEPTH_MAX, QUERY_STRING_BYTES_MAX};

/// The options of a `query_string` query (or of the `q` URL parameter).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryStringOptions {
    /// Fields for terms without one; empty means every field (`*`).
    pub(crate) fields: Vec<FieldBoost>,
    pub(crate) default_operator: Operator,
    /// `None` means lenient only when searching every field, as OpenSearch.
    pub(crate) lenient: Option<bool>,
    pub(crate) allow_leading_wildcard: bool,
    pub(crate) phrase_slop: u32,
    pub(crate) analyzer: Analyzer,
    pub(crate) tie_breaker: f32,
    pub(crate) time_zone: Option<String>,
    pub(crate) boost: f32,
}

impl Default for QueryStringOptions {
    fn default() -> Self {
        QueryStringOptions {
            fields: Vec::new(),
            default_operator: Operator::Or,
            lenient: None,
            allow_leading_wildcard: true,
            phrase_slop: 0,
            analyzer: Analyzer::Default,
            tie_breaker: 0.0,
            time_zone: None,
            boost: BOOST_DEFAULT,
        }
    }
}

/// Parses query string `text` into a query tree.
pub(crate) fn parse(text: &str, options: &QueryStringOptions) -> Result<QueryAst, SearchError> {
    if text.len() > QUERY_STRING_BYTES_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "query string is [{}] bytes long, more than the maximum of [{QUERY_STRING_BYTES_MAX}]",
            text.len()
        )));
    }
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        text,
        options,
    };
    let query = parser.query(None, 0)?;
    parser.skip_whitespace();
    if parser.pos < parser.chars.len() {
        return Err(parser.error("unbalanced ')'"));
    }
    Ok(with_boost(query, options.boost))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occur {
    Must,
    Should,
    MustNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conjunction {
    None,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    None,
    Required,
    Prohibited,
}

/// A bare word with escapes resolved.
struct Word {
    text: String,
    has_wildcard: bool,
}

/// Characters that end a bare word unless escaped.
const WORD_END: &[char] = &['(', ')', ':', '^', '~', '"', '[', ']', '{', '}'];

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
    options: &'a QueryStringOptions,
}

impl Parser<'_> {
    fn error(&self, detail: &str) -> SearchError {
        SearchError::Parsing(format!(
            "Failed to parse query [{}]: {detail} at position {}",
            self.text, self.pos
        ))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `word` if it stands alone (followed by whitespace, `(`, `"` or the end).
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.chars().count();
        let matches =
            self.chars.len() >= end && self.chars[self.pos..end].iter().copied().eq(word.chars());
        let standalone = self
            .chars
            .get(end)
            .is_none_or(|c| c.is_whitespace() || *c == '(' || *c == '"');
        if matches && standalone {
            self.pos = end;
        }
        matches && standalone
    }

    fn query(&mut self, field: Option<&str>, depth: usize) -> Result<QueryAst, SearchError> {
        let mut clauses: Vec<(Occur, QueryAst)> = Vec::new();
        loop {
            self.skip_whitespace();
            if matches!(self.peek(), None | Some(')')) {
                break;
            }
            let conjunction = if self.keyword("AND") || self.keyword("&&") {
                Conjunction::And
            } else if self.keyword("OR") || self.keyword("||") {
                Conjunction::Or
            } else {
                Conjunction::None
            };
            self.skip_whitespace();
            let modifier = self.modifier();
            self.skip_whitespace();
            if matches!(self.peek(), None | Some(')')) {
                return Err(self.error("expected a clause"));
            }
            let clause = self.clause(field, depth)?;
            add_clause(
                &mut clauses,
                conjunction,
                modifier,
                clause,
                self.options.default_operator,
            );
        }
        Ok(build_bool(clauses))
    }

    fn modifier(&mut self) -> Modifier {
        match self.peek() {
            Some('+') => {
                self.pos += 1;
                Modifier::Required
            }
            Some('-') | Some('!') => {
                self.pos += 1;
                Modifier::Prohibited
            }
            _ if self.keyword("NOT") => Modifier::Prohibited,
            _ => Modifier::None,
        }
    }

    fn clause(&mut self, field: Option<&str>, depth: usize) -> Result<QueryAst, SearchError> {
        if field.is_none() && !matches!(self.peek(), Some('(' | '"' | '[' | '{')) {
            let start = self.pos;
            let word = self.word()?;
            if self.peek() == Some(':') {
                self.pos += 1;
                self.skip_whitespace();
                return self.field_value(&word.text, depth);
            }
            self.pos = start;
        }
        self.field_value_or_default(field, depth)
    }

    fn field_value(&mut self, field: &str, depth: usize) -> Result<QueryAst, SearchError> {
        if field == "_exists_" {
            let word = self.word()?;
            return Ok(QueryAst::Exists {
                field: word.text,
                boost: BOOST_DEFAULT,
            });
        }
        self.field_value_or_default(Some(field), depth)
    }

    fn field_value_or_default(
        &mut self,
        field: Option<&str>,
        depth: usize,
    ) -> Result<QueryAst, SearchError> {
        let query = match self.peek() {
            Some('(') => {
                if depth >= QUERY_DEPTH_MAX {
                    return Err(self.error("parentheses nested too deeply"));
                }
                self.pos += 1;
                let inner = self.query(field, depth + 1)?;
                self.skip_whitespace();
                if self.peek() != Some(')') {
                    return Err(self.error("expected ')'"));
                }
                self.pos += 1;
                inner
            }
            Some('"') => {
                let phrase = self.phrase()?;
                let slop = self.slop()?;
                self.leaf_phrase(field, phrase, slop)
            }
            Some('[' | '{') => self.range(field)?,
            Some('>' | '<') => self.comparison(field)?,
            Some('/') => return Err(self.error("regular expressions are not supported")),
            _ => {
                let word = self.word()?;
                if self.peek() == Some('~') {
                    return Err(self.error("fuzzy queries are not supported"));
                }
                self.leaf_word(field, word)?
            }
        };
        let boost = self.boost()?;
        Ok(with_boost(query, boost))
    }

    fn word(&mut self) -> Result<Word, SearchError> {
        let mut text = String::new();
        let mut has_wildcard = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || WORD_END.contains(&c) {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                let escaped = self.peek().ok_or_else(|| self.error("dangling escape"))?;
                self.pos += 1;
                text.push(escaped);
                continue;
            }
            has_wildcard |= c == '*' || c == '?';
            text.push(c);
        }
        if text.is_empty() {
            return Err(self.error("expected a term"));
        }
        Ok(Word { text, has_wildcard })
    }

    fn phrase(&mut self) -> Result<String, SearchError> {
        self.pos += 1;
        let mut text = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.error("unterminated phrase"))?;
            self.pos += 1;
            match c {
                '"' => return Ok(text),
                '\\' => {
                    let escaped = self.peek().ok_or_else(|| self.error("dangling escape"))?;
                    self.pos += 1;
                    text.push(escaped);
                }
                other => text.push(other),
            }
        }
    }

    fn number_suffix(&mut self, marker: char) -> Option<String> {
        if self.peek() != Some(marker) {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        Some(self.chars[start..self.pos].iter().collect())
    }

    fn slop(&mut self) -> Result<Option<u32>, SearchError> {
        match self.number_suffix('~') {
            None => Ok(None),
            Some(digits) if digits.is_empty() => Ok(Some(0)),
            Some(digits) => digits
                .parse::<f64>()
                .map(|slop| Some(slop as u32))
                .map_err(|_| self.error("invalid phrase slop")),
        }
    }

    fn boost(&mut self) -> Result<f32, SearchError> {
        match self.number_suffix('^') {
            None => Ok(BOOST_DEFAULT),
            Some(digits) => digits
                .parse::<f32>()
                .map_err(|_| self.error("invalid boost")),
        }
    }

    fn range(&mut self, field: Option<&str>) -> Result<QueryAst, SearchError> {
        let lower_inclusive = self.peek() == Some('[');
        self.pos += 1;
        self.skip_whitespace();
        let lower = self.range_value()?;
        self.skip_whitespace();
        if !self.keyword("TO") {
            return Err(self.error("expected 'TO' in range"));
        }
        self.skip_whitespace();
        let upper = self.range_value()?;
        self.skip_whitespace();
        let upper_inclusive = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.error("expected ']' or '}' to close the range")),
        };
        self.pos += 1;
        let bound = |value: Option<String>, inclusive: bool| {
            value.map(|text| RangeBound {
                value: Scalar::Str(text),
                inclusive,
            })
        };
        Ok(self.leaf_range(
            field,
            bound(lower, lower_inclusive),
            bound(upper, upper_inclusive),
        ))
    }

    /// A range end: a quoted or bare value, `*` meaning unbounded.
    fn range_value(&mut self) -> Result<Option<String>, SearchError> {
        if self.peek() == Some('"') {
            return self.phrase().map(Some);
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && c != ']' && c != '}')
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.as_str() {
            "" => Err(self.error("expected a range value")),
            "*" => Ok(None),
            _ => Ok(Some(text)),
        }
    }

    fn comparison(&mut self, field: Option<&str>) -> Result<QueryAst, SearchError> {
        let greater = self.peek() == Some('>');
        self.pos += 1;
        let inclusive = self.peek() == Some('=');
        if inclusive {
            self.pos += 1;
        }
        let value = if self.peek() == Some('"') {
            self.phrase()?
        } else {
            self.word()?.text
        };
        let bound = Some(RangeBound {
            value: Scalar::Str(value),
            inclusive,
        });
        Ok(if greater {
            self.leaf_range(field, bound, None)
        } else {
            self.leaf_range(field, None, bound)
        })
    }
}
