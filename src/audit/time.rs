//! Timestamps: RFC 3339 in UTC with microseconds (`2026-11-26T01:02:03.456789Z`), so that
//! text order is time order, and parsing of the `--since`/`--until` forms people type.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, formatted.
pub(crate) fn now() -> String {
    format(SystemTime::now())
}

pub(crate) fn format(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    let Ok(year @ 0..=9999) = u32::try_from(y) else {
        return format!(
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            d.subsec_micros()
        );
    };
    // Every audit row takes a timestamp on the relay's path: the digits are written
    // directly rather than through the formatting machinery.
    let rem = rem as u32;
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    digits(&mut out[0..4], year);
    digits(&mut out[5..7], m);
    digits(&mut out[8..10], day);
    digits(&mut out[11..13], rem / 3600);
    digits(&mut out[14..16], rem % 3600 / 60);
    digits(&mut out[17..19], rem % 60);
    digits(&mut out[20..26], d.subsec_micros());
    out.iter().copied().map(char::from).collect()
}

/// Writes `v` as decimal digits filling `out` (zero-padded, the high digits cut).
fn digits(out: &mut [u8], mut v: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a point in time for filters: an RFC 3339 UTC time or date (`2026-11-01`,
/// `2026-11-01T12:00:00Z`), or an age before now (`90m`, `36h`, `7d`).
pub(crate) fn parse_point(text: &str) -> Result<String, String> {
    if let Some(age) = parse_age(text) {
        return Ok(format(
            SystemTime::now().checked_sub(age).unwrap_or(UNIX_EPOCH),
        ));
    }
    let bad = || format!("{text:?} is not a time like 2026-11-01, 2026-11-01T12:00:00Z or 7d");
    let (date, clock) = match text.split_once('T') {
        Some((d, c)) => (d, Some(c.strip_suffix('Z').ok_or_else(bad)?)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut micros = 0;
    if let Some(clock) = clock {
        let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
        let f: Vec<i64> = hms
            .split(':')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [h, mi, s] = f[..] else { return Err(bad()) };
        secs += h * 3600 + mi * 60 + s;
        if !frac.is_empty() {
            let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            micros = digits.parse().map_err(|_| bad())?;
        }
    }
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    Ok(format(
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros),
    ))
}

/// Microseconds since the Unix epoch of a time in the stored form
/// (`2026-11-26T01:02:03.456789Z`), for wire formats that count from the epoch.
pub(crate) fn unix_micros(ts: &str) -> Option<i64> {
    let (date, clock) = ts.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(str::parse::<i64>);
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) = (d.next(), d.next(), d.next(), d.next())
    else {
        return None;
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut c = hms.split(':').map(str::parse::<i64>);
    let (Some(Ok(h)), Some(Ok(mi)), Some(Ok(s)), None) = (c.next(), c.next(), c.next(), c.next())
    else {
        return None;
    };
    let micros: i64 = if frac.is_empty() {
        0
    } else {
        frac.chars()
            .chain(std::iter::repeat('0'))
            .take(6)
            .collect::<String>()
            .parse()
            .ok()?
    };
    let days = days_from_civil(y, u32::try_from(m).ok()?, u32::try_from(day).ok()?);
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + micros)
}

/// `90m`, `36h`, `7d`.
pub(crate) fn parse_age(text: &str) -> Option<Duration> {
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_the_formatting_machinery() {
        let mut t = 0u64;
        while t < 253_402_300_800 {
            let at = UNIX_EPOCH + Duration::new(t, (t % 1_000_000) as u32 * 1000);
            let d = at.duration_since(UNIX_EPOCH).expect("after the epoch");
            let secs = d.as_secs() as i64;
            let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, day) = civil_from_days(days);
            let want = format!(
                "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60,
                d.subsec_micros()
            );
            assert_eq!(format(at), want);
            t += 7_919_993;
        }
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(format(far), "10000-01-01T00:00:00.000000Z");
    }

    #[test]
    fn formats_and_parses() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000) + Duration::from_micros(123_456);
        let s = format(t);
        assert_eq!(s, "2026-11-18T11:06:40.123456Z");
        assert_eq!(parse_point(&s).as_deref(), Ok(s.as_str()));
        assert_eq!(
            parse_point("2026-11-18").as_deref(),
            Ok("2026-11-18T00:00:00.000000Z")
        );
        assert_eq!(
            parse_point("2024-02-29T23:59:59Z").as_deref(),
            Ok("2024-02-29T23:59:59.000000Z")
        );
        assert!(parse_point("yesterday").is_err());
        assert!(parse_point("2026-13-01").is_err());
        assert_eq!(parse_age("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert!(parse_point("1h").is_ok_and(|t| t < now()));
        assert_eq!(unix_micros(&s), Some(1_795_000_000_123_456));
        assert_eq!(unix_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_micros("yesterday"), None);
    }
}
