//! The check on request heads: what the client writes must be clean HTTP/1.1.

/// A request head as the client wrote it.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// Names lowercased; values as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }
}

/// Parses and checks the request head at the start of `written`, panicking (a finding) if
/// it breaks HTTP/1.1 framing: a bare CR or LF or a NUL anywhere, a request line that is
/// not `token SP target SP HTTP/1.1`, a header line that is not `token ":" value` (a
/// line starting with whitespace would be an obsolete fold). `None` when no complete head
/// was written.
pub fn check_head(written: &[u8]) -> Option<Head> {
    let end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &written[..end];
    let mut lines = Vec::new();
    let mut rest = head;
    loop {
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(at) => {
                lines.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => {
                lines.push(rest);
                break;
            }
        }
    }
    for line in &lines {
        assert!(
            !line.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "a CR, LF or NUL inside a head line: {:?}",
            String::from_utf8_lossy(line)
        );
    }
    let request_line = std::str::from_utf8(lines[0]).expect("the request line is ASCII");
    let parts: Vec<&str> = request_line.split(' ').collect();
    assert_eq!(parts.len(), 3, "request line {request_line:?}");
    assert!(
        !parts[0].is_empty() && parts[0].bytes().all(is_tchar),
        "method {:?}",
        parts[0]
    );
    assert!(
        !parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_graphic()),
        "request target {:?}",
        parts[1]
    );
    assert_eq!(parts[2], "HTTP/1.1", "request line {request_line:?}");
    let mut headers = Vec::new();
    for line in &lines[1..] {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .unwrap_or_else(|| panic!("header line without a colon: {line:?}"));
        let name = &line[..colon];
        assert!(
            !name.is_empty() && name.iter().copied().all(is_tchar),
            "header name {:?}",
            String::from_utf8_lossy(name)
        );
        let value = &line[colon + 1..];
        headers.push((
            String::from_utf8_lossy(name).to_ascii_lowercase(),
            value.trim_ascii().to_vec(),
        ));
    }
    Some(Head {
        method: parts[0].to_owned(),
        target: parts[1].to_owned(),
        headers,
    })
}

/// RFC 9110 `tchar`, what methods and header names are made of.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
