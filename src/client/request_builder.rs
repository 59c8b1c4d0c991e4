//! `RequestBuilder`: a request built step by step from a client's `get`/`post`/…, each
//! input checked as it is set so a bad one is a builder error before anything is sent.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Version};
use serde::Serialize;

use super::Client;
use crate::body::Body;
use crate::error::{Error, Result};
use crate::into_url::{basic_auth_value, IntoUrl};
use crate::redact;
use crate::request::Request;
use crate::response::Response;
use crate::tls::TlsOptions;

/// Builds a [`Request`] step by step; errors wait until [`send`](RequestBuilder::send) or
/// [`build`](RequestBuilder::build), so calls chain.
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let resp = wireline::Client::new()
///     .post("https://example.com/api")
///     .header("x-trace", "1")
///     .json(&serde_json::json!({"name": "wireline"}))
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Generic over the client it sends with: `RequestBuilder` is `RequestBuilder<Client>`,
/// and `wireline::blocking::RequestBuilder` (the `blocking` Cargo feature) is
/// `RequestBuilder<blocking::Client>`, whose `send` waits for the response. Every other
/// method is both kinds'.
#[must_use = "a RequestBuilder does nothing until you send() it"]
pub struct RequestBuilder<C = Client> {
    client: C,
    request: Result<Request>,
}

/// Every method but `send`, for both kinds of client.
impl<C> RequestBuilder<C> {
    pub(crate) fn new(client: C, method: Method, url: impl IntoUrl) -> Self {
        let request = url.into_request_url().map(|(url, auth)| {
            let mut request = Request::new(method, url);
            request.url_checked = true;
            if let Some(auth) = auth {
                request.headers.insert(AUTHORIZATION, auth);
            }
            request
        });
        RequestBuilder { client, request }
    }

    /// A builder for a request made elsewhere, sent with `client` (reqwest's
    /// `from_parts`; [`Client::request_builder`] does the same).
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::{Client, Method, Request, RequestBuilder};
    /// let request = Request::new(Method::GET, "https://example.com/".parse().unwrap());
    /// let builder = RequestBuilder::from_parts(Client::new(), request).header("x-a", "1");
    /// # Ok(()) }
    /// ```
    pub fn from_parts(client: C, request: Request) -> Self {
        RequestBuilder {
            client,
            request: Ok(request),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Request) -> Result<()>) -> Self {
        if let Ok(request) = &mut self.request {
            if let Err(e) = f(request) {
                self.request = Err(e);
            }
        }
        self
    }

    /// Adds a header (repeated names are kept, as with `HeaderMap::append`).
    ///
    /// A name or value that is not valid HTTP — CR, LF or NUL in it, for instance — makes
    /// the request fail with an [`is_builder`](Error::is_builder) error before anything is sent.
    ///
    /// ```
    /// # async fn run() {
    /// let err = wireline::Client::new()
    ///     .get("https://example.com/")
    ///     .header("x-evil", "a\r\nInjected: yes")
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_builder());
    /// # }
    /// ```
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = HeaderName::try_from(key).map_err(Into::into);
        let value = HeaderValue::try_from(value).map_err(Into::into);
        self.edit(|request| {
            let name = name.map_err(|e| Error::builder(format!("invalid header name: {e}")))?;
            let mut value = value.map_err(|e| {
                Error::builder(format!(
                    "invalid value for header {name}: {e} (CR, LF, NUL and other control characters are not allowed)"
                ))
            })?;
            if redact::is_credential(&name) {
                value.set_sensitive(true);
            }
            request.headers.append(name, value);
            Ok(())
        })
    }

    /// Adds all these headers, replacing ones of the same name.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.edit(|request| {
            redact::replace_headers(&mut request.headers, headers);
            Ok(())
        })
    }

    /// Appends query parameters, encoded with `serde_urlencoded`.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let req = wireline::Client::new()
    ///     .get("https://example.com/search")
    ///     .query(&[("q", "rust tls"), ("page", "2")])
    ///     .build()?;
    /// assert_eq!(req.url().query(), Some("q=rust+tls&page=2"));
    /// # Ok(()) }
    /// ```
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.edit(|request| {
            let url = &mut request.url;
            let result = {
                let mut pairs = url.query_pairs_mut();
                query
                    .serialize(serde_urlencoded::Serializer::new(&mut pairs))
                    .map(|_| ())
            };
            if url.query() == Some("") {
                url.set_query(None);
            }
            result.map_err(|e| Error::builder(format!("query parameters: {e}")))
        })
    }

    /// Sets the body.
    pub fn body<B: Into<Body>>(self, body: B) -> Self {
        self.edit(|request| {
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// Sets a JSON body and `Content-Type: application/json` (unless already set).
    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> Self {
        self.edit(|request| {
            let bytes =
                serde_json::to_vec(json).map_err(|e| Error::builder(format!("JSON body: {e}")))?;
            set_content(request, bytes, "application/json");
            Ok(())
        })
    }

    /// Sets a form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> Self {
        self.edit(|request| {
            let text = serde_urlencoded::to_string(form)
                .map_err(|e| Error::builder(format!("form body: {e}")))?;
            set_content(
                request,
                text.into_bytes(),
                "application/x-www-form-urlencoded",
            );
            Ok(())
        })
    }

    /// Sets a `multipart/form-data` body: `Content-Type` with the form's boundary (replacing
    /// any set before, since the boundary must match), and `Content-Length` when every
    /// part's length is known. Files in the form are read while the request is sent.
    ///
    /// Available with the `multipart` Cargo feature (on by default).
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// use wireline::multipart::Form;
    ///
    /// let form = Form::new()
    ///     .text("description", "build log")
    ///     .file("log", "target/build.log")
    ///     .await?;
    /// let resp = wireline::Client::new()
    ///     .post("https://example.com/logs")
    ///     .multipart(form)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "multipart")]
    pub fn multipart(self, form: crate::multipart::Form) -> Self {
        self.edit(|request| {
            request.headers.insert(CONTENT_TYPE, form.content_type());
            let (body, len) = form.into_body();
            match len {
                Some(len) => request
                    .headers
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len)),
                None => request.headers.remove(http::header::CONTENT_LENGTH),
            };
            request.body = Some(body);
            Ok(())
        })
    }

    /// Sets `Authorization: Basic …`; the value is marked sensitive and never printed.
    pub fn basic_auth<U: fmt::Display, P: fmt::Display>(
        self,
        username: U,
        password: Option<P>,
    ) -> Self {
        let value = basic_auth_value(
            &username.to_string(),
            password.map(|p| p.to_string()).as_deref(),
        );
        self.edit(|request| {
            request.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// Sets `Authorization: Bearer …`; the value is marked sensitive and never printed.
    pub fn bearer_auth<T: fmt::Display>(self, token: T) -> Self {
        let value = HeaderValue::try_from(format!("Bearer {token}"));
        self.edit(|request| {
            let mut value = value.map_err(|_| {
                Error::builder("bearer token: not a valid header value (control characters?)")
            })?;
            value.set_sensitive(true);
            request.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// A timeout for this request only, from sending until the body is read; overrides
    /// the client's.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.edit(|request| {
            request.timeout = Some(timeout);
            Ok(())
        })
    }

    /// Calls `progress(sent, total)` as the body goes out: the bytes sent so far, and the
    /// body's size when it is known (bytes, a file, a sized reader). Called at most every
    /// 100 ms, and once when the body is all sent; a body sent again (after a redirect
    /// that keeps it, or a retry) is counted again from 0. Without it, a body costs
    /// nothing extra.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let resp = wireline::Client::new()
    ///     .put("https://example.com/upload")
    ///     .body(vec![0u8; 1 << 20])
    ///     .on_upload_progress(|sent, total| eprintln!("{sent} of {total:?} bytes sent"))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn on_upload_progress<F>(self, progress: F) -> Self
    where
        F: FnMut(u64, Option<u64>) + Send + 'static,
    {
        self.edit(|request| {
            request.upload_progress = Some(Arc::new(Mutex::new(progress)));
            Ok(())
        })
    }

    /// The HTTP version to send this request with (default HTTP/1.1, which lets the
    /// connection decide: h2 where ALPN or
    /// [`http2_prior_knowledge`](crate::ClientBuilder::http2_prior_knowledge) chose it).
    /// As in reqwest, it is handed to hyper and never changes which protocol a
    /// connection speaks: `HTTP_10` sends an `HTTP/1.0` request line over HTTP/1;
    /// `HTTP_2` fails with an [`is_request`](Error::is_request) error where the
    /// connection speaks HTTP/1 (an `http://` URL without prior knowledge, or a server
    /// whose ALPN chose HTTP/1.1); `HTTP_09` and `HTTP_3` fail before connecting. Over
    /// h2 the request is h2 whatever its version. Redirects and retries keep it.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::Version;
    /// let request = wireline::Client::new()
    ///     .get("http://legacy.example/")
    ///     .version(Version::HTTP_10)
    ///     .build()?;
    /// assert_eq!(request.version(), Version::HTTP_10);
    /// # Ok(()) }
    /// ```
    pub fn version(self, version: Version) -> Self {
        self.edit(|request| {
            request.version = version;
            Ok(())
        })
    }

    /// Changes TLS settings for this request only (requests' `verify=` and `cert=` per
    /// call): see [`TlsOptions`]. The request and its redirects use connections opened
    /// under these settings, never one opened under the client's own.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// use wireline::TlsOptions;
    /// let client = wireline::Client::new();
    /// let resp = client
    ///     .get("https://self-signed.internal/")
    ///     .tls(TlsOptions::new().danger_accept_invalid_certs(true))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tls(self, options: TlsOptions) -> Self {
        self.edit(|request| {
            request.tls = Some(Box::new(options));
            Ok(())
        })
    }

    /// The request, or the first error made while building it.
    pub fn build(self) -> Result<Request> {
        self.request
    }

    /// The client and the request (or the first error made while building it), to send
    /// later with [`Client::execute`] (reqwest's `build_split`).
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let (client, request) = wireline::Client::new().get("https://example.com/").build_split();
    /// let resp = client.execute(request?).await?;
    /// # Ok(()) }
    /// ```
    pub fn build_split(self) -> (C, Result<Request>) {
        (self.client, self.request)
    }

    /// A copy of this builder, unless its body is a stream.
    pub fn try_clone(&self) -> Option<Self>
    where
        C: Clone,
    {
        let request = match &self.request {
            Ok(request) => Ok(request.try_clone()?),
            Err(_) => return None,
        };
        Some(RequestBuilder {
            client: self.client.clone(),
            request,
        })
    }
}

/// The async client's `send`, a future.
impl RequestBuilder<Client> {
    /// Sends the request and waits for the response head (the body is read later).
    pub fn send(self) -> impl Future<Output = Result<Response>> + Send + 'static {
        self.client.send(self.request)
    }
}

impl<C> fmt::Debug for RequestBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request {
            Ok(request) => fmt::Debug::fmt(request, f),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}

fn set_content(request: &mut Request, bytes: Vec<u8>, content_type: &'static str) {
    if !request.headers.contains_key(CONTENT_TYPE) {
        request
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    request.body = Some(Body::from(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials() {
        let client = Client::new();
        let builder = client
            .get("https://u:hunter2@x.test/")
            .header("cookie", "session=topsecret")
            .bearer_auth("tok3n");
        let shown = format!("{builder:?}");
        for secret in ["hunter2", "topsecret", "tok3n"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
