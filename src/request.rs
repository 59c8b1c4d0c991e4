//! `Request`: a method, a URL, headers, a body and per-request settings, as data. The
//! `RequestBuilder` that makes one is in `client/request_builder.rs`.

use std::fmt;
use std::time::Duration;

use http::header::HeaderMap;
use http::{Method, Version};
use url::Url;

use crate::body::Body;
use crate::redact;
use crate::tls::TlsOptions;

/// A request ready to be sent with [`Client::execute`](crate::Client::execute).
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let client = wireline::Client::new();
/// let request = client.get("https://example.com/").build()?;
/// assert_eq!(request.method(), wireline::Method::GET);
/// # Ok(()) }
/// ```
pub struct Request {
    // Crate-visible so the request loop (client/send.rs) can rewrite them hop by hop.
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Body>,
    pub(crate) timeout: Option<Duration>,
    /// Handed to hyper as the request's version (see `RequestBuilder::version`).
    pub(crate) version: Version,
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
            version: Version::HTTP_11,
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

    /// The HTTP version it asks for (default HTTP/1.1, which any connection takes; see
    /// [`RequestBuilder::version`](crate::RequestBuilder::version)).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The HTTP version, to change it.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let mut request = wireline::Client::new().get("http://example.com/").build()?;
    /// assert_eq!(request.version(), wireline::Version::HTTP_11);
    /// *request.version_mut() = wireline::Version::HTTP_10;
    /// # Ok(()) }
    /// ```
    pub fn version_mut(&mut self) -> &mut Version {
        &mut self.version
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
            version: self.version,
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
            .field("version", &self.version)
            .field("headers", &redact::Headers(&self.headers))
            .finish_non_exhaustive()
    }
}
