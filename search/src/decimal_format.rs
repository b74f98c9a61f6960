//! Java `DecimalFormat` patterns, as OpenSearch applies them to numeric `docvalue_fields`
//! (`"#.0"`, `"0.00"`, `"#,##0.###"`, `"0.0%"`).
//!
//! The supported subset: an optional literal prefix and suffix, integer digits with `#`, `0`
//! and `,` grouping, fraction digits with `0` (always printed) then `#` (printed when not
//! zero), and a `%` or `‰` suffix that scales the value. Rounding is half-even, as Java's
//! default. Negative sub-patterns (`;`), exponents (`E`), currency signs and quoting are
//! refused with a message naming the pattern. This module must never read documents.

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecimalFormat {
    prefix: String,
    suffix: String,
    integer_digits_min: usize,
    fraction_digits_min: usize,
    fraction_digits_max: usize,
    /// Digits per group; 0 when the pattern has no `,`.
    grouping: usize,
    /// 1, 100 (`%`) or 1000 (`‰`).
    multiplier: u32,
}

/// Longest pattern accepted, in bytes.
const PATTERN_BYTES_MAX: usize = 256;
/// Most fraction digits a pattern may ask for (Java's double carries no more).
const FRACTION_DIGITS_MAX: usize = 340;

impl DecimalFormat {
    /// Parses `pattern`, or says why it is not supported.
    pub(crate) fn parse(pattern: &str) -> Result<DecimalFormat, String> {
        let refuse = |why: &str| Err(format!("invalid decimal format [{pattern}]: {why}"));
        if pattern.len() > PATTERN_BYTES_MAX {
            return refuse("pattern too long");
        }
        if pattern.contains([';', 'E', '\'', '¤']) {
            return refuse(
                "negative sub-patterns, exponents, quotes and currency are not supported",
            );
        }
        let is_digit_char = |c: char| matches!(c, '#' | '0' | ',' | '.');
        let start = pattern.find(is_digit_char);
        let Some(start) = start else {
            return refuse("no digits");
        };
        let end = pattern.rfind(is_digit_char).map_or(start, |i| i + 1);
        let (prefix, number, suffix) = (&pattern[..start], &pattern[start..end], &pattern[end..]);
        if prefix.contains(['%', '‰']) {
            return refuse("a percent sign only works as a suffix");
        }
        let multiplier = match (suffix.contains('%'), suffix.contains('‰')) {
            (false, false) => 1,
            (true, false) => 100,
            (false, true) => 1000,
            (true, true) => return refuse("both percent and per-mille"),
        };
        let (integer, fraction) = match number.split_once('.') {
            Some((integer, fraction)) => (integer, fraction),
            None => (number, ""),
        };
        if fraction.contains(['.', ',']) {
            return refuse("malformed fraction");
        }
        let fraction_zeros = fraction.chars().take_while(|c| *c == '0').count();
        if fraction[fraction_zeros..].chars().any(|c| c != '#') {
            return refuse("a '0' follows a '#' in the fraction");
        }
        let digits: String = integer.chars().filter(|c| *c != ',').collect();
        let integer_hashes = digits.chars().take_while(|c| *c == '#').count();
        if digits[integer_hashes..].chars().any(|c| c != '0') {
            return refuse("a '#' follows a '0' in the integer part");
        }
        let grouping = match integer.rfind(',') {
            Some(comma) => integer.len() - comma - 1,
            None => 0,
        };
        if integer.contains(',') && grouping == 0 {
            return refuse("a grouping separator ends the integer part");
        }
        if fraction.len() > FRACTION_DIGITS_MAX {
            return refuse("too many fraction digits");
        }
        Ok(DecimalFormat {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            integer_digits_min: digits.len() - integer_hashes,
            fraction_digits_min: fraction_zeros,
            fraction_digits_max: fraction.len(),
            grouping,
            multiplier,
        })
    }

    /// Formats `value` with the pattern.
    pub(crate) fn format(&self, value: f64) -> String {
        if value.is_nan() {
            return "NaN".to_string();
        }
        let scaled = value * f64::from(self.multiplier);
        let sign = if scaled.is_sign_negative() { "-" } else { "" };
        if scaled.is_infinite() {
            return format!("{sign}{}∞{}", self.prefix, self.suffix);
        }
        // Rust rounds the exact binary value half to even, as Java's HALF_EVEN does.
        let fixed = format!("{:.*}", self.fraction_digits_max, scaled.abs());
        let (integer, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
        let fraction = fraction.trim_end_matches('0');
        let fraction = if fraction.len() < self.fraction_digits_min {
            format!("{fraction:0<width$}", width = self.fraction_digits_min)
        } else {
            fraction.to_string()
        };
        let integer = integer.trim_start_matches('0');
        let integer = if integer.len() < self.integer_digits_min {
            format!("{integer:0>width$}", width = self.integer_digits_min)
        } else {
            integer.to_string()
        };
        // Java prints a lone "0" when neither part would show a digit.
        let integer = if integer.is_empty() && fraction.is_empty() {
            "0".to_string()
        } else {
            integer
        };
        let grouped = group(&integer, self.grouping);
        let is_zero =
            grouped.chars().all(|c| c == '0' || c == ',') && fraction.chars().all(|c| c == '0');
        let sign = if is_zero { "" } else { sign };
        let mut out = format!("{sign}{}{grouped}", self.prefix);
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(&fraction);
        }
        out.push_str(&self.suffix);
        out
    }
}

fn group(digits: &str, size: usize) -> String {
    if size == 0 || digits.len() <= size {
        return digits.to_string();
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / size);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % size == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::DecimalFormat;

    fn format(pattern: &str, value: f64) -> String {
        DecimalFormat::parse(pattern).unwrap().format(value)
    }

    #[test]
    fn patterns_print_as_java_does() {
        assert_eq!(format("#.0", 1.0), "1.0");
        assert_eq!(format("#.0", 0.5), ".5");
        assert_eq!(format("0.00", 1.23456), "1.23");
        assert_eq!(format("#,##0.###", 1234567.891), "1,234,567.891");
        assert_eq!(format("#", 2.5), "2");
        assert_eq!(format("#", 3.5), "4");
        assert_eq!(format("000", 7.0), "007");
        assert_eq!(format("#.##", 0.0), "0");
        assert_eq!(format("0.0%", 0.256), "25.6%");
        assert_eq!(format("#.0", -1.25), "-1.2");
        assert_eq!(
            format("#.0", -0.01),
            ".0",
            "no sign on a value rounded to zero"
        );
        assert_eq!(format("$#,##0.00", 1500.0), "$1,500.00");
    }

    #[test]
    fn unsupported_patterns_are_refused_with_the_pattern_named() {
        for pattern in ["", "abc", "0.0E0", "#;(#)", "0#", "#.#0", "#,", "%#"] {
            let error = DecimalFormat::parse(pattern).unwrap_err();
            assert!(error.contains(&format!("[{pattern}]")), "{error}");
        }
    }

    proptest! {
        #[test]
        fn a_plain_integer_pattern_reads_back_as_the_rounded_value(value in -1.0e12f64..1.0e12) {
            let printed = format("0", value);
            let parsed: f64 = printed.parse().unwrap();
            prop_assert!((parsed - value).abs() <= 0.5 + f64::EPSILON * value.abs());
        }
    }
}
