//! The server's stream limit, read off its first h2 frame as hyper reads it.
//!
//! hyper keeps the peer's `SETTINGS_MAX_CONCURRENT_STREAMS` to itself, and the pool needs
//! it to open another connection when one is full (`crate::pool`). The server's preface
//! is a SETTINGS frame, the first bytes it sends (RFC 9113 §3.4), so the connection reads
//! it as the bytes pass and then stops looking. A later SETTINGS that changes the limit
//! is not seen: servers announce it once.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use tokio::sync::Notify;

/// SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2).
const MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// The SETTINGS frame type.
const SETTINGS: u8 = 0x4;

/// The limit until the server's SETTINGS arrive: hyper's
/// (`DEFAULT_INITIAL_MAX_SEND_STREAMS`), which opens no more streams than this before.
pub(crate) const BEFORE_SETTINGS: u32 = 100;

/// One h2 connection's streams, as the pool routes requests to it: how many it carries
/// and how many the server allows. Shared by the connection (which learns the limit)
/// and the pool's table (`origins.rs`), and held by each request routed to it.
#[derive(Debug)]
pub(crate) struct Streams {
    /// Requests routed to the connection whose response has not ended.
    in_flight: AtomicUsize,
    /// The server's limit; [`UNKNOWN`] until its SETTINGS are read, [`UNLIMITED`] when
    /// they set none.
    limit: AtomicU32,
    /// Notified when what the pool routes by becomes known: the first dial's protocol (or
    /// its failure), the server's limit, the connection's end. Requests that came while
    /// the first dial to an origin was under way wait on it (`crate::pool`).
    settled: Notify,
}

const UNKNOWN: u32 = u32::MAX;
const UNLIMITED: u32 = u32::MAX - 1;

impl Default for Streams {
    fn default() -> Streams {
        Streams {
            in_flight: AtomicUsize::new(0),
            limit: AtomicU32::new(UNKNOWN),
            settled: Notify::new(),
        }
    }
}

impl Streams {
    /// The server's limit, once its SETTINGS were read (`Some(u32::MAX - 1)` for none).
    pub(crate) fn limit(&self) -> Option<u32> {
        match self.limit.load(Relaxed) {
            UNKNOWN => None,
            limit => Some(limit),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Relaxed)
    }

    fn learned(&self, limit: Option<u32>) {
        // A limit past 2^31 is no limit (stream ids end there).
        let limit = limit.map_or(UNLIMITED, |l| l.min(UNLIMITED));
        self.limit.store(limit, Relaxed);
        self.settled.notify_waiters();
    }

    /// A request waited its patience out and the limit is still unknown (a server that
    /// sends no SETTINGS first): from now on the connection counts as allowing
    /// [`BEFORE_SETTINGS`] until its SETTINGS come, so later requests don't wait too.
    pub(crate) fn assume_limit(&self) {
        let assumed = self
            .limit
            .compare_exchange(UNKNOWN, BEFORE_SETTINGS, Relaxed, Relaxed);
        if assumed.is_ok() {
            self.settled.notify_waiters();
        }
    }

    /// What requests waiting for the first dial's outcome wait on.
    pub(crate) fn settled(&self) -> &Notify {
        &self.settled
    }

    /// Wakes the requests waiting for the first dial's outcome.
    pub(crate) fn settle(&self) {
        self.settled.notify_waiters();
    }
}

/// A request routed to a connection, counted in its [`Streams`] until its response ends
/// (the token rides in the response's extensions, then in its body).
#[derive(Debug)]
pub(crate) struct StreamToken(Arc<Streams>);

impl StreamToken {
    pub(crate) fn new(streams: &Arc<Streams>) -> StreamToken {
        streams.in_flight.fetch_add(1, Relaxed);
        StreamToken(streams.clone())
    }
}

impl Clone for StreamToken {
    fn clone(&self) -> StreamToken {
        StreamToken::new(&self.0)
    }
}

impl Drop for StreamToken {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// Reads the first frame of a server's byte stream, across as many reads as it takes.
#[derive(Debug, Default)]
pub(crate) struct FirstFrame {
    /// The frame header's 9 bytes, then each 6-byte setting, as they arrive.
    pending: [u8; 9],
    pending_len: u8,
    /// Payload bytes left, once the header is read.
    payload_left: Option<u32>,
    max_streams: Option<u32>,
}

impl FirstFrame {
    /// Takes the next `bytes` read; `true` once the frame is read (or is not SETTINGS),
    /// after which the limit is in `streams`.
    pub(crate) fn read(&mut self, mut bytes: &[u8], streams: &Streams) -> bool {
        while !bytes.is_empty() {
            let want = match self.payload_left {
                None => 9,
                Some(0) => break,
                Some(left) => 6.min(left as usize),
            };
            let take = (want - self.pending_len as usize).min(bytes.len());
            let at = self.pending_len as usize;
            self.pending[at..at + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take as u8;
            bytes = &bytes[take..];
            if (self.pending_len as usize) < want {
                return false;
            }
            self.pending_len = 0;
            let unit = &self.pending[..want];
            match self.payload_left {
                None => {
                    if unit[3] != SETTINGS {
                        // Not a preface: hyper will say what is wrong; nothing to learn.
                        return true;
                    }
                    let len = u32::from_be_bytes([0, unit[0], unit[1], unit[2]]);
                    self.payload_left = Some(len);
                }
                Some(left) => {
                    if want == 6 && u16::from_be_bytes([unit[0], unit[1]]) == MAX_CONCURRENT_STREAMS
                    {
                        self.max_streams =
                            Some(u32::from_be_bytes([unit[2], unit[3], unit[4], unit[5]]));
                    }
                    self.payload_left = Some(left - want as u32);
                }
            }
        }
        if self.payload_left == Some(0) {
            streams.learned(self.max_streams);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(entries: &[(u16, u32)]) -> Vec<u8> {
        let len = (entries.len() * 6) as u32;
        let mut frame = len.to_be_bytes()[1..].to_vec();
        frame.extend([SETTINGS, 0, 0, 0, 0, 0]);
        for (id, value) in entries {
            frame.extend(id.to_be_bytes());
            frame.extend(value.to_be_bytes());
        }
        frame
    }

    #[test]
    fn the_limit_is_read_whatever_the_reads_cut() {
        let mut bytes = settings(&[(0x4, 65_535), (MAX_CONCURRENT_STREAMS, 4), (0x6, 8192)]);
        // A WINDOW_UPDATE after it, in the same read.
        bytes.extend([0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        for cut in 1..bytes.len() {
            let streams = Streams::default();
            let mut first = FirstFrame::default();
            let mut done = false;
            for piece in bytes.chunks(cut) {
                done = first.read(piece, &streams);
                if done {
                    break;
                }
            }
            assert!(done, "cut {cut}");
            assert_eq!(streams.limit(), Some(4), "cut {cut}");
        }
    }

    #[test]
    fn no_limit_set_is_none_and_a_frame_other_than_settings_teaches_nothing() {
        let streams = Streams::default();
        assert_eq!(streams.limit(), None);
        assert!(FirstFrame::default().read(&settings(&[(0x4, 1)]), &streams));
        assert_eq!(streams.limit(), Some(UNLIMITED));
        let streams = Streams::default();
        assert!(FirstFrame::default().read(&settings(&[]), &streams));
        assert_eq!(streams.limit(), Some(UNLIMITED));
        streams.assume_limit();
        assert_eq!(streams.limit(), Some(UNLIMITED), "a limit read is kept");
        let streams = Streams::default();
        streams.assume_limit();
        assert_eq!(streams.limit(), Some(BEFORE_SETTINGS));
        assert!(FirstFrame::default().read(&settings(&[(MAX_CONCURRENT_STREAMS, 4)]), &streams));
        assert_eq!(
            streams.limit(),
            Some(4),
            "the SETTINGS, once read, replace it"
        );
        let streams = Streams::default();
        let goaway = [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(FirstFrame::default().read(&goaway, &streams));
        assert_eq!(streams.limit(), None);
        // Not yet complete.
        let streams = Streams::default();
        let frame = settings(&[(MAX_CONCURRENT_STREAMS, 0)]);
        let mut first = FirstFrame::default();
        assert!(!first.read(&frame[..12], &streams));
        assert_eq!(streams.limit(), None);
        assert!(first.read(&frame[12..], &streams));
        assert_eq!(streams.limit(), Some(0));
    }
}
