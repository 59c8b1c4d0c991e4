//! What a client run measures: the scenario and the HTTP version, as named on the command line.

use std::fmt;
use std::str::FromStr;

/// One measured workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Small GETs one after another on one kept-alive connection.
    Seq,
    /// `--concurrency` tasks doing small GETs at once through one client.
    Concurrent,
    /// Large bodies read chunk by chunk.
    Download,
    /// Large streamed request bodies.
    Upload,
    /// A new TCP + TLS connection per request, TLS sessions resumed.
    NewConn,
    /// A new TCP + TLS connection per request, every handshake a full one.
    NewConnNoResume,
    /// The cost of `Client::new()` with the system roots.
    ClientNew,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 7] = [
        Scenario::Seq,
        Scenario::Concurrent,
        Scenario::Download,
        Scenario::Upload,
        Scenario::NewConn,
        Scenario::NewConnNoResume,
        Scenario::ClientNew,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Seq => "seq",
            Scenario::Concurrent => "concurrent",
            Scenario::Download => "download",
            Scenario::Upload => "upload",
            Scenario::NewConn => "newconn",
            Scenario::NewConnNoResume => "newconn-noresume",
            Scenario::ClientNew => "client-new",
        }
    }

    /// Whether the HTTP version changes what is measured (not for `Client::new()`).
    pub fn has_http_version(self) -> bool {
        self != Scenario::ClientNew
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == s)
            .ok_or_else(|| format!("unknown scenario {s:?}"))
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The HTTP version a client is told to use: HTTP/1.1 by ALPN offering only
/// `http/1.1`, h2 by the default ALPN offer (h2 first) that the server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Http {
    /// HTTP/1.1.
    One,
    /// HTTP/2.
    Two,
}

impl Http {
    /// The version responses must come back with.
    pub fn version(self) -> http::Version {
        match self {
            Http::One => http::Version::HTTP_11,
            Http::Two => http::Version::HTTP_2,
        }
    }

    /// `1` or `2`, as on the command line.
    pub fn arg(self) -> &'static str {
        match self {
            Http::One => "1",
            Http::Two => "2",
        }
    }

    /// The name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Http::One => "HTTP/1.1",
            Http::Two => "h2",
        }
    }
}

impl FromStr for Http {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "1" | "1.1" => Ok(Http::One),
            "2" => Ok(Http::Two),
            _ => Err(format!("--http takes 1 or 2, not {s:?}")),
        }
    }
}
