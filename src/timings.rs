//! `Timings`: when each phase of a request ended, from the marks the connector takes once
//! per connection and an attempt takes with `ClientBuilder::timings(true)`. Plain data,
//! shared by the rooms that take the marks and the ones that hand them out.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long each phase of a request took, and the connection it went over
/// ([`Response::timings`](crate::Response::timings), [`Error::timings`](crate::Error::timings);
/// with [`ClientBuilder::timings(true)`](crate::ClientBuilder::timings)).
///
/// Two views of the same marks. The phases, each on its own: [`dns`](Timings::dns),
/// [`tcp_connect`](Timings::tcp_connect), [`tls_handshake`](Timings::tls_handshake),
/// [`pool_wait`](Timings::pool_wait), [`request_sent`](Timings::request_sent),
/// [`time_to_first_byte`](Timings::time_to_first_byte). And curl's `-w` times, each
/// counted from the request's start (`send()`), so each includes the ones before it:
/// [`namelookup`](Timings::namelookup), [`connect`](Timings::connect),
/// [`appconnect`](Timings::appconnect), [`pretransfer`](Timings::pretransfer),
/// [`posttransfer`](Timings::posttransfer), [`starttransfer`](Timings::starttransfer),
/// [`total`](Timings::total), [`redirect`](Timings::redirect).
///
/// A phase that did not happen is `None`: a reused connection was not opened for the
/// request (no DNS, TCP or TLS), plain http has no TLS handshake, an IP address needs no
/// lookup, an error may come before the response. The phases are the final attempt's
/// (after redirects, retries and the resend of a stale connection's request); the time
/// before that attempt began is [`redirect`](Timings::redirect) (curl adds each hop's
/// phases together instead).
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// let client = wireline::Client::builder().timings(true).build()?;
/// let resp = client.get("https://example.com/").send().await?;
/// if let Some(t) = resp.timings() {
///     println!("dns {:?} tls {:?} ttfb {:?} reused {}", t.dns(), t.tls_handshake(),
///         t.time_to_first_byte(), t.connection_reused());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Each mark as an offset from the request's start.
    attempt: Duration,
    dial: Option<DialOffsets>,
    /// The connection took the request (its head is being written).
    handed: Option<Duration>,
    /// The connection took the request's last byte.
    sent: Option<Duration>,
    first_byte: Option<Duration>,
    total: Duration,
    connection: Option<(u64, bool)>,
}

/// A fresh connection's marks, as offsets from the request's start.
#[derive(Clone, Copy, PartialEq, Eq)]
struct DialOffsets {
    dns: Option<(Duration, Duration)>,
    /// The TCP connection (or the proxy's tunnel) was open.
    tcp: Duration,
    /// The connection was ready: after its TLS handshake, if it had one.
    ready: Duration,
    tls: bool,
    /// The dial began before the request did (another request's, ready later).
    started: Duration,
}

impl Timings {
    /// The name lookup, when this request's connection was opened for it and by name.
    pub fn dns(&self) -> Option<Duration> {
        let (start, end) = self.dial?.dns?;
        Some(end - start)
    }

    /// Opening the TCP connection (and a proxy's tunnel, when there is one), when this
    /// request's connection was opened for it.
    pub fn tcp_connect(&self) -> Option<Duration> {
        let dial = self.dial?;
        let from = dial.dns.map_or(dial.started, |(_, end)| end);
        Some(dial.tcp.saturating_sub(from))
    }

    /// The TLS handshake, when this request's connection was opened for it over TLS.
    pub fn tls_handshake(&self) -> Option<Duration> {
        let dial = self.dial.filter(|d| d.tls)?;
        Some(dial.ready - dial.tcp)
    }

    /// Waiting for a connection, apart from opening one: for an idle connection to come
    /// back, or for another request's connection to open. `None` if the request never got
    /// one.
    pub fn pool_wait(&self) -> Option<Duration> {
        let waited = self.handed?.saturating_sub(self.attempt);
        let opening = self.dial.map_or(Duration::ZERO, |d| {
            d.ready.saturating_sub(d.started.max(self.attempt))
        });
        Some(waited.saturating_sub(opening))
    }

    /// Writing the request: from the connection taking its head until it took the last
    /// byte of its body (at once for a request without a body).
    pub fn request_sent(&self) -> Option<Duration> {
        Some(self.sent?.saturating_sub(self.handed?))
    }

    /// From the request's last byte to the response's first: the server's time, and the
    /// network's round trip.
    pub fn time_to_first_byte(&self) -> Option<Duration> {
        Some(self.first_byte?.saturating_sub(self.sent?))
    }

    /// curl's `time_namelookup`: from the start until the name lookup ended.
    pub fn namelookup(&self) -> Option<Duration> {
        Some(self.dial?.dns?.1)
    }

    /// curl's `time_connect`: from the start until the TCP connection (or the proxy's
    /// tunnel) was open.
    pub fn connect(&self) -> Option<Duration> {
        Some(self.dial?.tcp)
    }

    /// curl's `time_appconnect`: from the start until the TLS handshake ended.
    pub fn appconnect(&self) -> Option<Duration> {
        Some(self.dial.filter(|d| d.tls)?.ready)
    }

    /// curl's `time_pretransfer`: from the start until the connection took the request.
    pub fn pretransfer(&self) -> Option<Duration> {
        self.handed
    }

    /// curl's `time_posttransfer`: from the start until the connection took the request's
    /// last byte.
    pub fn posttransfer(&self) -> Option<Duration> {
        self.sent
    }

    /// curl's `time_starttransfer`: from the start until the response's head arrived.
    pub fn starttransfer(&self) -> Option<Duration> {
        self.first_byte
    }

    /// curl's `time_total`, so far: from the start until these timings were taken (when
    /// you called [`Response::timings`](crate::Response::timings), or when the error
    /// happened). Read after the body to time the whole transfer.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// curl's `time_redirect`: from the start until the final attempt began (redirects,
    /// retries, a resend on another connection); zero for a request sent once.
    pub fn redirect(&self) -> Duration {
        self.attempt
    }

    /// Whether the connection was open before the final attempt began (it carried other
    /// requests before, or was left idle by them). `false` when it was opened while this
    /// request waited for one, even if another request had asked for it, or when the
    /// request got no connection.
    pub fn connection_reused(&self) -> bool {
        self.connection.is_some_and(|(_, reused)| reused)
    }

    /// The connection's number, unique in the process: two responses with the same one
    /// came over the same connection. `None` if the request got no connection.
    pub fn connection_id(&self) -> Option<u64> {
        self.connection.map(|(id, _)| id)
    }

    /// The timings of a request from its marks and those of its connection, if it got one,
    /// taken `now`.
    pub(crate) fn new(
        request: &RequestMarks,
        connection: Option<&ConnectionMarks>,
        now: Instant,
    ) -> Timings {
        let at = |instant: Instant| instant.saturating_duration_since(request.started);
        let reused = connection.map(|c| c.ready < request.attempt_started);
        let dial = connection
            .filter(|_| reused == Some(false))
            .map(|c| DialOffsets {
                dns: c.dns.map(|(start, end)| (at(start), at(end))),
                tcp: at(c.tcp),
                ready: at(c.ready),
                tls: c.tls,
                started: at(c.started),
            });
        Timings {
            attempt: at(request.attempt_started),
            dial,
            handed: request.written.handed.get().copied().map(at),
            sent: request.written.sent.get().copied().map(at),
            first_byte: request.first_byte.map(at),
            total: at(now),
            connection: connection.zip(reused).map(|(c, reused)| (c.id, reused)),
        }
    }
}

impl fmt::Debug for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timings")
            .field("dns", &self.dns())
            .field("tcp_connect", &self.tcp_connect())
            .field("tls_handshake", &self.tls_handshake())
            .field("pool_wait", &self.pool_wait())
            .field("request_sent", &self.request_sent())
            .field("time_to_first_byte", &self.time_to_first_byte())
            .field("redirect", &self.redirect())
            .field("total", &self.total())
            .field("connection_id", &self.connection_id())
            .field("connection_reused", &self.connection_reused())
            .finish()
    }
}

/// When a connection's phases ended, taken once by the connector as it opened it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionMarks {
    /// Unique in the process, in the order the connections were opened.
    pub(crate) id: u64,
    pub(crate) started: Instant,
    /// The name lookup's start and end, when the host was looked up.
    pub(crate) dns: Option<(Instant, Instant)>,
    /// The TCP connection, or the proxy's tunnel, was open.
    pub(crate) tcp: Instant,
    /// The connection was ready for requests, its TLS handshake done if `tls`.
    pub(crate) ready: Instant,
    pub(crate) tls: bool,
}

impl ConnectionMarks {
    /// The marks of a connection being handed over now, numbered.
    pub(crate) fn new(
        started: Instant,
        dns: Option<(Instant, Instant)>,
        tcp: Option<Instant>,
        tls: bool,
    ) -> ConnectionMarks {
        static OPENED: AtomicU64 = AtomicU64::new(1);
        let ready = Instant::now();
        ConnectionMarks {
            id: OPENED.fetch_add(1, Relaxed),
            started,
            dns,
            tcp: tcp.unwrap_or(ready),
            ready,
            tls,
        }
    }
}

/// A request's own marks (`timings(true)` only): its start, its final attempt's, and what
/// the connection did with it.
#[derive(Clone, Debug)]
pub(crate) struct RequestMarks {
    pub(crate) started: Instant,
    pub(crate) attempt_started: Instant,
    /// Shared with the request's body, which the connection reads.
    pub(crate) written: Arc<WriteMarks>,
    pub(crate) first_byte: Option<Instant>,
}

/// When the connection took a request's head and its last byte, as its body saw it: hyper
/// asks the body whether it is empty as it writes the head, and reads it to its end.
#[derive(Debug, Default)]
pub(crate) struct WriteMarks {
    pub(crate) handed: OnceLock<Instant>,
    pub(crate) sent: OnceLock<Instant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn request(t0: Instant, attempt: u64, handed: u64, sent: u64, first: u64) -> RequestMarks {
        let written = WriteMarks::default();
        written.handed.set(t0 + MS * handed as u32).unwrap();
        written.sent.set(t0 + MS * sent as u32).unwrap();
        RequestMarks {
            started: t0,
            attempt_started: t0 + MS * attempt as u32,
            written: Arc::new(written),
            first_byte: Some(t0 + MS * first as u32),
        }
    }

    #[test]
    fn a_fresh_connections_phases_add_up_to_curls_cumulative_times() {
        let t0 = Instant::now();
        let mut conn = ConnectionMarks::new(
            t0 + MS * 2,
            Some((t0 + MS * 2, t0 + MS * 5)),
            Some(t0 + MS * 9),
            true,
        );
        conn.ready = t0 + MS * 20;
        let t = Timings::new(&request(t0, 1, 21, 24, 40), Some(&conn), t0 + MS * 50);
        assert_eq!(t.dns(), Some(MS * 3));
        assert_eq!(t.tcp_connect(), Some(MS * 4));
        assert_eq!(t.tls_handshake(), Some(MS * 11));
        // 1 ms before the dial began, 1 ms after it ended.
        assert_eq!(t.pool_wait(), Some(MS * 2));
        assert_eq!(t.request_sent(), Some(MS * 3));
        assert_eq!(t.time_to_first_byte(), Some(MS * 16));
        assert_eq!(
            [
                t.namelookup(),
                t.connect(),
                t.appconnect(),
                t.pretransfer(),
                t.posttransfer(),
                t.starttransfer()
            ],
            [5, 9, 20, 21, 24, 40].map(|ms| Some(MS * ms))
        );
        assert_eq!((t.redirect(), t.total()), (MS, MS * 50));
        assert!(!t.connection_reused());
        assert_eq!(t.connection_id(), Some(conn.id));
    }

    #[test]
    fn a_reused_connection_has_no_connection_phases_and_its_wait_is_the_pools() {
        let t0 = Instant::now();
        let conn = ConnectionMarks::new(t0, None, None, true);
        let t = Timings::new(&request(t0 + MS, 3, 7, 7, 9), Some(&conn), t0 + MS * 10);
        assert!(t.connection_reused());
        assert_eq!([t.dns(), t.tcp_connect(), t.tls_handshake()], [None; 3]);
        assert_eq!([t.namelookup(), t.connect(), t.appconnect()], [None; 3]);
        assert_eq!(t.pool_wait(), Some(MS * 4));
        assert_eq!(t.request_sent(), Some(Duration::ZERO));
    }

    #[test]
    fn an_ip_address_over_plain_http_has_no_lookup_and_no_handshake() {
        let t0 = Instant::now();
        let conn = ConnectionMarks::new(t0 + MS, None, None, false);
        let t = Timings::new(&request(t0, 0, 2, 2, 3), Some(&conn), t0 + MS * 3);
        assert_eq!((t.dns(), t.tls_handshake()), (None, None));
        assert!(t.tcp_connect().is_some());
        assert_eq!(t.appconnect(), None);
    }

    #[test]
    fn connections_are_numbered_apart() {
        let now = Instant::now();
        let (a, b) = (
            ConnectionMarks::new(now, None, None, false),
            ConnectionMarks::new(now, None, None, false),
        );
        assert_ne!(a.id, b.id);
    }
}
