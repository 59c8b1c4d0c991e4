//! The origins this thread parsed last, so that a request URL on one of them is parsed from
//! its path on: a whole WHATWG parse costs about 3,000 instructions for a host name and
//! 6,000 for an IP address (IDNA runs first), most of a small request's URL work, while
//! the path alone costs about 1,600.
//!
//! Only URLs whose split can't change what they parse to are taken: `http://` or `https://`
//! as written, an authority of plain host and port characters (no `@`, `%`, `\`, space or
//! control), then a path that starts with one `/` (a second `/` or `\`, or a tab or
//! newline the parser would remove, could make the rest an authority), so the memo's
//! `join` gives exactly `Url::parse` of the whole (tested against it, and fuzzed).
//!
//! A URL given twice in a row is also kept whole, with its request target: an endpoint
//! called again and again (an RPC or GraphQL endpoint, a poll) then costs a clone of its
//! `Url` and `Uri`. Remembering the last input costs a copy into a reused buffer.

use std::cell::RefCell;

use http::uri::{Authority, PathAndQuery, Scheme};
use url::{Position, Url};

/// How many origins a thread keeps: a client talks to a few at a time.
const KEPT: usize = 4;

/// An origin, as written before its path, and what it parsed to.
struct Origin {
    written: Box<str>,
    /// The origin alone, path `/`: what the rest of a URL is joined to.
    base: Url,
    /// Its authority as `http::Uri` takes it, for [`request_target`].
    authority: Option<Authority>,
}

/// A URL given twice in a row, kept whole.
struct Whole {
    input: Box<str>,
    url: Url,
    target: Option<http::Uri>,
}

#[derive(Default)]
struct Recent {
    origins: [Option<Origin>; KEPT],
    /// Where the next new origin goes (oldest first out).
    next: usize,
    wholes: [Option<Whole>; KEPT],
    next_whole: usize,
    /// The input of the last parse that used an origin (the buffer is reused).
    last_input: String,
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::default();
}

impl Recent {
    /// Where the origin `written` is kept, if it is.
    fn find(&self, written: &str) -> Option<usize> {
        self.origins
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| &*o.written == written))
    }

    fn keep(&mut self, origin: Origin) {
        self.origins[self.next] = Some(origin);
        self.next = (self.next + 1) % KEPT;
    }

    fn whole(&self, input: &str) -> Option<&Whole> {
        self.wholes
            .iter()
            .flatten()
            .find(|whole| &*whole.input == input)
    }

    /// `url`, which `input` parsed to by `origin`: kept whole when `input` was also the
    /// last input, else remembered as the last.
    fn parsed(&mut self, input: &str, url: &Url, origin: usize) {
        if self.last_input != input {
            self.last_input.clear();
            self.last_input.push_str(input);
            return;
        }
        let authority = self.origins[origin]
            .as_ref()
            .and_then(|o| o.authority.clone());
        let whole = Whole {
            input: input.into(),
            url: url.clone(),
            target: authority.and_then(|authority| target_of(url, authority)),
        };
        self.wholes[self.next_whole] = Some(whole);
        self.next_whole = (self.next_whole + 1) % KEPT;
    }
}

/// `input` cut where its path begins, when the cut is safe (see the module docs).
fn split(input: &str) -> Option<(&str, &str)> {
    let after_scheme = if input.starts_with("https://") {
        8
    } else if input.starts_with("http://") {
        7
    } else {
        return None;
    };
    let authority_len = input[after_scheme..].find('/')?;
    let (written, path) = input.split_at(after_scheme + authority_len);
    let authority = &written[after_scheme..];
    let plain = |b: u8| matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'[' | b']');
    if authority.is_empty() || !authority.bytes().all(plain) {
        return None;
    }
    let path_bytes = path.as_bytes();
    if matches!(path_bytes.get(1), Some(b'/' | b'\\'))
        || path_bytes
            .iter()
            .any(|&b| matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return None;
    }
    Some((written, path))
}

/// `input` parsed, from this thread's memo: whole when it was given twice in a row
/// lately, else by its remembered origin; `None` when `input` can't be split safely or
/// its origin isn't remembered (see [`remember`]).
pub(super) fn parse(input: &str) -> Option<Result<Url, url::ParseError>> {
    RECENT.with(|recent| {
        let mut recent = recent.try_borrow_mut().ok()?;
        // Before the split: only inputs that split safely are kept whole (`parsed` is
        // reached through `split` alone), and the split costs more than the lookup.
        if let Some(whole) = recent.whole(input) {
            return Some(Ok(whole.url.clone()));
        }
        let (written, path) = split(input)?;
        let origin = recent.find(written)?;
        let base = &recent.origins[origin].as_ref()?.base;
        let url = base.join(path);
        if let Ok(url) = &url {
            recent.parsed(input, url, origin);
        }
        Some(url)
    })
}

/// Remembers the origin of `url`, which `input` parsed to and passed the request checks,
/// when `input` splits safely.
pub(super) fn remember(input: &str, url: &Url) {
    let Some((written, _)) = split(input) else {
        return;
    };
    let mut base = url.clone();
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    let authority = url[Position::BeforeHost..Position::BeforePath].parse().ok();
    let origin = Origin {
        written: written.into(),
        base,
        authority,
    };
    RECENT.with(|recent| {
        if let Ok(mut recent) = recent.try_borrow_mut() {
            if recent.find(written).is_none() {
                recent.keep(origin);
            }
        }
    });
}

/// The request target of `url` as an `http::Uri`, from this thread's memo: kept whole,
/// or built from parts when its origin is remembered (parsing the authority again costs
/// more than the rest); `None` otherwise, or when the parts don't make a `Uri` (the
/// caller's parse then says why).
pub(crate) fn request_target(url: &Url) -> Option<http::Uri> {
    let origin = &url[..Position::BeforePath];
    RECENT.with(|recent| {
        let recent = recent.try_borrow().ok()?;
        if let Some(whole) = recent.wholes.iter().flatten().find(|w| w.url == *url) {
            return whole.target.clone();
        }
        let kept = recent
            .origins
            .iter()
            .flatten()
            .find(|kept| &kept.base[..Position::BeforePath] == origin)?;
        target_of(url, kept.authority.clone()?)
    })
}

/// `url`'s request target, with its authority already parsed.
fn target_of(url: &Url, authority: Authority) -> Option<http::Uri> {
    let scheme = match url.scheme() {
        "https" => Scheme::HTTPS,
        "http" => Scheme::HTTP,
        _ => return None,
    };
    let path = url[Position::BeforePath..Position::AfterQuery].as_bytes();
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(scheme);
    parts.authority = Some(authority);
    parts.path_and_query =
        Some(PathAndQuery::from_maybe_shared(bytes::Bytes::copy_from_slice(path)).ok()?);
    http::Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each input parses alike cold, warm (its origin remembered), and by `Url::parse`.
    #[test]
    fn a_remembered_origin_parses_exactly_as_the_whole_url() {
        let inputs = [
            "https://127.0.0.1:8443/small",
            "https://127.0.0.1:8443/a/../b/./c?x=1&y=%41#frag",
            "https://127.0.0.1:8443/%2e%2e/etc",
            "https://127.0.0.1:8443/\\\\evil.test/",
            "https://127.0.0.1:8443//evil.test/",
            "https://127.0.0.1:8443/\t/evil.test/",
            "https://127.0.0.1:8443/ünïcode path/ ?q=ü ",
            "https://127.0.0.1:8443/ ",
            "https://Example.COM:443/x",
            "http://example.com:80/x",
            "http://example.com:/x",
            "http://[::1]:8080/x?y",
            "http://[0:0::1]/x",
            "https://0x7f.1/x",
            "https://example.com./x",
            "http://example.com/",
            "https://xn--nxasmq6b.test/x",
        ];
        for input in inputs {
            let whole = Url::parse(input).unwrap();
            // Cold, by the origin, by the origin again (now the last input), kept whole.
            for round in 0..4 {
                let parsed = crate::into_url::parse_url(input).unwrap().0;
                assert_eq!(parsed, whole, "{input}, round {round}");
                if let Some(uri) = request_target(&parsed) {
                    assert_eq!(uri, input_uri(&whole), "{input}, round {round}");
                }
            }
        }
    }

    fn input_uri(url: &Url) -> http::Uri {
        url.as_str().parse().unwrap()
    }

    /// `parse` looks an input up whole before splitting it: that is sound only while no
    /// input that splits unsafely is ever kept whole.
    #[test]
    fn an_input_cut_unsafely_is_never_kept_whole() {
        for input in [
            "https://a.test//x",
            "https://a.test/\t/x",
            "https://user@a.test/x",
        ] {
            for _ in 0..3 {
                let _ = crate::into_url::parse_url(input);
            }
            RECENT.with(|recent| assert!(recent.borrow().whole(input).is_none(), "{input}"));
        }
        // The same calls keep a safe input whole, so the check above can fail.
        for _ in 0..3 {
            let _ = crate::into_url::parse_url("https://a.test/x");
        }
        RECENT.with(|recent| assert!(recent.borrow().whole("https://a.test/x").is_some()));
    }

    #[test]
    fn only_a_safe_cut_is_taken() {
        assert_eq!(
            split("https://a.test:1/x?y"),
            Some(("https://a.test:1", "/x?y"))
        );
        for unsafe_cut in [
            "https://a.test//x",
            "https://a.test/\\x",
            "https://a.test/\t/x",
            "https://user@a.test/x",
            "https://a%2e.test/x",
            "https://a.test?x",
            "https://a.test",
            "HTTPS://a.test/x",
            "ftp://a.test/x",
            "https:///x",
            "https://ü.test/x",
        ] {
            assert_eq!(split(unsafe_cut), None, "{unsafe_cut}");
        }
    }

    #[test]
    fn the_memo_is_used_once_an_origin_was_parsed() {
        let input = "https://memo.test:9/first";
        let (written, _) = split(input).unwrap();
        let remembered = || RECENT.with(|recent| recent.borrow().find(written).is_some());
        assert!(!remembered());
        crate::into_url::parse_url(input).unwrap();
        assert!(remembered());
        assert!(parse("https://memo.test:9/second").is_some());
        assert!(parse("https://other.test:9/second").is_none());
        // Credentials are never remembered.
        crate::into_url::parse_url("https://u:p@cred.test/x").unwrap();
        assert!(parse("https://cred.test/x").is_none());
    }

    #[test]
    fn a_url_is_kept_whole_once_given_twice_in_a_row() {
        let kept = |input: &str| RECENT.with(|recent| recent.borrow().whole(input).is_some());
        let (a, b) = ("https://whole.test/a?x=1", "https://whole.test/b");
        for input in [a, b, a, b, a] {
            crate::into_url::parse_url(input).unwrap();
        }
        assert!(!kept(a) && !kept(b), "never twice in a row");
        crate::into_url::parse_url(a).unwrap();
        assert!(kept(a) && !kept(b));
        let url = parse(a).unwrap().unwrap();
        assert_eq!(url.as_str(), a);
        assert_eq!(request_target(&url).unwrap(), input_uri(&url));
    }
}
