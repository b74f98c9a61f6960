//! Date parsing and formatting for `date` fields.
//!
//! Dates are kept as milliseconds since the epoch (UTC). A field's `format` is a `||`-separated
//! list tried in order, as in OpenSearch. Supported: the named formats
//! `strict_date_optional_time`, `date_optional_time`, `strict_date_time`, `date_time`,
//! `strict_date`, `date`, `strict_date_hour_minute_second`, `date_hour_minute_second`,
//! `basic_date`, `epoch_millis` and `epoch_second`, and Java-style patterns built from `yyyy`,
//! `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`, quoted literals and separators. Anything else is
//! refused when the mapping is parsed, never silently misread at index time.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};

/// The format of a `date` field when the mapping names none.
pub const DEFAULT_DATE_FORMAT: &str = "strict_date_optional_time||epoch_millis";

/// One alternative of a date format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DateFormatPart {
    OptionalTime,
    DateTime,
    DateOnly,
    DateHourMinuteSecond,
    BasicDate,
    EpochMillis,
    EpochSecond,
    Pattern(Vec<PatternToken>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternToken {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millis,
    Literal(char),
}

/// A parsed `format` of a date field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    text: String,
    parts: Vec<DateFormatPart>,
}

impl DateFormat {
    /// Parses a format string such as `strict_date_optional_time||epoch_millis`.
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        let mut parts = Vec::new();
        for alternative in text.split("||") {
            parts.push(parse_part(alternative.trim())?);
        }
        if parts.is_empty() {
            return Err(format!("invalid date format [{text}]"));
        }
        Ok(DateFormat {
            text: text.to_string(),
            parts,
        })
    }

    /// The default `strict_date_optional_time||epoch_millis`.
    pub fn default_format() -> DateFormat {
        DateFormat::parse(DEFAULT_DATE_FORMAT).expect("the default date format is supported")
    }

    /// The format as written in the mapping.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Parses a date value given as a JSON string, in any of the alternatives.
    pub fn parse_str(&self, value: &str) -> Option<i64> {
        self.parts.iter().find_map(|part| parse_with(part, value))
    }

    /// Parses a date value given as a JSON number: epoch millis (or seconds) if the format has
    /// an epoch alternative, else the number's text through the patterns.
    pub fn parse_number(&self, value: f64) -> Option<i64> {
        for part in &self.parts {
            match part {
                DateFormatPart::EpochMillis if value.is_finite() => return Some(value as i64),
                DateFormatPart::EpochSecond if value.is_finite() => {
                    return Some((value * 1000.0) as i64)
                }
                _ => {}
            }
        }
        if value.fract() == 0.0 {
            return self.parse_str(&format!("{}", value as i64));
        }
        None
    }
}

fn parse_part(text: &str) -> Result<DateFormatPart, String> {
    let part = match text {
        "strict_date_optional_time" | "date_optional_time" | "strict_date_optional_time_nanos" => {
            DateFormatPart::OptionalTime
        }
        "strict_date_time" | "date_time" => DateFormatPart::DateTime,
        "strict_date" | "date" => DateFormatPart::DateOnly,
        "strict_date_hour_minute_second" | "date_hour_minute_second" => {
            DateFormatPart::DateHourMinuteSecond
        }
        "basic_date" => DateFormatPart::BasicDate,
        "epoch_millis" => DateFormatPart::EpochMillis,
        "epoch_second" => DateFormatPart::EpochSecond,
        pattern => DateFormatPart::Pattern(parse_pattern(pattern)?),
    };
    Ok(part)
}

fn parse_pattern(pattern: &str) -> Result<Vec<PatternToken>, String> {
    let unsupported = || format!("unsupported date format [{pattern}]");
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let current = chars[index];
        let run = chars[index..].iter().take_while(|c| **c == current).count();
        let token = match (current, run) {
            ('y', 4) | ('u', 4) => PatternToken::Year,
            ('M', 2) => PatternToken::Month,
            ('d', 2) => PatternToken::Day,
            ('H', 2) => PatternToken::Hour,
            ('m', 2) => PatternToken::Minute,
            ('s', 2) => PatternToken::Second,
            ('S', 3) => PatternToken::Millis,
            ('\'', _) => {
                let end = chars[index + 1..]
                    .iter()
                    .position(|c| *c == '\'')
                    .ok_or_else(unsupported)?;
                for literal in &chars[index + 1..index + 1 + end] {
                    tokens.push(PatternToken::Literal(*literal));
                }
                index += end + 2;
                continue;
            }
            (c, _) if c.is_ascii_alphabetic() => return Err(unsupported()),
            (c, _) => {
                tokens.push(PatternToken::Literal(c));
                index += 1;
                continue;
            }
        };
        tokens.push(token);
        index += run;
    }
    if tokens.is_empty() {
        return Err(unsupported());
    }
    Ok(tokens)
}

fn parse_with(part: &DateFormatPart, value: &str) -> Option<i64> {
    match part {
        DateFormatPart::OptionalTime => parse_optional_time(value, false),
        DateFormatPart::DateTime => parse_optional_time(value, true),
        DateFormatPart::DateOnly => parse_ymd(value).map(midnight_millis),
        DateFormatPart::DateHourMinuteSecond => {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|dt| dt.and_utc().timestamp_millis())
        }
        DateFormatPart::BasicDate => NaiveDate::parse_from_str(value, "%Y%m%d")
            .ok()
            .filter(|_| value.len() == 8)
            .map(midnight_millis),
        DateFormatPart::EpochMillis => parse_epoch(value, 1),
        DateFormatPart::EpochSecond => parse_epoch(value, 1000),
        DateFormatPart::Pattern(tokens) => parse_pattern_value(tokens, value),
    }
}

fn parse_epoch(value: &str, scale: i64) -> Option<i64> {
    if let Ok(whole) = value.parse::<i64>() {
        return whole.checked_mul(scale);
    }
    let float = value.parse::<f64>().ok().filter(|f| f.is_finite())?;
    Some((float * scale as f64) as i64)
}

fn midnight_millis(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

fn parse_ymd(value: &str) -> Option<NaiveDate> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// `yyyy-MM-dd['T'HH:mm[:ss[.fraction]]][Z|±HH:mm|±HHmm]`; with `time_required` the time
/// and zone parts must be present (`strict_date_time`).
fn parse_optional_time(value: &str, time_required: bool) -> Option<i64> {
    // Years and partial dates (`yyyy`, `yyyy-MM`) are accepted by OpenSearch's parser too.
    if !time_required {
        if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) {
            let year = value.parse().ok()?;
            return NaiveDate::from_ymd_opt(year, 1, 1).map(midnight_millis);
        }
        if value.len() == 7 && value.as_bytes()[4] == b'-' {
            let date = NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").ok()?;
            return Some(midnight_millis(date));
        }
    }
    let (date_text, rest) = value.split_at(value.len().min(10));
    let date = parse_ymd(date_text)?;
    if rest.is_empty() {
        return (!time_required).then(|| midnight_millis(date));
    }
    let rest = rest.strip_prefix('T')?;
    let (time_text, zone_text) = split_zone(rest);
    if time_required && zone_text.is_empty() {
        return None;
    }
    let time = parse_time(time_text)?;
    let offset_seconds = parse_zone(zone_text)?;
    let local_millis = date.and_time(time).and_utc().timestamp_millis();
    Some(local_millis - i64::from(offset_seconds) * 1000)
}

fn split_zone(rest: &str) -> (&str, &str) {
    match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let (hms, fraction) = match text.split_once(['.', ',']) {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (text, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    if fields.is_empty() || fields.len() > 3 || fields.iter().any(|f| f.len() != 2) {
        return None;
    }
    let number = |index: usize| -> Option<u32> {
        fields.get(index).map_or(Some(0), |f| f.parse::<u32>().ok())
    };
    let nanos = match fraction {
        Some(digits) if !digits.is_empty() && digits.len() <= 9 => {
            let parsed: u32 = digits.parse().ok()?;
            parsed * 10u32.pow(9 - digits.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(number(0)?, number(1)?, number(2)?, nanos)
}

fn parse_zone(text: &str) -> Option<i32> {
    if text.is_empty() || text == "Z" || text == "z" {
        return Some(0);
    }
    let sign = match text.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 && digits.len() != 2 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

fn parse_pattern_value(tokens: &[PatternToken], value: &str) -> Option<i64> {
    let bytes = value.as_bytes();
    let mut position = 0;
    let (mut year, mut month, mut day) = (1970, 1, 1);
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    for token in tokens {
        let width = match token {
            PatternToken::Year => 4,
            PatternToken::Millis => 3,
            PatternToken::Literal(_) => 1,
            _ => 2,
        };
        let piece = bytes.get(position..position + width)?;
        position += width;
        if let PatternToken::Literal(expected) = token {
            if piece != expected.to_string().as_bytes() {
                return None;
            }
            continue;
        }
        if !piece.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let number: u32 = std::str::from_utf8(piece).ok()?.parse().ok()?;
        match token {
            PatternToken::Year => year = number as i32,
            PatternToken::Month => month = number,
            PatternToken::Day => day = number,
            PatternToken::Hour => hour = number,
            PatternToken::Minute => minute = number,
            PatternToken::Second => second = number,
            PatternToken::Millis => millis = number,
            PatternToken::Literal(_) => {}
        }
    }
    if position != bytes.len() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_milli_opt(hour, minute, second, millis)?;
    Some(date.and_time(time).and_utc().timestamp_millis())
}

/// Formats epoch millis the way OpenSearch prints dates by default
/// (`2024-01-31T12:00:00.000Z`).
pub fn format_millis(millis: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        Some(datetime) => datetime.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => millis.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(format: &str, value: &str, expected_millis: Option<i64>) {
        let parsed = DateFormat::parse(format).expect("format parses");
        assert_eq!(
            parsed.parse_str(value),
            expected_millis,
            "{format} on {value}"
        );
    }

    #[test]
    fn default_format_accepts_iso_dates_and_epoch_millis() {
        check(DEFAULT_DATE_FORMAT, "2015-01-01", Some(1_420_070_400_000));
        check(
            DEFAULT_DATE_FORMAT,
            "2015-01-01T12:10:30Z",
            Some(1_420_114_230_000),
        );
        check(
            DEFAULT_DATE_FORMAT,
            "2015-01-01T12:10:30.5Z",
            Some(1_420_114_230_500),
        );
        check(
            DEFAULT_DATE_FORMAT,
            "2015-01-01T12:10:30+01:00",
            Some(1_420_110_630_000),
        );
        check(
            DEFAULT_DATE_FORMAT,
            "2015-01-01T12:10",
            Some(1_420_114_200_000),
        );
        check(
            DEFAULT_DATE_FORMAT,
            "1420070400001",
            Some(1_420_070_400_001),
        );
        check(DEFAULT_DATE_FORMAT, "2015", Some(1_420_070_400_000));
        check(DEFAULT_DATE_FORMAT, "not a date", None);
        check(DEFAULT_DATE_FORMAT, "2015-13-01", None);
    }

    #[test]
    fn java_patterns_parse_their_own_shape_only() {
        check(
            "yyyy/MM/dd HH:mm:ss",
            "2020/02/29 23:59:58",
            Some(1_583_020_798_000),
        );
        check("yyyy/MM/dd HH:mm:ss", "2020-02-29 23:59:58", None);
        check(
            "yyyy-MM-dd'T'HH:mm",
            "2020-02-29T23:59",
            Some(1_583_020_740_000),
        );
        check("dd.MM.yyyy", "29.02.2020", Some(1_582_934_400_000));
    }

    #[test]
    fn unsupported_formats_are_refused_up_front() {
        assert!(DateFormat::parse("EEE, dd MMM yyyy").is_err());
        assert!(DateFormat::parse("week_date").is_err());
    }

    #[test]
    fn numbers_are_epoch_millis_when_the_format_allows() {
        let format = DateFormat::default_format();
        assert_eq!(format.parse_number(1000.0), Some(1000));
        let seconds = DateFormat::parse("epoch_second").expect("format parses");
        assert_eq!(seconds.parse_number(2.0), Some(2000));
    }

    #[test]
    fn formatting_prints_utc_with_millis() {
        assert_eq!(format_millis(1_420_114_230_500), "2015-01-01T12:10:30.500Z");
    }
}
