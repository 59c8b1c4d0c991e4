//! The blocking `Client`, what is its own of `ClientBuilder` (`new`, `build`, `timeout`)
//! and of `RequestBuilder` (`send`): every other method is the async client's, on the same
//! generic types.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use url::Url;

use super::runtime::Runtime;
use super::{ClientBuilder, RequestBuilder, Response};
use crate::client::DeferNoRoots;
use crate::error::{Error, Result};
use crate::into_url::IntoUrl;
use crate::request::Request;

/// reqwest's blocking client's default `timeout`, which scripts rely on not to hang.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A blocking HTTP client with a connection pool: wireline's [`Client`](crate::Client),
/// run on a thread of its own (see [the module docs](crate::blocking#how-it-runs)). Cheap
/// to clone: clones share the pool and the thread. Make one and reuse it.
///
/// ```no_run
/// # fn run() -> wireline::Result<()> {
/// let client = wireline::blocking::Client::new();
/// let body = client.get("https://example.com/").send()?.text()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    client: crate::Client,
    /// The longest each wait may take; `None` when turned off.
    timeout: Option<Duration>,
    /// Last, so it is dropped (and its thread joined) after the async client.
    runtime: Arc<Runtime>,
}

impl Client {
    /// A client with the defaults: those of the async [`Client::new`](crate::Client::new),
    /// and a [`timeout`](ClientBuilder::timeout) of 30 s.
    ///
    /// # Panics
    /// When the client's thread can't be started (the system is out of threads or file
    /// descriptors); [`Client::builder`]'s `build()` returns that error instead. A system
    /// without root certificates fails each https request instead, as with the async client.
    #[track_caller]
    pub fn new() -> Client {
        match Client::new_checked() {
            Ok(client) => client,
            Err(e) => panic!(
                "wireline::blocking::Client::new(): {e} (Client::builder().build() returns \
                 this error instead of panicking)"
            ),
        }
    }

    /// [`Client::new`], with its one possible error returned (for [`super::get`]).
    pub(super) fn new_checked() -> Result<Client> {
        Client::build(ClientBuilder::new(), DeferNoRoots::Yes)
    }

    /// A builder to configure a client: every setting of the async client's, and a
    /// [`timeout`](ClientBuilder::timeout) of 30 s by default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Starts a GET request.
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a POST request.
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a PUT request.
    pub fn put<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Starts a PATCH request.
    pub fn patch<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// Starts a DELETE request.
    pub fn delete<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// Starts a HEAD request.
    pub fn head<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// Starts a request with any method.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let request = wireline::blocking::Client::new()
    ///     .request(wireline::Method::OPTIONS, "https://example.com/")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url)
    }

    /// Sends a built request and waits for the response head.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::blocking::Client::new();
    /// let request = client.get("https://example.com/").build()?;
    /// let resp = client.execute(request)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn execute(&self, request: Request) -> Result<Response> {
        self.clone().send(Ok(request))
    }

    /// Reads the client's TLS files and the system's roots again, for the requests sent
    /// from now on: the async client's [`reload_tls`](crate::Client::reload_tls).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::blocking::Client::builder().ca_file("ca.pem").build()?;
    /// client.reload_tls()?;
    /// # Ok(()) }
    /// ```
    pub fn reload_tls(&self) -> Result<()> {
        let _current = self.runtime.enter();
        self.client.reload_tls()
    }

    /// Starts the runtime and builds the async client under it.
    fn build(builder: ClientBuilder, defer: DeferNoRoots) -> Result<Client> {
        let (builder, timeout) = builder.take_timeout();
        let runtime = Runtime::start()?;
        let client = {
            let _current = runtime.enter();
            builder.build_async(defer)?
        };
        Ok(Client {
            client,
            timeout,
            runtime: Arc::new(runtime),
        })
    }

    /// What [`RequestBuilder::send`] runs: the request, and a wait for its response head.
    #[track_caller]
    fn send(self, request: Result<Request>) -> Result<Response> {
        // A request's own timeout is its deadline (the async client's), body included,
        // which ends any wait sooner than a limit starting later would.
        let limit = match &request {
            Ok(request) if request.timeout.is_some() => None,
            _ => self.timeout,
        };
        // Kept only to say where a wait ran out.
        let url = limit.and_then(|_| Some(request.as_ref().ok()?.url.clone()));
        match self.runtime.wait(self.client.send(request), limit) {
            Some(response) => Ok(Response::new(response?, limit, self.runtime)),
            None => Err(ran_out(limit, "the response head", url.as_ref())),
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl fmt::Debug for Client {
    /// The async client's settings, and the blocking `timeout`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Client")
            .field("client", &self.client)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The error of a wait that `timeout` ended: what was awaited, for how long, and how to
/// change it.
pub(super) fn ran_out(limit: Option<Duration>, awaited: &str, url: Option<&Url>) -> Error {
    let limit = limit.unwrap_or_default();
    let error = Error::timeout_because(format!(
        "{awaited} did not come within {limit:?}, the blocking client's `timeout` (30 s \
         unless set): raise it, or turn it off with `timeout(None)`, on the ClientBuilder"
    ));
    match url {
        Some(url) => error.for_url(url),
        None => error,
    }
}

/// The blocking client's own: `new`, `build` (which returns a blocking [`Client`]) and
/// `timeout` (reqwest's blocking one).
impl ClientBuilder {
    /// The default settings (same as [`Client::builder`]): the async client's, and a
    /// [`timeout`](Self::timeout) of 30 s.
    pub fn new() -> Self {
        crate::builder::ClientBuilder::defaults().set_timeout(Some(DEFAULT_TIMEOUT))
    }

    /// Builds the client and starts its thread. Fails as the async client's
    /// [`build`](crate::ClientBuilder::build) does, or with an
    /// [`is_builder`](Error::is_builder) error when the thread can't be started.
    pub fn build(self) -> Result<Client> {
        Client::build(self, DeferNoRoots::No)
    }

    /// The longest each wait of a request may take (default: 30 s, as in reqwest's
    /// blocking client; `None` turns it off): for the response head, for each
    /// [`read`](std::io::Read::read) of the body, and for a body read whole with
    /// [`text`](Response::text), [`json`](Response::json) or [`bytes`](Response::bytes). A
    /// download read piece by piece ([`copy_to`](Response::copy_to), `Read`) may then take
    /// longer as long as the server keeps sending. Running out is an
    /// [`is_timeout`](Error::is_timeout) error. Unlike the async client's `timeout`, which
    /// bounds the request as a whole; a request's own
    /// [`timeout`](crate::RequestBuilder::timeout) still does that, here too.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = wireline::blocking::Client::builder().timeout(Duration::from_secs(5)).build();
    /// let patient = wireline::blocking::Client::builder().timeout(None).build();
    /// ```
    pub fn timeout<T: Into<Option<Duration>>>(self, timeout: T) -> Self {
        self.set_timeout(timeout.into())
    }

    /// A timeout for opening a connection, as the async client's
    /// [`connect_timeout`](crate::ClientBuilder::connect_timeout) (default: none); `None`
    /// turns one set before off, as in reqwest's blocking client.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = wireline::blocking::Client::builder()
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .build();
    /// ```
    pub fn connect_timeout<T: Into<Option<Duration>>>(self, timeout: T) -> Self {
        self.set_connect_timeout(timeout.into())
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl From<crate::ClientBuilder> for ClientBuilder {
    /// The async builder's settings, for a blocking client (reqwest's conversion). Its
    /// `timeout`, if set, becomes the blocking one, a limit on each wait where the async
    /// one bounds each request as a whole; else the blocking default, 30 s.
    ///
    /// ```
    /// let settings = wireline::Client::builder().user_agent("my-script/1.0");
    /// let client = wireline::blocking::ClientBuilder::from(settings).build();
    /// ```
    fn from(builder: crate::ClientBuilder) -> Self {
        let (builder, timeout) = builder.take_timeout();
        builder
            .for_client()
            .set_timeout(Some(timeout.unwrap_or(DEFAULT_TIMEOUT)))
    }
}

/// The blocking client's `send`, which waits for the response.
impl RequestBuilder {
    /// Sends the request and waits for the response head (the body is read later), within
    /// the client's [`timeout`](ClientBuilder::timeout).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let resp = wireline::blocking::Client::new()
    ///     .post("https://example.com/api")
    ///     .json(&serde_json::json!({"name": "wireline"}))
    ///     .send()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn send(self) -> Result<Response> {
        let (client, request) = self.build_split();
        client.send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout_of(builder: ClientBuilder) -> Option<Duration> {
        builder.take_timeout().1
    }

    #[test]
    fn the_timeout_is_30_s_unless_set_and_none_turns_it_off() {
        assert_eq!(timeout_of(ClientBuilder::new()), Some(DEFAULT_TIMEOUT));
        assert_eq!(timeout_of(Client::builder()), Some(DEFAULT_TIMEOUT));
        assert_eq!(timeout_of(ClientBuilder::default()), Some(DEFAULT_TIMEOUT));
        let two = Duration::from_secs(2);
        assert_eq!(timeout_of(Client::builder().timeout(two)), Some(two));
        assert_eq!(timeout_of(Client::builder().timeout(None)), None);
        // The async client's builder keeps its own default: no timeout.
        assert_eq!(crate::Client::builder().take_timeout().1, None);
    }

    #[test]
    fn clients_requests_and_responses_can_move_between_threads() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<Client>();
        sync::<Client>();
        send::<ClientBuilder>();
        send::<RequestBuilder>();
        send::<Response>();
    }

    #[test]
    fn an_async_builder_converted_keeps_its_timeout_or_takes_the_blocking_default() {
        let five = Duration::from_secs(5);
        let set = crate::Client::builder().timeout(five);
        assert_eq!(timeout_of(ClientBuilder::from(set)), Some(five));
        let unset = crate::Client::builder().https_only(true);
        let converted = ClientBuilder::from(unset);
        let shown = format!("{converted:?}");
        assert!(shown.contains("https_only: true"), "{shown}");
        assert_eq!(timeout_of(converted), Some(DEFAULT_TIMEOUT));
    }

    #[test]
    fn connect_timeout_takes_an_option_and_none_turns_it_off() {
        let five = Duration::from_secs(5);
        let shown = |b: ClientBuilder| format!("{b:?}");
        assert!(
            shown(Client::builder().connect_timeout(five)).contains("connect_timeout: Some(5s)")
        );
        let off = Client::builder()
            .connect_timeout(five)
            .connect_timeout(None);
        assert!(shown(off).contains("connect_timeout: None"));
    }

    #[test]
    fn the_async_client_it_wraps_has_no_timeout_of_its_own() {
        let client = Client::builder().build().unwrap();
        assert_eq!(client.timeout, Some(DEFAULT_TIMEOUT));
        let shown = format!("{:?}", client.client);
        assert!(shown.contains("timeout: None"), "{shown}");
    }
}
