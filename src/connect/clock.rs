//! The marks of a connection being opened: the dial runs inside a [`Clock`]'s scope (a
//! task-local), and the parts that know when a phase ended (the resolver, the TCP step)
//! note it there, without knowing which connection they serve. Once per connection.

use std::cell::Cell;
use std::future::Future;
use std::time::Instant;

use crate::timings::ConnectionMarks;

tokio::task_local! {
    static OPENING: Clock;
}

/// What the phases of one dial noted.
#[derive(Default)]
struct Clock {
    dns: Cell<Option<(Instant, Instant)>>,
    tcp: Cell<Option<Instant>>,
}

/// `dial`'s output, and what its phases noted; the dial began at `started`.
pub(crate) async fn timed<T>(started: Instant, dial: impl Future<Output = T>) -> (T, Noted) {
    OPENING
        .scope(Clock::default(), async move {
            let opened = dial.await;
            let (dns, tcp) = OPENING.with(|clock| (clock.dns.get(), clock.tcp.get()));
            (opened, Noted { started, dns, tcp })
        })
        .await
}

/// What a dial's phases noted, until the connection knows whether it is TLS.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noted {
    started: Instant,
    dns: Option<(Instant, Instant)>,
    tcp: Option<Instant>,
}

impl Noted {
    /// Nothing noted: a connection that opened at once (the fuzz targets' in memory).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn now() -> Noted {
        Noted {
            started: Instant::now(),
            dns: None,
            tcp: None,
        }
    }

    /// The marks of the connection, ready now; `tls`: its last step was a TLS handshake.
    pub(crate) fn marks(self, tls: bool) -> ConnectionMarks {
        ConnectionMarks::new(self.started, self.dns, self.tcp, tls)
    }
}

/// Whether a dial is being timed here (the resolver also serves SOCKS lookups, timed the
/// same way, and nothing else).
pub(crate) fn opening() -> bool {
    OPENING.try_with(|_| ()).is_ok()
}

/// `lookup`, noting when it began and ended in the dial's clock.
pub(crate) async fn lookup<T>(lookup: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let found = lookup.await;
    let _ = OPENING.try_with(|clock| clock.dns.set(Some((started, Instant::now()))));
    found
}

/// The TCP connection (or a proxy's tunnel) is open now.
pub(crate) fn tcp_open() {
    let _ = OPENING.try_with(|clock| clock.tcp.set(Some(Instant::now())));
}

/// The events of a connection just opened, for a `tracing` subscriber: its phases, and its
/// TLS handshake's outcome. Nothing is computed without one.
pub(crate) fn trace_opened(marks: &ConnectionMarks, tls: Option<&rustls::ClientConnection>) {
    let dns = marks.dns.map(|(start, end)| end - start);
    let after_dns = marks.dns.map_or(marks.started, |(_, end)| end);
    tracing::debug!(
        connection.id = marks.id,
        dns = ?dns,
        connect = ?marks.tcp.saturating_duration_since(after_dns),
        "connection opened"
    );
    if let Some(session) = tls {
        tracing::debug!(
            connection.id = marks.id,
            tls.protocol.version = ?session.protocol_version(),
            tls.cipher = ?session.negotiated_cipher_suite().map(|suite| suite.suite()),
            tls.next_protocol = ?session.alpn_protocol().map(String::from_utf8_lossy),
            tls.resumed = matches!(session.handshake_kind(), Some(rustls::HandshakeKind::Resumed)),
            duration = ?marks.ready.saturating_duration_since(marks.tcp),
            "TLS handshake done"
        );
    }
}
