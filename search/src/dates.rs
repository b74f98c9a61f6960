//! Calendar arithmetic on epoch milliseconds (UTC): formatting dates the way OpenSearch prints
//! them and calendar rounding for `date_histogram` and date math (`datemath`).
//!
//! Parsing of date *values* belongs to storage's `DateFormat`; this module only adds what
//! queries and aggregations need on top. It must never read a clock: `now` comes in as an
//! argument.

const MILLIS_PER_SECOND: i64 = 1000;
pub(crate) const MILLIS_PER_MINUTE: i64 = 60 * MILLIS_PER_SECOND;
pub(crate) const MILLIS_PER_HOUR: i64 = 60 * MILLIS_PER_MINUTE;
pub(crate) const MILLIS_PER_DAY: i64 = 24 * MILLIS_PER_HOUR;

/// A calendar unit, for date math and calendar intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarUnit {
    /// One second.
    Second,
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One day (UTC, or in the fixed zone given).
    Day,
    /// Weeks start on Monday, as in OpenSearch.
    Week,
    /// One calendar month.
    Month,
    /// Three calendar months starting in January, April, July or October.
    Quarter,
    /// One calendar year.
    Year,
}

impl CalendarUnit {
    /// The unit of a date math letter (`y M w d h H m s`).
    pub(crate) fn from_math_letter(letter: char) -> Option<CalendarUnit> {
        let unit = match letter {
            'y' => CalendarUnit::Year,
            'M' => CalendarUnit::Month,
            'w' => CalendarUnit::Week,
            'd' => CalendarUnit::Day,
            'h' | 'H' => CalendarUnit::Hour,
            'm' => CalendarUnit::Minute,
            's' => CalendarUnit::Second,
            _ => return None,
        };
        Some(unit)
    }

    /// The unit of a `calendar_interval` (`1d`, `day`, `1M`, `month` ...).
    pub(crate) fn from_interval(text: &str) -> Option<CalendarUnit> {
        let unit = match text {
            "1m" | "minute" => CalendarUnit::Minute,
            "1h" | "hour" => CalendarUnit::Hour,
            "1d" | "day" => CalendarUnit::Day,
            "1w" | "week" => CalendarUnit::Week,
            "1M" | "month" => CalendarUnit::Month,
            "1q" | "quarter" => CalendarUnit::Quarter,
            "1y" | "year" => CalendarUnit::Year,
            _ => return None,
        };
        Some(unit)
    }

    fn fixed_millis(self) -> Option<i64> {
        match self {
            CalendarUnit::Second => Some(MILLIS_PER_SECOND),
            CalendarUnit::Minute => Some(MILLIS_PER_MINUTE),
            CalendarUnit::Hour => Some(MILLIS_PER_HOUR),
            CalendarUnit::Day => Some(MILLIS_PER_DAY),
            CalendarUnit::Week => Some(7 * MILLIS_PER_DAY),
            _ => None,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = if shifted >= 0 {
        shifted
    } else {
        shifted - 146_096
    } / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The start of the calendar unit holding `millis`.
pub(crate) fn floor_to(millis: i64, unit: CalendarUnit) -> i64 {
    if unit == CalendarUnit::Week {
        let day = millis.div_euclid(MILLIS_PER_DAY);
        // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
        let monday = day - (day + 3).rem_euclid(7);
        return monday * MILLIS_PER_DAY;
    }
    if let Some(width) = unit.fixed_millis() {
        return millis - millis.rem_euclid(width);
    }
    let (year, month, _) = civil_from_days(millis.div_euclid(MILLIS_PER_DAY));
    let first_month = match unit {
        CalendarUnit::Year => 1,
        CalendarUnit::Quarter => (month - 1) / 3 * 3 + 1,
        _ => month,
    };
    days_from_civil(year, first_month, 1) * MILLIS_PER_DAY
}

/// `millis` plus `count` units; months and years keep the day of month where it exists and
/// clamp to the month's last day otherwise.
pub(crate) fn add_units(millis: i64, count: i64, unit: CalendarUnit) -> i64 {
    if let Some(width) = unit.fixed_millis() {
        return millis.saturating_add(count.saturating_mul(width));
    }
    let months = match unit {
        CalendarUnit::Year => count * 12,
        CalendarUnit::Quarter => count * 3,
        _ => count,
    };
    let day_number = millis.div_euclid(MILLIS_PER_DAY);
    let time_of_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(day_number);
    let month_index = year * 12 + i64::from(month - 1) + months;
    let (new_year, new_month) = (
        month_index.div_euclid(12),
        month_index.rem_euclid(12) as u32 + 1,
    );
    let new_day = day.min(days_in_month(new_year, new_month));
    days_from_civil(new_year, new_month, new_day) * MILLIS_PER_DAY + time_of_day
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    (days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1)) as u32
}

/// Formats `millis` with the first alternative of an OpenSearch date format, as OpenSearch
/// prints `key_as_string` and `value_as_string`.
pub(crate) fn format_date(millis: i64, format: &str) -> String {
    let first = format.split("||").next().unwrap_or("").trim();
    match first {
        "epoch_millis" => millis.to_string(),
        "epoch_second" => millis.div_euclid(MILLIS_PER_SECOND).to_string(),
        "strict_date" | "date" => format_pattern(millis, "yyyy-MM-dd"),
        "basic_date" => format_pattern(millis, "yyyyMMdd"),
        "strict_date_hour_minute_second" | "date_hour_minute_second" => {
            format_pattern(millis, "yyyy-MM-dd'T'HH:mm:ss")
        }
        pattern if is_simple_pattern(pattern) => format_pattern(millis, pattern),
        _ => format_pattern(millis, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
    }
}

/// Formats with OpenSearch's default format (`2024-01-31T12:00:00.000Z`).
pub(crate) fn format_default(millis: i64) -> String {
    format_pattern(millis, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
}

/// Formats `millis` as seen in a zone `zone_millis` east of UTC; ISO output ends with the
/// offset (`2024-01-01T00:00:00.000+01:00`) instead of `Z`, as OpenSearch prints it.
pub(crate) fn format_in_zone(millis: i64, format: &str, zone_millis: i64) -> String {
    let local = format_date(millis + zone_millis, format);
    if zone_millis == 0 || !local.ends_with('Z') || local != format_default(millis + zone_millis) {
        return local;
    }
    let sign = if zone_millis < 0 { '-' } else { '+' };
    let minutes = zone_millis.abs() / MILLIS_PER_MINUTE;
    format!(
        "{}{sign}{:02}:{:02}",
        &local[..local.len() - 1],
        minutes / 60,
        minutes % 60
    )
}

fn is_simple_pattern(pattern: &str) -> bool {
    !pattern.is_empty()
        && !pattern.contains('_')
        && pattern
            .chars()
            .all(|c| "yuMdHmsS'".contains(c) || !c.is_ascii_alphabetic())
}

fn format_pattern(millis: i64, pattern: &str) -> String {
    let day_number = millis.div_euclid(MILLIS_PER_DAY);
    let time_of_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(day_number);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut index = 0;
    while index < chars.len() {
        let current = chars[index];
        if current == '\'' {
            let end = chars[index + 1..].iter().position(|c| *c == '\'');
            let end = end.map_or(chars.len(), |offset| index + 1 + offset);
            out.extend(&chars[index + 1..end]);
            index = end + 1;
            continue;
        }
        let run = chars[index..].iter().take_while(|c| **c == current).count();
        let field = match current {
            'y' | 'u' => Some(year),
            'M' => Some(i64::from(month)),
            'd' => Some(i64::from(day)),
            'H' => Some(time_of_day / MILLIS_PER_HOUR),
            'm' => Some(time_of_day % MILLIS_PER_HOUR / MILLIS_PER_MINUTE),
            's' => Some(time_of_day % MILLIS_PER_MINUTE / MILLIS_PER_SECOND),
            'S' => Some(time_of_day % MILLIS_PER_SECOND),
            _ => None,
        };
        match field {
            Some(value) => out.push_str(&format!("{value:0run$}")),
            None => out.extend(&chars[index..index + run]),
        }
        index += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1_2024: i64 = 1_704_067_200_000;

    #[test]
    fn civil_conversions_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_723, 60, 59, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(
            days_from_civil(2024, 2, 29) - days_from_civil(2024, 2, 28),
            1
        );
    }

    #[test]
    fn calendar_floors_start_weeks_on_monday() {
        assert_eq!(
            format_default(floor_to(JAN_1_2024 + 5, CalendarUnit::Week)),
            "2024-01-01T00:00:00.000Z"
        );
        let thursday = JAN_1_2024 + 3 * MILLIS_PER_DAY + 7;
        assert_eq!(
            format_default(floor_to(thursday, CalendarUnit::Week)),
            "2024-01-01T00:00:00.000Z"
        );
        let may_17 = days_from_civil(2024, 5, 17) * MILLIS_PER_DAY + 99;
        assert_eq!(
            format_default(floor_to(may_17, CalendarUnit::Month)),
            "2024-05-01T00:00:00.000Z"
        );
        assert_eq!(
            format_default(floor_to(may_17, CalendarUnit::Quarter)),
            "2024-04-01T00:00:00.000Z"
        );
        assert_eq!(
            format_default(floor_to(may_17, CalendarUnit::Year)),
            "2024-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        let jan_31 = days_from_civil(2024, 1, 31) * MILLIS_PER_DAY;
        assert_eq!(
            format_date(add_units(jan_31, 1, CalendarUnit::Month), "yyyy-MM-dd"),
            "2024-02-29"
        );
        assert_eq!(
            format_date(add_units(jan_31, -2, CalendarUnit::Month), "yyyy-MM-dd"),
            "2023-11-30"
        );
    }

    #[test]
    fn formats_follow_the_first_alternative() {
        let millis = JAN_1_2024 + 12 * MILLIS_PER_HOUR + 34 * MILLIS_PER_MINUTE + 56_789;
        assert_eq!(
            format_date(millis, "strict_date_optional_time||epoch_millis"),
            "2024-01-01T12:34:56.789Z"
        );
        assert_eq!(format_date(millis, "epoch_millis"), millis.to_string());
        assert_eq!(format_date(millis, "yyyy/MM/dd HH:mm"), "2024/01/01 12:34");
        assert_eq!(format_date(millis, "strict_date"), "2024-01-01");
    }
}
