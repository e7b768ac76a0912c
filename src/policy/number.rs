//! The numbers a lenient reader makes of a string. Servers coerce: pydantic's lax mode
//! (the official Python SDK) reads `" 0511 "`, `"+511"`, `"5_11"` and `"511.000"` as 511;
//! Python's `float()` reads `"5.11e2"`, `"inf"`; JavaScript's `Number()` reads `"0x1ff"`,
//! `"0o777"`, `" 511\n"` and `""` (as 0); `parseInt`/`parseFloat` read the longest numeric
//! prefix (`"511abc"`, `"511.9"` as 511 or 511.9); C's `strtol` and Go's `ParseInt` with base
//! 0 read a leading zero as octal (`"0777"` as 511). `int()` in code cuts a fraction off.
//!
//! Every one of those readings is returned, so a deny or ask rule on a number matches
//! whichever one a server makes. Infinities stand as the largest doubles, so that they
//! compare as the bounds they are; NaN, which compares as nothing, is left out.

use serde_json::Number;

/// Every number a common lenient reader could make of `text`, without repeats.
pub(crate) fn readings(text: &str) -> Vec<Number> {
    let mut out = Vec::new();
    let t = text.trim();
    if t.is_empty() {
        // JavaScript: Number("") and Number("  ") are 0.
        push_int(&mut out, 0, false);
        return out;
    }
    let (negative, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    // Underscores between digits (Python, pydantic, Go) are dropped; elsewhere they end
    // the number, as every reader says.
    let plain = without_digit_underscores(body);
    if let Some(plain) = plain.as_deref() {
        whole(&mut out, negative, plain);
        radix(&mut out, negative, plain);
        decimal(&mut out, negative, plain);
    }
    prefix(&mut out, negative, body);
    // `int()`, `parseInt`, `Math.trunc`: a fraction cut off.
    let truncated: Vec<f64> = out
        .iter()
        .filter(|n| !(n.is_i64() || n.is_u64()))
        .filter_map(Number::as_f64)
        .filter(|f| f.fract() != 0.0)
        .map(f64::trunc)
        .collect();
    for f in truncated {
        push_float(&mut out, f);
    }
    out
}

/// `body` with underscores removed when each stands between two digits; `None` when an
/// underscore stands anywhere else (then no reader takes the whole text as a number).
fn without_digit_underscores(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + 1).copied();
            let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_hexdigit());
            if !(digit(before) && digit(after)) {
                return None;
            }
        } else {
            out.push(char::from(b));
        }
    }
    // Only ASCII is a number to any of the readers above.
    body.is_ascii().then_some(out)
}

/// Digits, with an optional fraction of zeros only: pydantic's lax integer.
fn whole(out: &mut Vec<Number>, negative: bool, plain: &str) {
    let (int, fraction) = plain.split_once('.').unwrap_or((plain, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b == b'0')
    {
        return;
    }
    match int.parse::<u128>() {
        Ok(n) => push_int(out, n, negative),
        Err(_) => {
            if let Ok(f) = int.parse::<f64>() {
                push_float(out, if negative { -f } else { f });
            }
        }
    }
    // C, Go: a leading zero means octal.
    if int.len() > 1
        && int.starts_with('0')
        && fraction.is_empty()
        && let Ok(n) = u128::from_str_radix(&int[1..], 8)
    {
        push_int(out, n, negative);
    }
}

/// `0x1ff`, `0o777`, `0b111111111` (JavaScript, Python with base 0, Go), either case.
fn radix(out: &mut Vec<Number>, negative: bool, plain: &str) {
    let lower = plain.to_ascii_lowercase();
    let (radix, digits) = match lower.get(..2) {
        Some("0x") => (16, &lower[2..]),
        Some("0o") => (8, &lower[2..]),
        Some("0b") => (2, &lower[2..]),
        _ => return,
    };
    if let Ok(n) = u128::from_str_radix(digits, radix)
        && !digits.is_empty()
        && !digits.starts_with(['+', '-'])
    {
        push_int(out, n, negative);
    }
}

/// A decimal float as Python's `float()` and JavaScript's `Number()` read it: `1e3`, `.5`,
/// `5.`, `inf`, `Infinity`.
fn decimal(out: &mut Vec<Number>, negative: bool, plain: &str) {
    let lower = plain.to_ascii_lowercase();
    let value = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        // Digits alone were read exactly, as a whole number.
        _ if lower.bytes().all(|b| b.is_ascii_digit()) => return,
        _ if lower
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-')) =>
        {
            match lower.parse::<f64>() {
                Ok(f) => f,
                Err(_) => return,
            }
        }
        _ => return,
    };
    push_float(out, if negative { -value } else { value });
}

/// The longest numeric prefix, as `parseFloat` and `parseInt` read it (`"511abc"`,
/// `"0x1ffzz"`); an underscore ends it.
fn prefix(out: &mut Vec<Number>, negative: bool, body: &str) {
    let bytes = body.as_bytes();
    let lower = body.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        if let Ok(n) = u128::from_str_radix(&digits, 16) {
            push_int(out, n, negative);
        }
    }
    if lower.starts_with("infinity") {
        push_float(
            out,
            if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
        );
    }
    let int_end = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_end == 0 && bytes.first() != Some(&b'.') {
        return;
    }
    if let Ok(n) = body[..int_end].parse::<u128>() {
        push_int(out, n, negative);
    }
    // The longest prefix that parses as a decimal float.
    let mut end = int_end;
    if bytes.get(end) == Some(&b'.') {
        end += 1 + bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        let digits = bytes[exponent..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            end = exponent + digits;
        }
    }
    if end > int_end
        && let Ok(f) = body[..end].parse::<f64>()
    {
        push_float(out, if negative { -f } else { f });
    }
}

fn push_int(out: &mut Vec<Number>, magnitude: u128, negative: bool) {
    let number = if negative {
        i128::try_from(magnitude)
            .ok()
            .and_then(|n| i64::try_from(-n).ok())
            .map(Number::from)
            .or_else(|| Number::from_f64(-(magnitude as f64)))
    } else {
        u64::try_from(magnitude)
            .ok()
            .map(Number::from)
            .or_else(|| Number::from_f64(magnitude as f64))
    };
    if let Some(n) = number {
        push(out, n);
    }
}

fn push_float(out: &mut Vec<Number>, f: f64) {
    if f.is_nan() {
        return;
    }
    let f = f.clamp(f64::MIN, f64::MAX);
    // A whole number is kept as an integer where one can hold it, so it compares exactly.
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        push_int(out, f.abs() as u128, f < 0.0);
    } else if let Some(n) = Number::from_f64(f) {
        push(out, n);
    }
}

fn push(out: &mut Vec<Number>, n: Number) {
    let same = |m: &Number| super::predicate::compare(m, &n) == Some(std::cmp::Ordering::Equal);
    if !out.iter().any(same) {
        out.push(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<String> {
        readings(text).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn what_each_reader_makes_of_a_string() {
        for (text, expected) in [
            // pydantic's lax int, Python's int() and float().
            ("511", &["511"][..]),
            (" 511\n", &["511"]),
            ("+511", &["511"]),
            ("5_11", &["511", "5"]),
            ("511.000", &["511"]),
            ("-42", &["-42"]),
            ("5.11e2", &["511", "5"]),
            ("1e3", &["1000", "1"]),
            (".5", &["0.5", "0"]),
            ("inf", &["1.7976931348623157e+308"]),
            ("-Infinity", &["-1.7976931348623157e+308"]),
            // A leading zero: decimal to Python and JavaScript, octal to C and Go.
            ("0511", &["511", "329"]),
            ("0777", &["777", "511"]),
            ("0999", &["999"]),
            // Radix prefixes (JavaScript's Number(), Python's int(x, 0), Go).
            ("0x1ff", &["511", "0"]),
            ("0o777", &["511", "0"]),
            ("0b111111111", &["511", "0"]),
            // parseInt / parseFloat: the numeric prefix, and the fraction cut off.
            ("511abc", &["511"]),
            ("511.9", &["511.9", "511"]),
            ("511.9xyz", &["511", "511.9"]),
            ("12_34x", &["12"]),
            // JavaScript's Number("").
            ("", &["0"]),
            ("   ", &["0"]),
            // Nothing numeric.
            ("abc", &[]),
            ("_511", &[]),
            ("NaN", &[]),
            ("５１１", &[]),
        ] {
            assert_eq!(read(text), expected, "{text:?}");
        }
    }

    #[test]
    fn huge_numbers_stay_numbers() {
        assert_eq!(read("18446744073709551615"), ["18446744073709551615"]);
        assert_eq!(read("-9223372036854775808"), ["-9223372036854775808"]);
        assert_eq!(read("1e400"), ["1.7976931348623157e+308", "1"]);
        assert!(!read(&"9".repeat(60)).is_empty());
    }
}
