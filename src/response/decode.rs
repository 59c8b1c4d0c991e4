//! Response decompression: the codings we ask for, and a body that inflates as it is read.
//!
//! The decoders are async-compression's; this file picks one from `Content-Encoding`, feeds
//! it the raw body and enforces `max_decoded_body`. A response without a coding we decode
//! never comes here.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING};
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use tokio_util::io::poll_read_buf;
use url::Url;

use super::body::RawBody;
use crate::error::{Error, Result};

/// The most a single read of a decoded body returns: reads stay small however much one
/// compressed chunk inflates to.
const DECODED_CHUNK: usize = 32 * 1024;

/// The client's decompression settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoding {
    pub(crate) gzip: bool,
    pub(crate) deflate: bool,
    pub(crate) brotli: bool,
    pub(crate) zstd: bool,
    pub(crate) max_decoded: Option<u64>,
}

impl Default for Decoding {
    /// Every coding compiled in is on.
    fn default() -> Self {
        Decoding {
            gzip: cfg!(feature = "gzip"),
            deflate: cfg!(feature = "deflate"),
            brotli: cfg!(feature = "brotli"),
            zstd: cfg!(feature = "zstd"),
            max_decoded: None,
        }
    }
}

/// A `Content-Encoding` we can decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The name in `Accept-Encoding` and `Content-Encoding`.
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// The Cargo feature that compiles its decoder in.
    fn feature(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "brotli",
            Coding::Zstd => "zstd",
        }
    }

    fn compiled_in(self) -> bool {
        match self {
            Coding::Gzip => cfg!(feature = "gzip"),
            Coding::Deflate => cfg!(feature = "deflate"),
            Coding::Brotli => cfg!(feature = "brotli"),
            Coding::Zstd => cfg!(feature = "zstd"),
        }
    }
}

impl Decoding {
    fn enabled(&self) -> impl Iterator<Item = Coding> {
        [
            (Coding::Gzip, self.gzip),
            (Coding::Deflate, self.deflate),
            (Coding::Brotli, self.brotli),
            (Coding::Zstd, self.zstd),
        ]
        .into_iter()
        .filter_map(|(coding, on)| on.then_some(coding))
    }

    /// Fails for a coding switched on whose decoder was not compiled in.
    pub(crate) fn check(&self) -> Result<()> {
        match self.enabled().find(|coding| !coding.compiled_in()) {
            Some(coding) => Err(Error::builder(format!(
                "{} decoding was switched on, but wireline was built without its `{}` \
                 Cargo feature",
                coding.name(),
                coding.feature()
            ))),
            None => Ok(()),
        }
    }

    /// The `Accept-Encoding` to send, or `None` when every coding is off.
    pub(crate) fn accept_encoding(&self) -> Option<HeaderValue> {
        let names: Vec<&str> = self.enabled().map(Coding::name).collect();
        (!names.is_empty()).then(|| {
            HeaderValue::try_from(names.join(", ")).expect("coding names are valid header text")
        })
    }

    /// The coding to undo for a response with these headers: one coding we decode, named
    /// in one `Content-Encoding` header. Anything else (no header, `identity`, an unknown
    /// or switched-off coding, a list of several) leaves the body as it came.
    #[inline]
    pub(crate) fn coding_for(&self, headers: &HeaderMap) -> Option<Coding> {
        let mut values = headers.get_all(CONTENT_ENCODING).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let value = value.to_str().ok()?.trim();
        let is = |name: &str| value.eq_ignore_ascii_case(name);
        // The switches are off for codings not compiled in (`check` refuses them on).
        if (is("gzip") || is("x-gzip")) && self.gzip {
            Some(Coding::Gzip)
        } else if is("deflate") && self.deflate {
            Some(Coding::Deflate)
        } else if is("br") && self.brotli {
            Some(Coding::Brotli)
        } else if is("zstd") && self.zstd {
            Some(Coding::Zstd)
        } else {
            None
        }
    }

    /// A decoding body for `coding`, or the raw body back if its decoder is not compiled
    /// in.
    pub(super) fn decoder(
        &self,
        coding: Coding,
        raw: RawBody,
        url: &Url,
    ) -> std::result::Result<Decoder, RawBody> {
        let input = Input {
            raw,
            url: url.clone(),
            chunk: Bytes::new(),
            received: false,
        };
        if !coding.compiled_in() {
            return Err(input.raw);
        }
        Ok(Decoder {
            codec: Codec::new(coding, input),
            coding,
            decoded: 0,
            max_decoded: self.max_decoded,
            out: BytesMut::new(),
            over_limit: false,
            done: false,
            url: url.clone(),
        })
    }
}

/// A response body being decoded.
pub(crate) struct Decoder {
    codec: Codec,
    coding: Coding,
    decoded: u64,
    max_decoded: Option<u64>,
    /// The buffer reads fill, empty between reads: each read's bytes are split off and
    /// handed out, and the next read goes into the capacity after them. A new buffer is
    /// taken only once that is used up, so the pieces handed out share their buffers and
    /// a small piece, however long it is kept, holds no buffer of its own.
    out: BytesMut,
    /// A read went past `max_decoded`: the bytes up to it were handed out, the error is next.
    over_limit: bool,
    done: bool,
    url: Url,
}

/// A [`Decoder`] as a response body holds it.
pub(crate) trait Decode: Send + Sync {
    /// The next piece of the decoded body, at most [`DECODED_CHUNK`] bytes. With a
    /// `max_decoded_body`, exactly that many bytes are handed out, then the error.
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>>;
}

impl Decode for Decoder {
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        if self.done {
            return Poll::Ready(Ok(None));
        }
        if self.over_limit {
            self.done = true;
            return Poll::Ready(Err(self.too_large()));
        }
        let left = self.max_decoded.map(|max| max - self.decoded);
        // One byte past the limit is enough to know it was passed.
        let room = left.map_or(DECODED_CHUNK as u64, |left| left.saturating_add(1));
        let room = room.min(DECODED_CHUNK as u64) as usize;
        if self.out.capacity() == 0 {
            self.out.reserve(DECODED_CHUNK);
        }
        let mut buf = (&mut self.out).limit(room);
        let polled = ready!(poll_read_buf(Pin::new(&mut self.codec), cx, &mut buf));
        match polled {
            Ok(0) => {
                // deflate and brotli stop reading at their stream's end, which may come
                // before the body's: the rest is read too, so a truncation after it is
                // still a body error, bytes after it are not passed over in silence, and
                // a body read to its end frees its connection for the pool.
                let ended = ready!(self.poll_input_end(cx));
                self.done = true;
                Poll::Ready(ended.map(|()| None))
            }
            Ok(filled) => {
                let mut give = filled;
                if let Some(left) = left.filter(|left| filled as u64 > *left) {
                    self.over_limit = true;
                    give = left as usize;
                }
                if give == 0 {
                    self.done = true;
                    return Poll::Ready(Err(self.too_large()));
                }
                self.decoded += give as u64;
                let data = self.out.split_to(give).freeze();
                // Past the limit: the byte that showed it is never handed out.
                self.out.clear();
                Poll::Ready(Ok(Some(data)))
            }
            Err(e) => {
                self.done = true;
                Poll::Ready(self.failed(e))
            }
        }
    }
}

impl Decoder {
    /// Waits for the raw body's end once the coded data has ended; any byte still to
    /// come is an error.
    fn poll_input_end(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let rest =
            ready!(Pin::new(self.codec.input_mut()).poll_fill_buf(cx)).map(|rest| rest.is_empty());
        Poll::Ready(match rest {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::decode(format!(
                "the body goes on after the end of its {} data",
                self.coding.name()
            ))
            .for_url(&self.url)),
            Err(e) => self.failed(e).map(|_| ()),
        })
    }

    fn too_large(&self) -> Error {
        Error::decode(format!(
            "the {} body decoded to more than {} bytes, the client's max_decoded_body",
            self.coding.name(),
            self.max_decoded.unwrap_or_default()
        ))
        .for_url(&self.url)
    }

    /// A read error: the transport's own error, or the data was not valid for the coding.
    fn failed(&self, e: io::Error) -> Result<Option<Bytes>> {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = e.into_inner().expect("checked above");
            return Err(*inner.downcast::<Error>().expect("checked above"));
        }
        if !self.codec.input().received {
            // An empty body carries no encoded data, whatever Content-Encoding says.
            return Ok(None);
        }
        Err(Error::decode(format!(
            "the body is not valid {} data (Content-Encoding: {}): {e}",
            self.coding.name(),
            self.coding.name()
        ))
        .with_source(e)
        .for_url(&self.url))
    }
}

/// The raw body as the buffered reader the decoders pull from.
struct Input {
    raw: RawBody,
    url: Url,
    /// The part of the last data frame not yet consumed.
    chunk: Bytes,
    /// Whether any byte arrived.
    received: bool,
}

impl AsyncBufRead for Input {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(this.raw.poll_frame(cx, &this.url)) {
                None => break,
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.received |= !data.is_empty();
                        this.chunk = data;
                    }
                }
            }
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        self.chunk.advance(amt);
    }
}

impl AsyncRead for Input {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

/// async-compression's decoder for each coding compiled in.
enum Codec {
    #[cfg(feature = "gzip")]
    Gzip(async_compression::tokio::bufread::GzipDecoder<Input>),
    #[cfg(feature = "deflate")]
    Deflate(async_compression::tokio::bufread::ZlibDecoder<Input>),
    #[cfg(feature = "brotli")]
    Brotli(async_compression::tokio::bufread::BrotliDecoder<Input>),
    #[cfg(feature = "zstd")]
    Zstd(async_compression::tokio::bufread::ZstdDecoder<Input>),
    /// Never made: `Decoding::decoder` asks for compiled-in codings only. It keeps the
    /// match total for any set of features.
    #[allow(dead_code)]
    Passthrough(Input),
}

impl Codec {
    /// The decoder for `coding`, which must be compiled in.
    fn new(coding: Coding, input: Input) -> Codec {
        #[cfg(any(
            feature = "gzip",
            feature = "deflate",
            feature = "brotli",
            feature = "zstd"
        ))]
        use async_compression::tokio::bufread::*;
        match coding {
            #[cfg(feature = "gzip")]
            Coding::Gzip => {
                let mut decoder = GzipDecoder::new(input);
                // Concatenated members are one valid gzip body (RFC 1952 §2.2).
                decoder.multiple_members(true);
                Codec::Gzip(decoder)
            }
            #[cfg(feature = "deflate")]
            // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
            Coding::Deflate => Codec::Deflate(ZlibDecoder::new(input)),
            #[cfg(feature = "brotli")]
            Coding::Brotli => Codec::Brotli(BrotliDecoder::new(input)),
            #[cfg(feature = "zstd")]
            Coding::Zstd => {
                let mut decoder = ZstdDecoder::new(input);
                decoder.multiple_members(true);
                Codec::Zstd(decoder)
            }
            #[allow(unreachable_patterns)]
            _ => Codec::Passthrough(input),
        }
    }

    fn input(&self) -> &Input {
        match self {
            #[cfg(feature = "gzip")]
            Codec::Gzip(d) => d.get_ref(),
            #[cfg(feature = "deflate")]
            Codec::Deflate(d) => d.get_ref(),
            #[cfg(feature = "brotli")]
            Codec::Brotli(d) => d.get_ref(),
            #[cfg(feature = "zstd")]
            Codec::Zstd(d) => d.get_ref(),
            Codec::Passthrough(input) => input,
        }
    }

    fn input_mut(&mut self) -> &mut Input {
        match self {
            #[cfg(feature = "gzip")]
            Codec::Gzip(d) => d.get_mut(),
            #[cfg(feature = "deflate")]
            Codec::Deflate(d) => d.get_mut(),
            #[cfg(feature = "brotli")]
            Codec::Brotli(d) => d.get_mut(),
            #[cfg(feature = "zstd")]
            Codec::Zstd(d) => d.get_mut(),
            Codec::Passthrough(input) => input,
        }
    }
}

impl AsyncRead for Codec {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(feature = "gzip")]
            Codec::Gzip(d) => Pin::new(d).poll_read(cx, buf),
            #[cfg(feature = "deflate")]
            Codec::Deflate(d) => Pin::new(d).poll_read(cx, buf),
            #[cfg(feature = "brotli")]
            Codec::Brotli(d) => Pin::new(d).poll_read(cx, buf),
            #[cfg(feature = "zstd")]
            Codec::Zstd(d) => Pin::new(d).poll_read(cx, buf),
            Codec::Passthrough(input) => Pin::new(input).poll_read(cx, buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(CONTENT_ENCODING, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn picks_one_known_coding_only() {
        let all = Decoding {
            gzip: true,
            deflate: true,
            brotli: true,
            zstd: true,
            max_decoded: None,
        };
        assert_eq!(all.coding_for(&headers(&[])), None);
        assert_eq!(all.coding_for(&headers(&["gzip"])), Some(Coding::Gzip));
        assert_eq!(all.coding_for(&headers(&[" X-GZIP "])), Some(Coding::Gzip));
        assert_eq!(
            all.coding_for(&headers(&["deflate"])),
            Some(Coding::Deflate)
        );
        assert_eq!(all.coding_for(&headers(&["br"])), Some(Coding::Brotli));
        assert_eq!(all.coding_for(&headers(&["zstd"])), Some(Coding::Zstd));
        for passthrough in [
            &["identity"][..],
            &["x-foo"],
            &["gzip, br"],
            &["gzip", "gzip"],
        ] {
            assert_eq!(
                all.coding_for(&headers(passthrough)),
                None,
                "{passthrough:?}"
            );
        }
        let no_gzip = Decoding { gzip: false, ..all };
        assert_eq!(no_gzip.coding_for(&headers(&["gzip"])), None);
    }

    #[test]
    fn accept_encoding_lists_what_is_on() {
        let all = Decoding {
            gzip: true,
            deflate: true,
            brotli: true,
            zstd: true,
            max_decoded: None,
        };
        assert_eq!(all.accept_encoding().unwrap(), "gzip, deflate, br, zstd");
        let two = Decoding {
            deflate: false,
            zstd: false,
            ..all
        };
        assert_eq!(two.accept_encoding().unwrap(), "gzip, br");
        let none = Decoding {
            gzip: false,
            deflate: false,
            brotli: false,
            zstd: false,
            max_decoded: None,
        };
        assert!(none.accept_encoding().is_none());
    }
}
