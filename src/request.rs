//! `Request`: a method, a URL, headers, a body and per-request settings, as data. The
//! `RequestBuilder` that makes one is in `client/request_builder.rs`.

use std::fmt;
use std::time::Duration;

use http::header::HeaderMap;
use http::{Method, Version};
use url::Url;

use crate::body::Body;
use crate::error::{Error, Result};
use crate::progress;
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
    /// Told how much of the body was sent (`RequestBuilder::on_upload_progress`).
    pub(crate) upload_progress: Option<progress::Callback>,
    /// The URL came from the builder's parse (an http(s) scheme, the user and password
    /// moved to basic auth) and has not been handed out by `url_mut` since: `send` need
    /// not check it again.
    pub(crate) url_checked: bool,
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
            upload_progress: None,
            url_checked: false,
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
        self.url_checked = false;
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
            upload_progress: self.upload_progress.clone(),
            url_checked: self.url_checked,
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

/// What a `Request` holds beyond an `http::Request`'s parts, carried in its extensions
/// while it passes through the layers of `ClientBuilder::layer` and back.
#[derive(Clone, Default)]
pub(crate) struct RequestSettings {
    /// The parsed URL, taken back instead of parsing the URI again while it is unchanged.
    url: Option<Url>,
    timeout: Option<Duration>,
    tls: Option<Box<TlsOptions>>,
    upload_progress: Option<progress::Callback>,
}

/// The request as an `http::Request`, as reqwest converts it; the URL's fragment is
/// left out, as it is never sent. Fails only for a URL that is no HTTP request target.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// let request = wireline::Client::new().get("https://example.com/a?b=c").build()?;
/// let request: http::Request<wireline::Body> = request.try_into()?;
/// assert_eq!(request.uri(), "https://example.com/a?b=c");
/// # Ok(()) }
/// ```
impl TryFrom<Request> for http::Request<Body> {
    type Error = Error;

    fn try_from(request: Request) -> Result<http::Request<Body>> {
        let Request {
            method,
            url,
            headers,
            body,
            timeout,
            version,
            tls,
            upload_progress,
            url_checked: _,
        } = request;
        let uri: http::Uri = url.as_str().parse().map_err(|e| {
            Error::invalid_url(format!("cannot be sent as an HTTP request target: {e}"))
                .for_url(&url)
        })?;
        let mut converted = http::Request::new(body.unwrap_or_default());
        *converted.method_mut() = method;
        *converted.uri_mut() = uri;
        *converted.version_mut() = version;
        *converted.headers_mut() = headers;
        converted.extensions_mut().insert(RequestSettings {
            url: Some(url),
            timeout,
            tls,
            upload_progress,
        });
        Ok(converted)
    }
}

/// A request from an `http::Request`, as reqwest converts one: its URI must be absolute
/// (`https://host/path`). A request converted from a wireline [`Request`] gets its
/// timeout and TLS options back.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// let request = http::Request::post("https://example.com/items")
///     .body("{}")
///     .expect("a valid request");
/// let request = wireline::Request::try_from(request)?;
/// assert_eq!(request.url().as_str(), "https://example.com/items");
/// # Ok(()) }
/// ```
impl<T: Into<Body>> TryFrom<http::Request<T>> for Request {
    type Error = Error;

    fn try_from(request: http::Request<T>) -> Result<Request> {
        let (mut parts, body) = request.into_parts();
        let settings = parts
            .extensions
            .remove::<RequestSettings>()
            .unwrap_or_default();
        let url = match settings.url {
            // Converted from a `Request`, its URI unchanged (by a layer, say).
            Some(url) if parts.uri == *url.as_str() => url,
            _ => Url::parse(&parts.uri.to_string()).map_err(|e| {
                Error::invalid_url(format!(
                    "the http::Request's URI {} is not an absolute URL ({e}): it needs a \
                     scheme and a host, as in https://example.com/path",
                    crate::into_url::shorten(&parts.uri.to_string())
                ))
            })?,
        };
        let RequestSettings {
            timeout,
            tls,
            upload_progress,
            ..
        } = settings;
        Ok(Request {
            method: parts.method,
            url,
            headers: parts.headers,
            body: Some(body.into()),
            timeout,
            version: parts.version,
            tls,
            upload_progress,
            url_checked: false,
        })
    }
}
