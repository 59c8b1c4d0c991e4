//! `Request` and `RequestBuilder`: a method, a URL, headers and a body, checked as they
//! are set so a bad input is a builder error before anything is sent.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use base64::Engine;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use serde::Serialize;
use url::Url;

use crate::body::Body;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::into_url::IntoUrl;
use crate::redact;
use crate::response::Response;
use crate::tls::TlsOptions;

/// A request ready to be sent with [`Client::execute`].
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let client = wireline::Client::new();
/// let request = client.get("https://example.com/").build()?;
/// assert_eq!(request.method(), wireline::Method::GET);
/// # Ok(()) }
/// ```
pub struct Request {
    // Crate-visible so the request loop (run.rs) can rewrite them hop by hop.
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Body>,
    pub(crate) timeout: Option<Duration>,
    /// This request's changes to the client's TLS settings; boxed, as most requests
    /// have none.
    pub(crate) tls: Option<Box<TlsOptions>>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
            tls: None,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The method, to change it.
    pub fn method_mut(&mut self) -> &mut Method {
        &mut self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL, to change it.
    pub fn url_mut(&mut self) -> &mut Url {
        &mut self.url
    }

    /// The headers set on this request (the client's default headers are added when sent).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&Body> {
        self.body.as_ref()
    }

    /// The body, to change it.
    pub fn body_mut(&mut self) -> &mut Option<Body> {
        &mut self.body
    }

    /// This request's timeout, overriding the client's.
    pub fn timeout(&self) -> Option<&Duration> {
        self.timeout.as_ref()
    }

    /// The TLS settings this request changes from its client's, if any.
    pub fn tls(&self) -> Option<&TlsOptions> {
        self.tls.as_deref()
    }

    /// The TLS settings this request changes, to change them.
    pub fn tls_mut(&mut self) -> &mut Option<Box<TlsOptions>> {
        &mut self.tls
    }

    /// The timeout, to change it.
    pub fn timeout_mut(&mut self) -> &mut Option<Duration> {
        &mut self.timeout
    }

    /// A copy, unless the body is a stream.
    pub fn try_clone(&self) -> Option<Request> {
        let body = match &self.body {
            Some(body) => Some(body.try_clone()?),
            None => None,
        };
        Some(Request {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            body,
            timeout: self.timeout,
            tls: self.tls.clone(),
        })
    }
}

impl fmt::Debug for Request {
    /// Credential headers (`Authorization`, `Proxy-Authorization`, `Cookie`) and values
    /// marked sensitive print as `Sensitive`, and a URL password as `***`. The body is
    /// not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redact::url(&self.url))
            .field("headers", &redact::Headers(&self.headers))
            .finish_non_exhaustive()
    }
}

/// Parses a URL for a request; see [`check_url`].
pub(crate) fn parse_url(input: &str) -> Result<(Url, Option<HeaderValue>)> {
    let url = Url::parse(input)
        .map_err(|e| Error::invalid_url(format!("{:?} is not a valid URL: {e}", shorten(input))))?;
    check_url(url)
}

/// Checks a URL for a request: http or https with a host. Credentials in it become a
/// basic `Authorization` header and leave the URL, so they are never re-sent elsewhere.
pub(crate) fn check_url(mut url: Url) -> Result<(Url, Option<HeaderValue>)> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_url(format!(
            "unsupported scheme {:?} (only http and https)",
            url.scheme()
        ))
        .with_url(&url));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_url("the URL has no host"));
    }
    let mut auth = None;
    if !url.username().is_empty() || url.password().is_some() {
        let user = percent_decode(url.username());
        let password = url.password().map(percent_decode);
        auth = Some(basic_auth_value(&user, password.as_deref()));
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    Ok((url, auth))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// At most 200 characters of user input in a message.
pub(crate) fn shorten(input: &str) -> String {
    match input.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

pub(crate) fn basic_auth_value(user: &str, password: Option<&str>) -> HeaderValue {
    let raw = format!("{user}:{}", password.unwrap_or(""));
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .expect("base64 is always a valid header value");
    value.set_sensitive(true);
    value
}

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
#[must_use = "a RequestBuilder does nothing until you send() it"]
pub struct RequestBuilder {
    client: Client,
    request: Result<Request>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, url: impl IntoUrl) -> RequestBuilder {
        let request = url.into_request_url().map(|(url, auth)| {
            let mut request = Request::new(method, url);
            if let Some(auth) = auth {
                request.headers.insert(AUTHORIZATION, auth);
            }
            request
        });
        RequestBuilder { client, request }
    }

    pub(crate) fn from_request(client: Client, request: Request) -> RequestBuilder {
        RequestBuilder {
            client,
            request: Ok(request),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Request) -> Result<()>) -> RequestBuilder {
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
    pub fn header<K, V>(self, key: K, value: V) -> RequestBuilder
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
    pub fn headers(self, headers: HeaderMap) -> RequestBuilder {
        self.edit(|request| {
            let mut last_name = None;
            for (name, mut value) in headers {
                if let Some(name) = name {
                    request.headers.remove(&name);
                    last_name = Some(name);
                }
                let name = last_name.clone().expect("the first entry has a name");
                if redact::is_credential(&name) {
                    value.set_sensitive(true);
                }
                request.headers.append(name, value);
            }
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
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> RequestBuilder {
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
    pub fn body<B: Into<Body>>(self, body: B) -> RequestBuilder {
        self.edit(|request| {
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// Sets a JSON body and `Content-Type: application/json` (unless already set).
    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> RequestBuilder {
        self.edit(|request| {
            let bytes =
                serde_json::to_vec(json).map_err(|e| Error::builder(format!("JSON body: {e}")))?;
            set_content(request, bytes, "application/json");
            Ok(())
        })
    }

    /// Sets a form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> RequestBuilder {
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
    pub fn multipart(self, form: crate::multipart::Form) -> RequestBuilder {
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
    ) -> RequestBuilder {
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
    pub fn bearer_auth<T: fmt::Display>(self, token: T) -> RequestBuilder {
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
    pub fn timeout(self, timeout: Duration) -> RequestBuilder {
        self.edit(|request| {
            request.timeout = Some(timeout);
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
    pub fn tls(self, options: TlsOptions) -> RequestBuilder {
        self.edit(|request| {
            request.tls = Some(Box::new(options));
            Ok(())
        })
    }

    /// The request, or the first error made while building it.
    pub fn build(self) -> Result<Request> {
        self.request
    }

    /// A copy of this builder, unless its body is a stream.
    pub fn try_clone(&self) -> Option<RequestBuilder> {
        let request = match &self.request {
            Ok(request) => Ok(request.try_clone()?),
            Err(_) => return None,
        };
        Some(RequestBuilder {
            client: self.client.clone(),
            request,
        })
    }

    /// Sends the request and waits for the response head (the body is read later).
    pub fn send(self) -> impl Future<Output = Result<Response>> + Send + 'static {
        self.client.send(self.request)
    }
}

impl fmt::Debug for RequestBuilder {
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
    fn urls_are_checked() {
        for bad in [
            "not a url",
            "ftp://x.test/",
            "file:///etc/passwd",
            "http://",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(err.is_builder(), "{bad}");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidUrl);
        }
        let huge = format!("http://{}", "a".repeat(100_000));
        let _ = parse_url(&huge);
    }

    #[test]
    fn userinfo_becomes_basic_auth() {
        let (url, auth) = parse_url("https://al%20ice:s3cret@x.test/p").unwrap();
        assert_eq!(url.as_str(), "https://x.test/p");
        let auth = auth.unwrap();
        assert!(auth.is_sensitive());
        // "al ice:s3cret"
        assert_eq!(auth.to_str().unwrap(), "Basic YWwgaWNlOnMzY3JldA==");
    }

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
