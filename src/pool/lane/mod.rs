//! A lane: wireline's pool of hyper connections (`hyper::client::conn`) over its own
//! connector, one per lane of `lanes.rs`.
//!
//! It keeps what hyper-util's legacy pool did for wireline (the table's rules are in
//! `table.rs`): a request takes an idle or shared connection if there is one, else waits
//! for one while dialling, and a dial that loses the race finishes in the background and
//! joins the pool; a request a reused connection closed on before taking it is sent again
//! on another; the `Host` header and the request target's form are set as HTTP/1 needs.
//! What it adds: the watch on a request hyper loses sits on the connection the lane gave
//! it (`watch.rs`), where hyper-util could only tell a request its connection through a
//! channel per request; the origin is wireline's own key, hashed once per request.

mod error;
mod table;
#[cfg(test)]
mod tests;
mod watch;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::future::Either;
use futures_util::FutureExt;
use http::header::{HeaderValue, HOST};
use http::uri::{PathAndQuery, Uri};
use http::{Method, Request, Version};
use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::{Connected, Connection};
use tokio::sync::oneshot;
use tower_service::Service;

pub(crate) use error::{Kind, PoolError};
use table::{Table, Wait};

use crate::body::Body;
use crate::connect::conn::Record;
use crate::connect::gate::origin_of;
use crate::connect::origins::Origin;
use crate::connect::Connector;
use crate::pool::Reply;

/// A request's response, as the lane sends it. Boxed, as hyper-util's was: the request's
/// own future stays small whatever a send holds.
pub(crate) type ResponseFuture = Pin<Box<dyn Future<Output = Result<Reply, PoolError>> + Send>>;

/// One lane: its connector, how it speaks HTTP/1 and h2, and its connections.
pub(crate) struct Lane(Arc<Inner>);

struct Inner {
    connector: Connector,
    handshakes: Handshakes,
    table: Table,
}

/// hyper's builders, with the client's HTTP/1 and h2 settings.
#[derive(Clone)]
pub(crate) struct Handshakes {
    pub(crate) http1: http1::Builder,
    pub(crate) http2: http2::Builder<BoxingExecutor>,
    /// `http2_prior_knowledge`: every connection speaks h2, whatever ALPN said.
    pub(crate) h2_only: bool,
}

/// The executor of hyper's h2 tasks: boxes each before tokio spawns it. hyper spawns one
/// per request (the wait for its response), a future as large as its largest kind, the
/// connection's own task (kilobytes); boxed, tokio moves a pointer instead of copying it
/// three times (≈ 2,000 instructions per h2 request). hyper-util's executor boxes too.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BoxingExecutor;

impl<F> hyper::rt::Executor<F> for BoxingExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, future: F) {
        let future: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(future);
        tokio::spawn(future);
    }
}

/// The task of a connection: hyper's `connection` (`protocol`, for the log) driven to its
/// end, what ended it told to `ended` when the dial waits on it (HTTP/1, until the
/// connection is ready).
///
/// A combinator, not an `async` block: the block's future would keep the connection
/// (1,856 bytes over TLS for HTTP/1) twice for the connection's life, as captured and as
/// the future it awaits.
fn drive<C>(
    connection: C,
    protocol: &'static str,
    ended: Option<oneshot::Sender<hyper::Error>>,
) -> impl Future<Output = ()>
where
    C: Future<Output = Result<(), hyper::Error>>,
{
    connection.map(move |result| {
        if let Err(e) = result {
            tracing::debug!("{protocol} connection error: {e}");
            if let Some(ended) = ended {
                let _ = ended.send(e);
            }
        }
    })
}

/// What a connection's requests need to know about it: what the connector said
/// (`Connected`, whose extras go into every response) and its record.
pub(crate) struct Info {
    connected: Connected,
    record: Arc<Record>,
}

/// A connection's sending half.
enum SendHalf {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

/// A connection a request may send on, and whether it carried requests before (or
/// waited in the pool): a request it refuses unsent is then sent again on another.
struct Checked {
    conn: SendHalf,
    info: Arc<Info>,
    reused: bool,
}

impl Checked {
    /// A handle on a shared h2 connection, for one more request. Only the table's h2
    /// place and a new h2 connection are shared, so `conn` is h2 here.
    fn share(&self) -> Checked {
        let SendHalf::H2(sender) = &self.conn else {
            unreachable!("only h2 connections are shared")
        };
        Checked {
            conn: SendHalf::H2(sender.clone()),
            info: self.info.clone(),
            reused: true,
        }
    }

    fn reused(mut self) -> Checked {
        self.reused = true;
        self
    }
}

/// The record of the connection a request was given, kept up to date by the lane for the
/// attempt that sent it, for its timings: `None` until the request has a connection, and
/// again while a resend waits for another.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Option<Arc<Record>>>>);

impl Capture {
    fn set(&self, record: Option<Arc<Record>>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = record;
    }

    /// The record of the request's connection now.
    pub(crate) fn get(&self) -> Option<Arc<Record>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Lane {
    pub(crate) fn new(
        connector: Connector,
        handshakes: Handshakes,
        idle_timeout: Option<std::time::Duration>,
        max_idle_per_host: usize,
    ) -> Lane {
        Lane(Arc::new(Inner {
            connector,
            handshakes,
            table: Table::new(idle_timeout, max_idle_per_host),
        }))
    }

    /// Sends `request` (whose URI is absolute) on a connection to its origin (`origin`,
    /// when the caller has it already), telling `capture` which.
    pub(crate) fn request(
        &self,
        request: Request<Body>,
        origin: Option<Origin>,
        capture: Option<Capture>,
    ) -> ResponseFuture {
        match Inner::sendable(&request, origin) {
            Ok(origin) => Box::pin(self.0.clone().send(request, origin, capture)),
            Err(refused) => Box::pin(std::future::ready(Err(refused))),
        }
    }
}

/// A send that failed; `unsent`: the request (with its URI as it was given), when the
/// connection closed before taking it.
struct Failed {
    error: PoolError,
    unsent: Option<Request<Body>>,
}

impl Inner {
    /// The origin of a request the lane can send (`origin`, when the caller has it
    /// already), or why it can't.
    fn sendable(request: &Request<Body>, origin: Option<Origin>) -> Result<Origin, PoolError> {
        match request.version() {
            Version::HTTP_11 | Version::HTTP_2 => {}
            Version::HTTP_10 if request.method() == Method::CONNECT => {
                return Err(PoolError::new(Kind::UserUnsupportedRequestMethod))
            }
            Version::HTTP_10 => {}
            _ => return Err(PoolError::new(Kind::UserUnsupportedVersion)),
        }
        origin
            .or_else(|| origin_of(request.uri()))
            .ok_or_else(|| PoolError::new(Kind::UserAbsoluteUriRequired))
    }

    /// Not an `async fn`, whose arguments would each take a second place in the future
    /// (the lane boxes it for every request).
    #[allow(clippy::manual_async_fn)]
    fn send(
        self: Arc<Self>,
        mut request: Request<Body>,
        origin: Origin,
        capture: Option<Capture>,
    ) -> impl Future<Output = Result<Reply, PoolError>> + Send + 'static {
        async move {
            loop {
                let checked = self.checkout(&origin).await?;
                if let Some(capture) = &capture {
                    capture.set(Some(checked.info.record.clone()));
                }
                let reused = checked.reused;
                match self.send_on(checked, request, &origin).await {
                    Ok(reply) => return Ok(reply),
                    // Refused unsent by a connection that carried requests before: it was
                    // closing. Any other connection may take it (hyper-util's
                    // `retry_canceled_requests`).
                    Err(Failed {
                        unsent: Some(unsent),
                        ..
                    }) if reused => {
                        tracing::trace!("a pooled connection closed before taking the request; sending it on another");
                        request = unsent;
                        if let Some(capture) = &capture {
                            capture.set(None);
                        }
                    }
                    Err(failed) => return Err(failed.error),
                }
            }
        }
    }

    /// A connection for a request to `origin`: one that is idle or shared, else whichever
    /// comes first of one returned to the pool and one dialled for it.
    #[inline]
    async fn checkout(self: &Arc<Self>, origin: &Origin) -> Result<Checked, PoolError> {
        if !self.table.keeps() {
            return Box::pin(self.clone().dial(origin.clone())).await;
        }
        if let Some(checked) = self.table.take(origin) {
            tracing::trace!(%origin, "reusing a pooled connection");
            return Ok(checked);
        }
        // Out of line: a dial's future is kilobytes, which every move of the request's
        // future would otherwise copy.
        Box::pin(self.wait_or_dial(origin)).await
    }

    async fn wait_or_dial(self: &Arc<Self>, origin: &Origin) -> Result<Checked, PoolError> {
        loop {
            let (wait, dialing_h2) = match self.table.take_or_wait(origin, self.handshakes.h2_only)
            {
                Ok(checked) => return Ok(checked),
                Err(waiting) => waiting,
            };
            let mut waiter = match wait {
                Wait::AndDial(waiter) => waiter,
                Wait::Only(waiter) => {
                    let got = waiter.await;
                    self.table.forget_gone_waiters(origin);
                    match got {
                        Ok(checked) if checked.conn.is_open() => return Ok(checked),
                        // That dial failed, or its connection closed already.
                        _ => continue,
                    }
                }
            };
            let mut dial = Box::pin(self.clone().dial(origin.clone()));
            let mut dial_started = false;
            let first = poll_fn(|cx| {
                if let Poll::Ready(got) = Pin::new(&mut waiter).poll(cx) {
                    return Poll::Ready(Ok(got));
                }
                dial_started = true;
                dial.as_mut().poll(cx).map(Err)
            })
            .await;
            drop(dialing_h2);
            return match first {
                Ok(Ok(checked)) if checked.conn.is_open() => {
                    if dial_started {
                        // Not wasted: it joins the pool (hyper-util's rule).
                        let lane = self.clone();
                        let origin = origin.clone();
                        tokio::spawn(async move {
                            if let Ok(fresh) = dial.await {
                                lane.put(&origin, fresh);
                            }
                        });
                    }
                    Ok(checked)
                }
                // Given a connection that closed meanwhile, or no longer waited for (the
                // h2 dial it waited on failed): the dial decides.
                Ok(_) => {
                    self.table.forget_gone_waiters(origin);
                    dial.await
                }
                Err(dialed) => {
                    waiter.close();
                    if let Ok(checked) = waiter.try_recv() {
                        self.put(origin, checked);
                    }
                    self.table.forget_gone_waiters(origin);
                    dialed
                }
            };
        }
    }

    /// Returns a connection to the pool (see `table.rs`), starting its sweep if needed.
    fn put(self: &Arc<Self>, origin: &Origin, checked: Checked) {
        tracing::trace!(%origin, "returning a connection to the pool");
        if let Some(stop) = self.table.put(origin, checked) {
            table::sweep(Arc::downgrade(self), stop);
        }
    }

    /// Opens a connection to `origin` and does hyper's handshake on it: an h2 one joins
    /// the pool at once, shared.
    async fn dial(self: Arc<Self>, origin: Origin) -> Result<Checked, PoolError> {
        tracing::trace!(%origin, "opening a connection");
        let io = self
            .connector
            .clone()
            .call(origin.uri())
            .await
            .map_err(|e| PoolError::new(Kind::Connect).with_source(e))?;
        let connected = io.connected();
        let h2 = self.handshakes.h2_only || connected.is_negotiated_h2();
        let info = Arc::new(Info {
            record: io.record().clone(),
            connected,
        });
        let handshake_failed = |e: hyper::Error| PoolError::new(Kind::SendRequest).with_source(e);
        if h2 {
            let (mut sender, connection) = self
                .handshakes
                .http2
                .handshake(io)
                .await
                .map_err(handshake_failed)?;
            tokio::spawn(drive(connection, "h2", None));
            sender.ready().await.map_err(handshake_failed)?;
            let checked = Checked {
                conn: SendHalf::H2(sender),
                info,
                reused: false,
            };
            let mine = Checked {
                reused: false,
                ..checked.share()
            };
            self.put(&origin, checked);
            return Ok(mine);
        }
        let (mut sender, connection) = self
            .handshakes
            .http1
            .handshake(io)
            .await
            .map_err(handshake_failed)?;
        // What ended the connection, if it ends before it is ready: more than hyper's
        // "channel closed".
        let (ended, why) = oneshot::channel();
        tokio::spawn(drive(connection.with_upgrades(), "HTTP/1", Some(ended)));
        match sender.ready().await {
            Ok(()) => {}
            Err(e) if e.is_closed() => return Err(handshake_failed(why.await.unwrap_or(e))),
            Err(e) => return Err(handshake_failed(e)),
        }
        Ok(Checked {
            conn: SendHalf::H1(sender),
            info,
            reused: false,
        })
    }

    /// Hands `request` to `checked`'s connection (hyper takes it at once); the future is
    /// its answer. An HTTP/1 connection goes back to the pool once it can take another
    /// request (hyper says when: the response read to its end).
    ///
    /// Not an `async fn`: there, the request and its argument would keep their places in
    /// the future after it was handed over, in the lane's boxed send, which then took
    /// over 2 KiB: an allocation past the allocator's cache, and a copy, per request.
    // A failure is as large as the request it may give back, by design.
    #[allow(clippy::result_large_err)]
    fn send_on<'a>(
        self: &'a Arc<Self>,
        checked: Checked,
        mut request: Request<Body>,
        origin: &'a Origin,
    ) -> impl Future<Output = Result<Reply, Failed>> + Send + 'a {
        let Checked { conn, info, .. } = checked;
        // The URI the request was given, when HTTP/1 sends another form of it: a request
        // sent again goes as it was given.
        let mut given = None;
        let (sending, http1) = match conn {
            SendHalf::H1(mut sender) => {
                if request.version() == Version::HTTP_2 {
                    self.recycle(origin, sender, info.clone());
                    return Either::Left(std::future::ready(Err(Failed {
                        error: PoolError::new(Kind::UserUnsupportedVersion).on(&info),
                        unsent: None,
                    })));
                }
                given = http1_target(&mut request, info.connected.is_proxied());
                // The sender stays with the request until its head arrives, then goes
                // back to the pool (it is ready once hyper has read the response).
                let sending = Either::Left(sender.try_send_request(request));
                (sending, Some(sender))
            }
            SendHalf::H2(mut sender) => (Either::Right(sender.try_send_request(request)), None),
        };
        // A combinator, not an `async` block, which would keep `sending` twice.
        let watched = watch::Watched::new(sending, info.record.clone(), watch::LOST_AFTER);
        Either::Right(watched.map(move |sent| {
            let sent = match sent {
                Ok(sent) => sent,
                Err(watch::Lost) => {
                    return Err(Failed {
                        error: PoolError::new(Kind::Lost).on(&info),
                        unsent: None,
                    })
                }
            };
            match sent {
                Ok(mut response) => {
                    info.connected.get_extras(response.extensions_mut());
                    let record = info.record.clone();
                    if let Some(sender) = http1 {
                        self.recycle(origin, sender, info);
                    }
                    Ok(Reply {
                        response,
                        record,
                        stream: None,
                    })
                }
                Err(mut e) => {
                    let mut unsent = e.take_message();
                    if let (Some(request), Some(given)) = (&mut unsent, given) {
                        *request.uri_mut() = given;
                    }
                    let kind = match unsent {
                        Some(_) => Kind::Canceled,
                        None => Kind::SendRequest,
                    };
                    Err(Failed {
                        error: PoolError::new(kind).with_source(e.into_error()).on(&info),
                        unsent,
                    })
                }
            }
        }))
    }

    /// Returns an HTTP/1 connection to the pool when it can take the next request: at
    /// once, or once hyper has read the response (a task waits for that, as hyper-util's
    /// did). A connection that closes meanwhile is dropped.
    fn recycle(
        self: &Arc<Self>,
        origin: &Origin,
        mut sender: http1::SendRequest<Body>,
        info: Arc<Info>,
    ) {
        if !self.table.keeps() || sender.is_closed() {
            return;
        }
        let idle = |sender| Checked {
            conn: SendHalf::H1(sender),
            info,
            reused: true,
        };
        if sender.is_ready() {
            self.put(origin, idle(sender));
            return;
        }
        let lane = Arc::downgrade(self);
        let origin = origin.clone();
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                if let Some(lane) = lane.upgrade() {
                    lane.put(&origin, idle(sender));
                }
            }
        });
    }
}

/// An HTTP/1 request's `Host` header (unless it has one) and its target: authority form
/// for `CONNECT`, absolute form to a proxy that forwards it, origin form otherwise; the
/// URI it was given, if that changed.
fn http1_target(request: &mut Request<Body>, proxied: bool) -> Option<Uri> {
    if !request.headers().contains_key(HOST) {
        if let Some(host) = host_header(request.uri()) {
            request.headers_mut().insert(HOST, host);
        }
    }
    let target = if request.method() == Method::CONNECT {
        Uri::from(request.uri().authority()?.clone())
    } else if !proxied {
        let path = request.uri().path_and_query().cloned();
        Uri::from(path.unwrap_or_else(|| PathAndQuery::from_static("/")))
    } else {
        return None;
    };
    Some(std::mem::replace(request.uri_mut(), target))
}

/// `host[:port]`, the port only when it isn't the scheme's default (hyper-util's rule).
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    match uri.port_u16() {
        Some(port) if Some(port) != default_port => match uri.authority() {
            // The authority is `host:port` already, unless it has user information.
            Some(authority) if !authority.as_str().contains('@') => {
                HeaderValue::from_str(authority.as_str()).ok()
            }
            _ => HeaderValue::from_str(&format!("{host}:{port}")).ok(),
        },
        _ => HeaderValue::from_str(host).ok(),
    }
}
