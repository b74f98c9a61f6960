//! Date math for range bounds and extended bounds: `now`, `now-1d/d`, `2024-01-01||+1M/M`,
//! OpenSearch's rounding of partial dates for `gt`/`lte`, and fixed-offset time zones.
//!
//! It must never read a clock: `now` comes in with the request.

use tandem_storage::mapping::DateFormat;

use crate::dates::{add_units, floor_to, CalendarUnit, MILLIS_PER_HOUR, MILLIS_PER_MINUTE};

/// Parses a fixed offset time zone (`Z`, `UTC`, `+01:00`, `-0530`) into milliseconds east of
/// UTC. Named zones with daylight saving rules are refused.
pub(crate) fn parse_time_zone(text: &str) -> Result<i64, String> {
    if matches!(
        text,
        "Z" | "z" | "UTC" | "utc" | "GMT" | "Etc/UTC" | "+00:00" | "-00:00"
    ) {
        return Ok(0);
    }
    let unsupported = || format!("time_zone [{text}] is not supported, use a fixed offset");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(unsupported()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(unsupported());
    }
    let hours: i64 = digits[..2].parse().map_err(|_| unsupported())?;
    let minutes: i64 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| unsupported())?
    } else {
        0
    };
    if hours > 18 || minutes > 59 {
        return Err(unsupported());
    }
    Ok(sign * (hours * MILLIS_PER_HOUR + minutes * MILLIS_PER_MINUTE))
}

/// How a date bound is read: rounding direction and context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateMathContext {
    /// The request's `now`, in epoch millis.
    pub(crate) now_millis: i64,
    /// Round partial dates and `/unit` up to the unit's last millisecond (`gt`, `lte`).
    pub(crate) round_up: bool,
    /// Offset applied to dates that name no zone, in millis east of UTC.
    pub(crate) zone_offset_millis: i64,
}

/// Parses a date string with optional date math: `now`, `now-1d/d`, `2024-01-01||+1M/M`, or a
/// plain date in `format`.
pub(crate) fn parse_date_math(
    text: &str,
    format: &DateFormat,
    context: DateMathContext,
) -> Result<i64, String> {
    let failed = || {
        format!(
            "failed to parse date field [{text}] with format [{}]",
            format.as_str()
        )
    };
    let (anchor, math) = if let Some(math) = text.strip_prefix("now") {
        (context.now_millis, math)
    } else {
        let (date_text, math) = match text.split_once("||") {
            Some((date_text, math)) => (date_text, math),
            None => (text, ""),
        };
        let parsed = format.parse_str(date_text).ok_or_else(failed)?;
        let local = if names_zone(date_text) || is_epoch(date_text) {
            parsed
        } else {
            parsed - context.zone_offset_millis
        };
        let rounded = if math.is_empty() && context.round_up {
            round_up_partial(date_text, local)
        } else {
            local
        };
        (rounded, math)
    };
    apply_math(anchor, math, context).ok_or_else(|| {
        format!("failed to parse date field [{text}]: operation or unit not supported in [{math}]")
    })
}

fn apply_math(mut millis: i64, math: &str, context: DateMathContext) -> Option<i64> {
    let chars: Vec<char> = math.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let operator = chars[index];
        index += 1;
        if operator == '/' {
            let unit = CalendarUnit::from_math_letter(*chars.get(index)?)?;
            index += 1;
            let start = floor_to(millis + context.zone_offset_millis, unit);
            let rounded = if context.round_up {
                add_units(start, 1, unit) - 1
            } else {
                start
            };
            millis = rounded - context.zone_offset_millis;
            continue;
        }
        let sign = match operator {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        let digits: String = chars[index..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        index += digits.len();
        let count: i64 = if digits.is_empty() {
            1
        } else {
            digits.parse().ok()?
        };
        let unit = CalendarUnit::from_math_letter(*chars.get(index)?)?;
        index += 1;
        millis = add_units(millis, sign * count, unit);
    }
    Some(millis)
}

fn names_zone(text: &str) -> bool {
    let time_part = text.split_once('T').map_or("", |(_, time)| time);
    text.ends_with('Z') || text.ends_with('z') || time_part.contains(['+', '-'])
}

fn is_epoch(text: &str) -> bool {
    !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && text.len() > 8
}

/// For `lte`/`gt`, a date written to a coarser precision covers its whole unit (OpenSearch
/// reads `lte: 2024-01-01` as the end of that day).
fn round_up_partial(text: &str, millis: i64) -> i64 {
    let unit = match text.len() {
        4 => CalendarUnit::Year,
        7 => CalendarUnit::Month,
        10 => CalendarUnit::Day,
        13 => CalendarUnit::Hour,
        16 => CalendarUnit::Minute,
        19 => CalendarUnit::Second,
        _ => return millis,
    };
    let looks_iso = text.as_bytes().get(4).is_none_or(|b| *b == b'-');
    if !looks_iso || is_epoch(text) {
        return millis;
    }
    add_units(floor_to(millis, unit), 1, unit) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::MILLIS_PER_DAY;

    const JAN_1_2024: i64 = 1_704_067_200_000;

    fn context(round_up: bool) -> DateMathContext {
        DateMathContext {
            now_millis: JAN_1_2024 + 36 * MILLIS_PER_HOUR + 5,
            round_up,
            zone_offset_millis: 0,
        }
    }

    #[test]
    fn date_math_rounds_by_direction() {
        let format = DateFormat::default_format();
        let day_two = JAN_1_2024 + MILLIS_PER_DAY;
        assert_eq!(
            parse_date_math("now/d", &format, context(false)),
            Ok(day_two)
        );
        assert_eq!(
            parse_date_math("now/d", &format, context(true)),
            Ok(day_two + MILLIS_PER_DAY - 1)
        );
        assert_eq!(
            parse_date_math("now-1d/d", &format, context(false)),
            Ok(JAN_1_2024)
        );
        assert_eq!(
            parse_date_math("2024-01-01||+1M", &format, context(false)),
            Ok(JAN_1_2024 + 31 * MILLIS_PER_DAY)
        );
        assert_eq!(
            parse_date_math("2024-01-01", &format, context(true)),
            Ok(day_two - 1)
        );
        assert_eq!(
            parse_date_math("2024-01-01T00:00:00Z", &format, context(true)),
            Ok(JAN_1_2024)
        );
        assert!(parse_date_math("now+1x", &format, context(false)).is_err());
        assert!(parse_date_math("yesterday", &format, context(false)).is_err());
    }

    #[test]
    fn fixed_offsets_shift_dates_without_a_zone() {
        let format = DateFormat::default_format();
        let plus_one = DateMathContext {
            zone_offset_millis: parse_time_zone("+01:00").expect("offset"),
            ..context(false)
        };
        assert_eq!(
            parse_date_math("2024-01-01T01:00:00", &format, plus_one),
            Ok(JAN_1_2024)
        );
        assert_eq!(
            parse_date_math("2024-01-01T01:00:00Z", &format, plus_one),
            Ok(JAN_1_2024 + MILLIS_PER_HOUR)
        );
        assert!(parse_time_zone("Europe/Paris").is_err());
    }
}
