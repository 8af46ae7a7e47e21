//! How soon a certificate expires: RFC 3339 times read without a date
//! library (the page carries no time parser) and the days-left buckets the
//! inventory's badge shows.

/// Seconds in a day.
const DAY: i64 = 86_400;

/// How soon a certificate runs out, as the badge says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `notAfter` is now or past.
    Expired,
    /// At most 30 whole days left.
    Within30 { days: i64 },
    /// At most 90 whole days left.
    Within90 { days: i64 },
    /// More than 90 days left.
    Later { days: i64 },
    /// The server sent a time the page cannot read.
    Unknown,
}

impl Expiry {
    /// The bucket of a certificate whose `notAfter` is `not_after` (RFC 3339)
    /// at `now_unix` seconds.
    pub fn of(not_after: &str, now_unix: i64) -> Expiry {
        let Some(end) = parse_rfc3339(not_after) else {
            return Expiry::Unknown;
        };
        let left = end - now_unix;
        if left <= 0 {
            return Expiry::Expired;
        }
        let days = left / DAY;
        match days {
            0..=30 => Expiry::Within30 { days },
            31..=90 => Expiry::Within90 { days },
            _ => Expiry::Later { days },
        }
    }

    /// The CSS class of its badge.
    pub fn class(self) -> &'static str {
        match self {
            Expiry::Expired => "expiry expired",
            Expiry::Within30 { .. } => "expiry soon",
            Expiry::Within90 { .. } => "expiry near",
            Expiry::Later { .. } => "expiry later",
            Expiry::Unknown => "expiry unknown",
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` → seconds since 1970 (the
/// fraction dropped). `None` for anything else, or a date that does not exist.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let number = |range| number_in(text, range);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_since_epoch(year, month, day)?;
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = (number_in(rest, 1..3)?, number_in(rest, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    Some(days * DAY + hour * 3600 + minute * 60 + second - offset)
}

fn number_in(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())
        .flatten()
}

/// Whether `text` is a calendar date `YYYY-MM-DD` (what `<input type=date>` gives).
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && match (
            number_in(text, 0..4),
            number_in(text, 5..7),
            number_in(text, 8..10),
        ) {
            (Some(y), Some(m), Some(d)) => days_since_epoch(y, m, d).is_some(),
            _ => false,
        }
}

/// Days from 1970-01-01 to the proleptic Gregorian date, or `None` when
/// the date does not exist (2026-02-30).
fn days_since_epoch(year: i64, month: i64, day: i64) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let lengths = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let length = *lengths.get(usize::try_from(month.checked_sub(1)?).ok()?)?;
    if day < 1 || day > length {
        return None;
    }
    // Whole years from 1970, counting leap days, then the months of this year.
    let leap_days_before = |y: i64| {
        let y = y - 1;
        y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
    };
    let years = (year - 1970) * 365 + leap_days_before(year) - leap_days_before(1970);
    let months: i64 = lengths[..usize::try_from(month - 1).ok()?].iter().sum();
    Some(years + months + day - 1)
}
