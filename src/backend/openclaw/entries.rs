//! Reading `sessions.json` fast and in little memory: the file is read through a window
//! (1 MiB, grown only for a larger entry), and serde_json parses one top-level member at
//! a time from the window's bytes. Parsing from a slice lets keys be borrowed and skipped
//! values be scanned in place, which `from_reader` cannot do; the window keeps a 70 MB
//! store from being held whole.
//!
//! The object's glue (`{`, `:`, `,`, `}`) is checked here and every key and value by
//! serde_json, so a read that succeeds has read a valid document, member by member, in
//! file order (duplicate keys included, as [`EntryMap`] keeps them). Anything else —
//! invalid or truncated JSON, a top level that is not an object — gives `None`, and the
//! caller reads the file again the slow way for serde_json's own error message.

use std::io::Read;

use serde::Deserialize;

use crate::backend::lenient::{Entry, EntryMap};

const WINDOW: usize = 1 << 20;

/// Where the reader is in the top-level object.
#[derive(Clone, Copy, PartialEq)]
enum At {
    Open,
    FirstKey,
    Key,
    Colon,
    Value,
    CommaOrClose,
    Closed,
}

/// The bytes of a file seen through a window that slides forward.
struct Window<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// A read failed: nothing read is trusted, however it ends.
    failed: bool,
}

impl<R: Read> Window<R> {
    /// Read more: keep the unread bytes, move them to the front, and grow the buffer only
    /// when they fill it (one member larger than the window). Ok(false) at end of file.
    fn refill(&mut self) -> Option<bool> {
        if self.eof {
            return Some(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Some(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Some(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.failed = true;
                    return None;
                }
            }
        }
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    fn peek(&mut self) -> Option<u8> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Some(b);
                }
                self.pos += 1;
            }
            if !self.refill()? {
                return None;
            }
        }
    }

    /// Parse one JSON value of type T at the current position. A value that runs to the
    /// window's end may have been cut short (a number, or any value the window ends in):
    /// read more and retry. An error inside the window is a real one: None.
    fn value<T: for<'de> Deserialize<'de>>(&mut self) -> Option<T> {
        loop {
            let slice = &self.buf[self.pos..self.end];
            let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
            match stream.next()? {
                Ok(v) if stream.byte_offset() < slice.len() || self.eof => {
                    self.pos += stream.byte_offset();
                    return Some(v);
                }
                Ok(_) => {}
                Err(e) if !self.eof && near_end(slice, &e) => {}
                Err(_) => return None,
            }
            // At the end of the file the loop makes one last try, which decides.
            self.refill()?;
        }
    }
}

/// Whether serde_json's error is at the last bytes of `slice` (where a cut-off value
/// fails: "EOF while parsing", or "invalid number" for a `2.` whose digits are still
/// unread). Its line and column are turned back into an offset.
fn near_end(slice: &[u8], e: &serde_json::Error) -> bool {
    let line_start = if e.line() <= 1 {
        0
    } else {
        match slice
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(e.line() - 2)
        {
            Some((i, _)) => i + 1,
            None => return true,
        }
    };
    line_start + e.column() + 2 >= slice.len()
}

/// Read a `sessions.json` object member by member through a window. None when the
/// document is not a valid JSON object (or cannot be read): the caller then reads it
/// with `serde_json::from_reader` for the error.
pub(super) fn read_entry_map(src: impl Read) -> Option<EntryMap> {
    read_through(src, WINDOW)
}

fn read_through(src: impl Read, window: usize) -> Option<EntryMap> {
    let mut w = Window {
        src,
        buf: vec![0; window.max(1)],
        pos: 0,
        end: 0,
        eof: false,
        failed: false,
    };
    let mut out = Vec::new();
    let mut key = String::new();
    let mut at = At::Open;
    loop {
        let next = w.peek();
        at = match (at, next) {
            (At::Closed, None) if !w.failed => return Some(EntryMap(out)),
            (At::Open, Some(b'{')) => {
                w.pos += 1;
                At::FirstKey
            }
            (At::FirstKey, Some(b'}')) | (At::CommaOrClose, Some(b'}')) => {
                w.pos += 1;
                At::Closed
            }
            (At::FirstKey | At::Key, Some(b'"')) => {
                key = w.value::<String>()?;
                At::Colon
            }
            (At::Colon, Some(b':')) => {
                w.pos += 1;
                At::Value
            }
            (At::Value, Some(_)) => {
                let entry = w.value::<Entry>()?;
                out.push((std::mem::take(&mut key), entry));
                At::CommaOrClose
            }
            (At::CommaOrClose, Some(b',')) => {
                w.pos += 1;
                At::Key
            }
            _ => return None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `n` bytes a call, as a pipe might.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn slow(doc: &[u8]) -> Option<Vec<(String, Entry)>> {
        serde_json::from_slice::<EntryMap>(doc).ok().map(|m| m.0)
    }

    /// The windowed read agrees with serde_json reading the whole document: the same
    /// members when it is valid, None when it is not, for every window and chunk size.
    fn agrees(doc: &[u8]) {
        let want = slow(doc);
        for window in [1, 2, 7, 64, 4096] {
            for chunk in [1, 4096] {
                let got = read_through(Trickle(doc, chunk), window).map(|m| m.0);
                assert_eq!(
                    got,
                    want,
                    "window {window}, chunk {chunk}: {:?}",
                    String::from_utf8_lossy(doc)
                );
            }
        }
    }

    const DOC: &str = r#"{
  "agent:main:main": {
    "sessionId": "5b2d4c1e-aaaa-4bbb-8ccc-000000000001",
    "status": "running",
    "updatedAt": 1795638113441,
    "skillsSnapshot": {"prompt": "a \"quoted\" }{ ][ string\\", "n": [1, 2.5e3, -7, true, null]},
    "abortedLastRun": true
  },
  "agent:main:cron:x\u00e9": {"sessionId": "s2", "updatedAt": "1795638113442"},
  "scalar": 12345,
  "null": null,
  "list": [1, {"a": "}"}],
  "agent:main:main": {"sessionId": "dup", "status": "done"}
}
"#;

    #[test]
    fn agrees_with_a_whole_document_read() {
        agrees(DOC.as_bytes());
        agrees(b"{}");
        agrees(b" \n{ } \n");
        agrees(br#"{"a":1}"#);
        agrees(br#"{"a":-0.5e-3,"b":"x"}"#);
    }

    #[test]
    fn every_truncation_and_corruption_is_refused() {
        let doc = DOC.as_bytes();
        for cut in 0..doc.len() {
            agrees(&doc[..cut]);
        }
        for bad in [
            &br#"[1,2]"#[..],
            br#"{"a":{}} x"#,
            br#"{"a":{},}"#,
            br#"{"a" {}}"#,
            br#"{,"a":{}}"#,
            br#"{"a":{}"b":{}}"#,
            br#"{"a":{"x":1]}"#,
            br#"{"a":12x}"#,
            br#"{"a":tru}"#,
            br#"{a:1}"#,
            b"{\"a\":\"\n\"}",
            b"\xef\xbb\xbf{}",
        ] {
            assert_eq!(slow(bad), None, "{:?}", String::from_utf8_lossy(bad));
            agrees(bad);
        }
    }

    /// A member that is wrong in the middle of a large file fails there: the window is not
    /// grown to read the rest of the file first.
    #[test]
    fn an_error_is_found_where_it_is() {
        let mut doc = br#"{"a":{"x":1]},"#.to_vec();
        for i in 0..100_000 {
            doc.extend_from_slice(format!(r#""k{i}":{{"sessionId":"s{i}"}},"#).as_bytes());
        }
        doc.extend_from_slice(br#""z":{}}"#);
        struct Count<'a>(&'a [u8], usize);
        impl Read for Count<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                self.1 += n;
                Ok(n)
            }
        }
        let mut src = Count(&doc, 0);
        assert!(read_through(&mut src, 4096).is_none());
        assert!(src.1 <= 8192, "read {} bytes of {}", src.1, doc.len());
    }

    /// A read that fails, even after the closing brace, fails the whole read (a whole-file
    /// read would report it).
    #[test]
    fn a_read_error_fails_the_read() {
        struct Broken<'a>(&'a [u8]);
        impl Read for Broken<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("disk gone"));
                }
                let n = self.0.len().min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert!(read_through(Broken(br#"{"a":{"sessionId":"x"}}"#), 64).is_none());
        assert!(read_through(Broken(br#"{"a":{"sessionId":"x"}"#), 64).is_none());
        assert!(read_through(br#"{"a":{"sessionId":"x"}}"#.as_slice(), 64).is_some());
    }
}
