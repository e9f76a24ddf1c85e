//! Numbers in text, without the standard library's float machinery.
//!
//! `str::parse::<f64>` carries an 11 KB table of powers of five and its own big-number code;
//! `f64::clamp` carries the float formatter for its panic message. A web page pays for both in
//! download size, so the lab reads and clamps its numbers here instead: with the very same
//! results, in a couple of KB of WebAssembly.

use std::cmp::Ordering;

/// Reads `s` exactly as `s.parse::<f64>()` does: the same syntax (an optional sign, then
/// digits with an optional point and exponent, or `inf`, `infinity`, `nan` in any case; no
/// spaces) and the same value, rounded to the nearest double, ties to even. `None` where
/// `parse` gives an error.
pub fn parse_f64(s: &str) -> Option<f64> {
    let (neg, b) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        b => (false, b),
    };
    let v = if b.eq_ignore_ascii_case(b"inf") || b.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if b.eq_ignore_ascii_case(b"nan") {
        f64::NAN
    } else {
        decimal(b)?
    };
    Some(if neg { -v } else { v })
}

/// Significant digits kept: every number halfway between two doubles has fewer (at most 767),
/// so the digits after these only matter as "some were not zero".
const MAX_DIGITS: usize = 800;

/// An unsigned decimal number (no sign, no `inf` or `nan`), correctly rounded.
fn decimal(b: &[u8]) -> Option<f64> {
    // The value is 0.d1d2d3... × 10^point, with d1 the first digit that is not zero.
    let mut digits: Vec<u8> = Vec::new();
    let mut point: i64 = 0;
    let (mut any, mut after_point, mut truncated) = (false, false, false);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            any = true;
            let d = c - b'0';
            if digits.is_empty() && d == 0 {
                point -= after_point as i64;
            } else {
                point += !after_point as i64;
                if digits.len() < MAX_DIGITS {
                    digits.push(d);
                } else {
                    truncated |= d != 0;
                }
            }
        } else if c == b'.' && !after_point {
            after_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if let Some(&e) = b.get(i) {
        if e | 0x20 != b'e' {
            return None;
        }
        i += 1;
        let neg = b.get(i) == Some(&b'-');
        i += matches!(b.get(i), Some(b'-' | b'+')) as usize;
        let exp = b.get(i..).filter(|x| !x.is_empty())?;
        // Saturated where the standard library saturates it.
        let mut n: i64 = 0;
        for &c in exp {
            if !c.is_ascii_digit() {
                return None;
            }
            if n < 0x10000 {
                n = 10 * n + (c - b'0') as i64;
            }
        }
        point += if neg { -n } else { n };
    }
    if truncated {
        // Stands for the digits that were dropped: above the kept ones, below the next step.
        digits.push(1);
    } else {
        while digits.last() == Some(&0) {
            digits.pop();
        }
    }
    if digits.is_empty() || point < -330 {
        return Some(0.0);
    }
    if point > 310 {
        return Some(f64::INFINITY);
    }
    // The value is the whole number `digits` × 10^exp10.
    let exp10 = point - digits.len() as i64;
    if digits.len() <= 15 && (-22..=22).contains(&exp10) {
        // Both are exact doubles, so one rounding: the correctly rounded result.
        let whole = digits.iter().fold(0u64, |n, d| n * 10 + *d as u64) as f64;
        let pow = (0..exp10.abs()).fold(1.0, |p, _| p * 10.0);
        return Some(if exp10 < 0 { whole / pow } else { whole * pow });
    }
    Some(slow(&digits, exp10))
}

/// `digits` × 10^`exp10`, correctly rounded, with big whole numbers: value = num / den.
fn slow(digits: &[u8], exp10: i64) -> f64 {
    let mut num = Vec::new();
    for d in digits {
        mul_add(&mut num, 10, *d as u32);
    }
    let mut den = vec![1];
    for _ in 0..exp10.unsigned_abs() {
        mul_add(if exp10 < 0 { &mut den } else { &mut num }, 10, 0);
    }
    // e2 = floor(log2(value)): the bit lengths give it or one more.
    let mut e2 = bit_len(&num) - bit_len(&den);
    if cmp_scaled(&num, &den, e2) == Ordering::Less {
        e2 -= 1;
    }
    if e2 > 1023 {
        return f64::INFINITY;
    }
    // The last place of the result, and q = floor(value / 2^(ulp - 1)): the mantissa and one
    // more bit, which says whether the rest is at least half a last place.
    let ulp = (e2 - 52).max(-1074);
    let shift = 1 - ulp;
    if shift >= 0 {
        shl(&mut num, shift as u32);
    } else {
        shl(&mut den, (-shift) as u32);
    }
    let (q, rest) = div(num, &den);
    let (mut mantissa, half) = (q >> 1, q & 1 == 1);
    if half && (!rest.is_empty() || mantissa & 1 == 1) {
        mantissa += 1;
    }
    // A carry into the next power of two moves the exponent up by itself.
    let bits = (((ulp + 1074) as u64) << 52) + mantissa;
    if bits >= f64::INFINITY.to_bits() {
        f64::INFINITY
    } else {
        f64::from_bits(bits)
    }
}

/// `x` as serde_json writes a float: the shortest decimal that reads back as `x` (of those,
/// the closest to `x`, ties to an even last digit), as `17.0`, `0.00001`, `1.5e-7`, `1e+16`.
/// serde_json's own writer carries a 5 KB table; this one is slower, and fine for the few
/// floats the page writes. `x` must be finite.
pub fn json_f64(x: f64) -> String {
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    if x == 0.0 {
        out.push_str("0.0");
        return out;
    }
    let (d, q) = shortest_decimal(x.abs());
    let digits = d.to_string();
    let n = digits.len() as i64;
    // The exponent of the first digit, as in 1.234e5.
    let exp = q + n - 1;
    let zeros = |out: &mut String, count: i64| (0..count).for_each(|_| out.push('0'));
    if !(-5..=15).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(if exp < 0 { "e-" } else { "e+" });
        out.push_str(&exp.unsigned_abs().to_string());
    } else if exp < 0 {
        out.push_str("0.");
        zeros(&mut out, -exp - 1);
        out.push_str(&digits);
    } else if exp >= n - 1 {
        out.push_str(&digits);
        zeros(&mut out, exp - n + 1);
        out.push_str(".0");
    } else {
        let (int, frac) = digits.split_at(exp as usize + 1);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// The shortest decimal `d` × 10^`q` (no trailing zeros in `d`) that reads back as `x` > 0,
/// and of those the closest to `x`, ties to even: exactly, with big whole numbers.
fn shortest_decimal(x: f64) -> (u64, i64) {
    let bits = x.to_bits();
    let (field, frac) = ((bits >> 52) as i64, bits & ((1 << 52) - 1));
    let (m, e) = if field == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, field - 1075)
    };
    // The numbers that read back as x run from halfway to the double below to halfway to the
    // one above (which is twice as far off at a power of two), the ends included when the
    // mantissa is even. Below: those ends and x, in units of 2^(e-2).
    let below = if frac == 0 && field > 1 { 1 } else { 2 };
    let (lo, mid, hi) = (4 * m - below, 4 * m, 4 * m + 2);
    let ends_in = m % 2 == 0;
    // Start at the first power of ten above the width 2^e: at most one candidate there (and
    // any shorter one is that one with its zeros dropped); else the closest one below.
    let mut q = (e * 78_913).div_euclid(1 << 18) + 1;
    loop {
        // value / 10^q = scaled(value) / den.
        let scaled = |v: u64| {
            let mut n = vec![v as u32, (v >> 32) as u32];
            while n.last() == Some(&0) {
                n.pop();
            }
            shl(&mut n, (e - 2).max(0) as u32);
            for _ in q..0 {
                mul_add(&mut n, 10, 0);
            }
            n
        };
        let mut den = vec![1];
        shl(&mut den, (2 - e).max(0) as u32);
        for _ in 0..q {
            mul_add(&mut den, 10, 0);
        }
        let (a, rest_a) = div(scaled(lo), &den);
        let (b, rest_b) = div(scaled(hi), &den);
        // The candidates first..=last: multiples of 10^q within the range.
        let first = a + !(rest_a.is_empty() && ends_in) as u64;
        let last = b as i128 - (rest_b.is_empty() && !ends_in) as i128;
        if first as i128 <= last {
            let (c, rest) = div(scaled(mid), &den);
            let mut twice = rest;
            shl(&mut twice, 1);
            let up = match cmp(&twice, &den) {
                Ordering::Greater => true,
                Ordering::Equal => c % 2 == 1,
                Ordering::Less => false,
            };
            let (mut d, mut q) = ((c + up as u64).clamp(first, last as u64), q);
            while d % 10 == 0 {
                d /= 10;
                q += 1;
            }
            return (d, q);
        }
        q -= 1;
    }
}

/// `num` / `den` and the remainder, for a quotient below 2^64.
fn div(mut num: Vec<u32>, den: &[u32]) -> (u64, Vec<u32>) {
    let mut q = 0u64;
    for bit in (0..64).rev() {
        let mut d = den.to_vec();
        shl(&mut d, bit);
        if cmp(&num, &d) != Ordering::Less {
            sub(&mut num, &d);
            q |= 1 << bit;
        }
    }
    (q, num)
}

/// `a` = `a` × `m` + `add` (little-endian 32-bit limbs, no zero limb on top).
fn mul_add(a: &mut Vec<u32>, m: u32, add: u32) {
    let mut carry = add as u64;
    for x in a.iter_mut() {
        let v = *x as u64 * m as u64 + carry;
        *x = v as u32;
        carry = v >> 32;
    }
    if carry > 0 {
        a.push(carry as u32);
    }
}

/// `a` = `a` × 2^`n`.
fn shl(a: &mut Vec<u32>, n: u32) {
    let bits = n % 32;
    if bits > 0 {
        mul_add(a, 1 << bits, 0);
    }
    a.splice(0..0, std::iter::repeat_n(0, (n / 32) as usize));
}

fn bit_len(a: &[u32]) -> i64 {
    a.last()
        .map_or(0, |top| 32 * a.len() as i64 - top.leading_zeros() as i64)
}

fn cmp(a: &[u32], b: &[u32]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

/// Compares `a` with `b` × 2^`e`.
fn cmp_scaled(a: &[u32], b: &[u32], e: i64) -> Ordering {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    if e >= 0 {
        shl(&mut b, e as u32);
    } else {
        shl(&mut a, (-e) as u32);
    }
    cmp(&a, &b)
}

/// `a` = `a` − `b`, for `a` ≥ `b`.
fn sub(a: &mut Vec<u32>, b: &[u32]) {
    let mut borrow = 0i64;
    for (i, x) in a.iter_mut().enumerate() {
        let v = *x as i64 - b.get(i).copied().unwrap_or(0) as i64 - borrow;
        *x = v as u32;
        borrow = (v < 0) as i64;
    }
    while a.last() == Some(&0) {
        a.pop();
    }
}

/// `x` held within `lo..=hi`, as `x.clamp(lo, hi)` (NaN stays NaN) but without its panic for
/// `lo > hi` (whose message would bring the float formatter into a web page): then it is `lo`
/// when `x < lo`, else at most `hi`.
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(s: &str) {
        let std = s.parse::<f64>().ok();
        let ours = parse_f64(s);
        match (std, ours) {
            (Some(a), Some(b)) if a.is_nan() => assert!(b.is_nan(), "{s}"),
            (a, b) => assert_eq!(
                a.map(f64::to_bits),
                b.map(f64::to_bits),
                "{s}: std {a:?}, ours {b:?}"
            ),
        }
    }

    #[test]
    fn reads_what_the_standard_library_reads() {
        const CASES: &str = "
            0 1 -1 +1 0.05 .5 5. . - + e5 1e 1e+ 1e- 1e5 1E5 1e+5 1e-5 1.5e3 00012 0.000 -0 -0.0
            +.0 1_000 1.2.3 1e5.5 0x10 inf -inf +INF Infinity -infinity infinit nan NaN -nan +nAn
            nana 1e308 1.7976931348623157e308 1.7976931348623158e308 1.7976931348623159e308 1e309
            2e-308 2.2250738585072014e-308 2.2250738585072011e-308 4.9e-324 5e-324
            2.4703282292062327e-324 2.4703282292062328e-324 2.47032822920623272e-324 1e-400 1e400
            0e99999999999999999 1e-99999999999999999 9007199254740993 9007199254740992.5 0.1 0.2
            0.3 123456789012345678901234567890 3.14159265358979323846264338327950288 1e22 1e23
            1e-22 1e-23 8.98846567431158e307 0.0000005 4.35 3.6e6 999999.999999
            1.00000000000000011102230246251565404236316680908203125
            1.00000000000000011102230246251565404236316680908203124
            1.00000000000000011102230246251565404236316680908203126
            6.103515625e-05 7.450580596923828125e-9 1. 1.e3 .e3 -.5e-2 ۱";
        for s in CASES.split_whitespace().chain(["", " 1", "1 ", "1\n"]) {
            same(s);
        }
        // The halfway point between 0 and the smallest subnormal, written out: ties to even.
        let half_min = format!("{:.1100}", 2f64.powi(-1074) / 2.0);
        same(&half_min);
        same(&format!("{half_min}1"));
        same(&format!("{}{}", "1".repeat(900), ".5"));
        same(&format!("0.{}1e900", "0".repeat(1000)));
        same(&format!("{}e-70000", "1".repeat(70_001)));
    }

    #[test]
    fn reads_every_kind_of_number_like_the_standard_library() {
        // A deterministic stream of numbers near powers of two and ten, in every length.
        let mut r = crate::rng::Rng::stream(7, 0);
        for _ in 0..20_000 {
            let x = f64::from_bits(r.next_u64());
            if x.is_finite() {
                let s = format!("{x:e}");
                same(&s);
                let s17 = format!("{x:.17e}");
                same(&s17);
                same(&format!("{:.25e}", x));
            }
            let digits = 1 + (r.next_u64() % 30) as usize;
            let mut s: String = (0..digits)
                .map(|_| char::from(b'0' + (r.next_u64() % 10) as u8))
                .collect();
            let at = (r.next_u64() % (digits as u64 + 1)) as usize;
            s.insert(at, '.');
            let e = (r.next_u64() % 700) as i64 - 350;
            same(&s);
            same(&format!("{s}e{e}"));
        }
    }

    /// `a` in decimal.
    fn to_decimal(a: &[u32]) -> String {
        let mut a = a.to_vec();
        let mut out = Vec::new();
        while !a.is_empty() {
            let mut rem = 0u64;
            for x in a.iter_mut().rev() {
                let v = (rem << 32) | *x as u64;
                *x = (v / 10) as u32;
                rem = v % 10;
            }
            while a.last() == Some(&0) {
                a.pop();
            }
            out.push(b'0' + rem as u8);
        }
        out.reverse();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn rounds_halfway_points_to_even_like_the_standard_library() {
        // Every double's upper halfway point m × 2^k + 2^(k-1) = (2m + 1) × 2^(k-1), exactly
        // in decimal, and the numbers just above and below it.
        let mut r = crate::rng::Rng::stream(11, 0);
        for i in 0..4_000u64 {
            let bits = if i < 64 { i } else { r.next_u64() >> 1 };
            let x = f64::from_bits(bits);
            if !x.is_finite() {
                continue;
            }
            let exp = ((bits >> 52) & 0x7ff) as i64;
            let frac = bits & ((1 << 52) - 1);
            let (m, k) = if exp == 0 {
                (frac, -1074)
            } else {
                (frac | 1 << 52, exp - 1075)
            };
            let odd = 2 * m + 1;
            let mut n = vec![odd as u32, (odd >> 32) as u32];
            while n.last() == Some(&0) {
                n.pop();
            }
            let e = k - 1;
            let exp10 = if e >= 0 {
                shl(&mut n, e as u32);
                0
            } else {
                for _ in 0..-e {
                    mul_add(&mut n, 5, 0);
                }
                e
            };
            let mut above = n.clone();
            mul_add(&mut above, 10, 1);
            let mut below = n.clone();
            mul_add(&mut below, 10, 0);
            sub(&mut below, &[1]);
            same(&format!("{}e{exp10}", to_decimal(&n)));
            same(&format!("{}e{}", to_decimal(&above), exp10 - 1));
            same(&format!("{}e{}", to_decimal(&below), exp10 - 1));
        }
    }

    fn writes_like_serde_json(x: f64) {
        if x.is_finite() {
            let theirs = serde_json::Value::from(x).to_string();
            assert_eq!(json_f64(x), theirs, "{:e}", x);
        }
    }

    #[test]
    fn writes_floats_as_serde_json_does() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            17.0,
            17.5,
            0.1,
            0.2,
            0.3,
            1.5e-7,
            1e-5,
            1e-6,
            1e-4,
            0.001,
            1e15,
            1e16,
            1e17,
            9.999e15,
            1e21,
            1e22,
            1e23,
            1e300,
            1e-300,
            5e-324,
            1e-323,
            2.2250738585072014e-308,
            2.225073858507201e-308,
            1.7976931348623157e308,
            123456789012345680.0,
            1234567.0,
            1.0 / 3.0,
            2.0 / 3.0,
            2.5e-5,
            1764771234567.0,
            1764771234567.25,
            9007199254740993.0,
            4.35,
            0.000123456,
            12345.678,
        ] {
            writes_like_serde_json(x);
        }
        // Every power of two (the range below a power of two is half as wide).
        for e in -1074..1024 {
            writes_like_serde_json(2f64.powi(e));
        }
        let mut r = crate::rng::Rng::stream(13, 0);
        for _ in 0..20_000 {
            // Any double; one with a short binary fraction (whose decimals end in 5, so that
            // two candidates can be equally close); one with few significant digits.
            writes_like_serde_json(f64::from_bits(r.next_u64()));
            let odd = (r.next_u64() >> (11 + r.next_u64() % 40)) | 1;
            writes_like_serde_json(odd as f64 / 2f64.powi((r.next_u64() % 64) as i32));
            let short =
                (r.next_u64() % 100_000) as f64 * 10f64.powi((r.next_u64() % 60) as i32 - 30);
            writes_like_serde_json(short);
        }
    }

    #[test]
    fn clamps_like_the_standard_library() {
        for x in [-1.0, 0.0, 0.5, 1.0, 2.0, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(clamp(x, 0.0, 1.0), x.clamp(0.0, 1.0));
        }
        assert!(clamp(f64::NAN, 0.0, 1.0).is_nan());
    }
}
