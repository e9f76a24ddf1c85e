//! JSON text exactly as serde_json writes it, but with the float writer of [`crate::num`]:
//! serde_json's own float writer brings a 5 KB table into the web page.
//!
//! Everything the page writes as JSON goes through [`to_string`] or [`to_string_pretty`]
//! (and what serde_json would print with `Display`, a `Value` or a `Number`, through [`shown`]).

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};
use std::io::{self, Write};

fn write_f64<W: ?Sized + Write>(w: &mut W, x: f64) -> io::Result<()> {
    w.write_all(crate::num::json_f64(x).as_bytes())
}

/// serde_json's compact layout.
struct Compact;

impl Formatter for Compact {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, x: f64) -> io::Result<()> {
        write_f64(w, x)
    }
}

/// serde_json's pretty layout: its own formatter, but for floats.
struct Pretty<'a>(PrettyFormatter<'a>);

impl Formatter for Pretty<'_> {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, x: f64) -> io::Result<()> {
        write_f64(w, x)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn write<T: Serialize + ?Sized, F: Formatter>(x: &T, f: F) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    x.serialize(&mut Serializer::with_formatter(&mut out, f))?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// `x` as `serde_json::to_string` writes it (and a `Value` or `Number` as it displays).
pub fn to_string<T: Serialize + ?Sized>(x: &T) -> serde_json::Result<String> {
    write(x, Compact)
}

/// A `Value` or `Number` as serde_json displays it (`{v}`): compact JSON.
pub fn shown<T: Serialize + ?Sized>(x: &T) -> String {
    to_string(x).unwrap_or_default()
}

/// `x` as `serde_json::to_string_pretty` writes it.
pub fn to_string_pretty<T: Serialize + ?Sized>(x: &T) -> serde_json::Result<String> {
    write(x, Pretty(PrettyFormatter::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_what_serde_json_writes() {
        let v = json!({
            "a": [1, -2, 3.5, 1e300, 0.1, -0.0, 1764771234567.0, null, true, "x\"\\\n\u{1}é"],
            "b": {"c": [], "d": {}, "e": [{"f": 2.5e-7}]},
            "g": u64::MAX,
            "h": i64::MIN,
        });
        assert_eq!(to_string(&v).unwrap(), v.to_string());
        assert_eq!(
            to_string_pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        for n in [json!(1), json!(-1), json!(2.5), json!(1e16)] {
            assert_eq!(to_string(&n).unwrap(), n.to_string());
        }
    }

    #[test]
    fn the_files_the_page_saves_are_what_serde_json_writes() {
        use crate::lab::{run_card, CardId, Settings};
        use crate::tracefile::{Checkpoint, Session, TraceFile};
        let s = Settings::default();
        for id in CardId::ALL {
            let card = run_card(id, &s);
            let file = TraceFile::new(&card, &s);
            assert_eq!(file.to_json(), serde_json::to_string_pretty(&file).unwrap());
            let checkpoint = Checkpoint::new(&s, "m", "b", 1_764_771_234_567.25, &card.run);
            let theirs = serde_json::to_string_pretty(&checkpoint).unwrap();
            assert_eq!(checkpoint.to_json(), theirs);
        }
        let session = Session::new(&s, Some((CardId::A, 1_500)));
        assert_eq!(
            session.to_json(),
            serde_json::to_string_pretty(&session).unwrap()
        );
    }
}
