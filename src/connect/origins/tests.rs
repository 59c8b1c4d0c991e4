//! The table's rules, on the table alone: the cap, the line, the dial rule, the routing
//! of h2 requests over lanes.

use http::uri::{Authority, Scheme};

use super::*;

fn origin() -> Origin {
    Origin::new(Scheme::HTTPS, Authority::from_static("example.com:443"))
}

fn now(admission: Admission) -> Dialing {
    match admission {
        Admission::Now(dialing) => dialing,
        Admission::Queued(_) => panic!("queued"),
    }
}

fn queued(admission: Admission) -> Queued {
    match admission {
        Admission::Now(_) => panic!("admitted"),
        Admission::Queued(queued) => queued,
    }
}

fn granted(queued: &mut Queued) -> Option<Dialing> {
    queued.poll_slot(Waker::noop())
}

#[test]
fn the_cap_counts_dials_and_connections_and_serves_in_order() {
    let origins = Arc::new(Origins::new(Some(2), None));
    let pool = origins.pool_id();
    let a = now(origins.admit(&origin(), pool, false));
    let b = now(origins.admit(&origin(), pool, false));
    let mut c = queued(origins.admit(&origin(), pool, false));
    let mut d = queued(origins.admit(&origin(), pool, false));
    let slot = a.opened(false);
    assert!(
        granted(&mut c).is_none(),
        "an open connection keeps its slot"
    );
    assert_eq!(c.wait().waiting, 2);
    assert!(c.wait().at_cap);
    drop(slot);
    let c = granted(&mut c).expect("the first in line gets the freed slot");
    assert!(granted(&mut d).is_none());
    b.failed();
    let d = granted(&mut d).expect("a failed dial frees its slot");
    drop((c, d));
    assert_eq!(origins.open(&origin()), 0);
    assert!(
        origins.lock().is_empty(),
        "an origin with nothing left is forgotten"
    );
}

#[test]
fn a_waiter_that_gives_up_holds_nothing() {
    let origins = Arc::new(Origins::new(Some(1), None));
    let pool = origins.pool_id();
    let a = now(origins.admit(&origin(), pool, false));
    let b = queued(origins.admit(&origin(), pool, false));
    let c = queued(origins.admit(&origin(), pool, false));
    drop(b);
    drop(a);
    // Given to c, which never takes it: dropping c frees it.
    assert_eq!(origins.open(&origin()), 1);
    assert!(c.ticket.granted.load(Ordering::Relaxed));
    drop(c);
    assert!(origins.lock().is_empty());
}

#[test]
fn one_dial_while_the_protocol_is_unknown_then_parallel_for_http1() {
    let origins = Arc::new(Origins::new(None, None));
    let pool = origins.pool_id();
    let probe = now(origins.admit(&origin(), pool, true));
    let mut waiters: Vec<Queued> = (0..3)
        .map(|_| queued(origins.admit(&origin(), pool, true)))
        .collect();
    let _slot = probe.opened(false);
    let dials: Vec<Dialing> = waiters
        .iter_mut()
        .map(|w| granted(w).expect("HTTP/1.1: all dial at once"))
        .collect();
    // Known now: a new dial goes at once.
    let _more = now(origins.admit(&origin(), pool, true));
    drop(dials);
}

#[test]
fn waiters_for_an_h2_dial_wait_for_its_connection_and_dial_when_it_is_gone() {
    let origins = Arc::new(Origins::new(None, None));
    let pool = origins.pool_id();
    let other_pool = origins.pool_id();
    let probe = now(origins.admit(&origin(), pool, true));
    let mut waiter = queued(origins.admit(&origin(), pool, true));
    // Another pool's requests can't use this pool's connection: not held back.
    let _other = now(origins.admit(&origin(), other_pool, true));
    let slot = probe.opened(true);
    assert!(granted(&mut waiter).is_none(), "it gets the h2 connection");
    drop(slot);
    assert!(granted(&mut waiter).is_some(), "that connection is gone");
}

#[test]
fn a_failed_dial_releases_its_waiters_and_no_rule_without_pooling() {
    let origins = Arc::new(Origins::new(None, None));
    let pool = origins.pool_id();
    let probe = now(origins.admit(&origin(), pool, true));
    let mut a = queued(origins.admit(&origin(), pool, true));
    let mut b = queued(origins.admit(&origin(), pool, true));
    probe.failed();
    assert!(granted(&mut a).is_some() && granted(&mut b).is_some());
    // No pooling: every request dials its own.
    let unpooled = origins.pool_id();
    let _x = now(origins.admit(&origin(), unpooled, false));
    let _y = now(origins.admit(&origin(), unpooled, false));
}

/// The connection reads the server's SETTINGS, allowing `streams` at once.
fn server_allows(streams: u8, on: &Arc<Streams>) {
    let frame = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, streams];
    assert!(crate::connect::streams::FirstFrame::default().read(&frame, on));
}

fn streams_of(route: Route) -> (usize, StreamToken) {
    match route {
        Route::Lane(lane, token) => (lane, token),
        Route::First => panic!("first, uncounted"),
        Route::Grow => panic!("grow"),
        Route::Wait(_) => panic!("wait"),
    }
}

#[test]
fn h2_requests_fill_a_connection_to_its_limit_then_take_the_next_lane() {
    let origins = Arc::new(Origins::new(None, None));
    let lanes = [origins.pool_id(), origins.pool_id()];
    assert!(
        matches!(origins.route(&origin(), &lanes, true, false), Route::First),
        "nothing known"
    );
    let (slot, streams) = now(origins.admit(&origin(), lanes[0], true)).opened(true);
    let streams = streams.expect("h2");
    // The server's SETTINGS: 2 streams.
    server_allows(2, &streams);
    let a = streams_of(origins.route(&origin(), &lanes, true, false));
    let b = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!((a.0, b.0), (0, 0), "two streams on the first connection");
    let c = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!(
        c.0, 1,
        "the second lane, with no connection yet, takes the third"
    );
    let d = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!(
        d.0, 1,
        "its limit is the first connection's until its own SETTINGS"
    );
    assert!(
        matches!(origins.route(&origin(), &lanes, true, false), Route::Grow),
        "both full: another lane"
    );
    drop(a);
    assert_eq!(
        streams_of(origins.route(&origin(), &lanes, true, false)).0,
        0,
        "a stream freed"
    );
    drop((b, c, d, slot));
}

#[test]
fn the_cap_stops_the_growth_and_the_least_busy_lane_takes_the_rest() {
    let origins = Arc::new(Origins::new(Some(2), None));
    let lanes = [origins.pool_id(), origins.pool_id(), origins.pool_id()];
    let (_slot, streams) = now(origins.admit(&origin(), lanes[0], true)).opened(true);
    server_allows(1, &streams.expect("h2"));
    let on_first = streams_of(origins.route(&origin(), &lanes, true, false));
    let on_second = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!((on_first.0, on_second.0), (0, 1));
    // Two connections (one open, one routed to), the cap's two: no third lane, no Grow.
    let queued = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!(queued.0, 0, "the least busy, first of the equal");
    let again = streams_of(origins.route(&origin(), &lanes, true, false));
    assert_eq!(again.0, 1);
}

#[test]
fn an_http1_origin_is_never_routed() {
    let origins = Arc::new(Origins::new(None, None));
    let lanes = [origins.pool_id(), origins.pool_id()];
    let (_slot, streams) = now(origins.admit(&origin(), lanes[0], true)).opened(false);
    assert!(streams.is_none());
    assert!(matches!(
        origins.route(&origin(), &lanes, true, false),
        Route::First
    ));
}

#[test]
fn while_the_first_dial_is_under_way_a_patient_request_waits_for_its_outcome() {
    let origins = Arc::new(Origins::new(None, None));
    let lanes = [origins.pool_id(), origins.pool_id()];
    let probe = now(origins.admit(&origin(), lanes[0], true));
    let waits = |patient| {
        matches!(
            origins.route(&origin(), &lanes, true, patient),
            Route::Wait(_)
        )
    };
    assert!(waits(true), "the protocol is unknown");
    assert!(
        matches!(origins.route(&origin(), &lanes, true, false), Route::First),
        "out of patience: the first lane, as without lanes"
    );
    let (_slot, streams) = probe.opened(true);
    assert!(waits(true), "h2, its limit not read yet");
    server_allows(8, &streams.expect("h2"));
    assert!(!waits(true), "routed by the limit");
    // An HTTP/1.1 first connection: never routed, never waited for.
    let http1 = Origin::new(Scheme::HTTPS, Authority::from_static("h1.example:443"));
    let dial = now(origins.admit(&http1, lanes[0], true));
    let _slot = dial.opened(false);
    assert!(matches!(
        origins.route(&http1, &lanes, true, true),
        Route::First
    ));
}

// The byte-for-byte look is only a shortcut: authorities that differ in case are still one
// origin, as in hyper-util's pool, so a cap can't be dodged by spelling the host otherwise.
#[test]
fn origins_equal_but_for_case_are_one_origin() {
    let lower = origin();
    let upper = Origin::new(Scheme::HTTPS, Authority::from_static("EXAMPLE.com:443"));
    assert_eq!(lower, upper);
    assert_ne!(
        lower,
        Origin::new(Scheme::HTTP, Authority::from_static("example.com:443"))
    );
    assert_ne!(
        lower,
        Origin::new(Scheme::HTTPS, Authority::from_static("example.com:8443"))
    );
    let origins = Arc::new(Origins::new(Some(1), None));
    let pool = origins.pool_id();
    let _first = now(origins.admit(&lower, pool, false));
    let _second = queued(origins.admit(&upper, pool, false));
    assert_eq!(origins.open(&upper), 1);
}

// The hash is computed once, with the case folded: origins equal but for case must hash
// alike, or the pool's table would keep them apart.
#[test]
fn origins_equal_but_for_case_hash_alike() {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let lower = Origin::new(
        Scheme::HTTPS,
        Authority::from_static("a-long-host.example.com:8443"),
    );
    let upper = Origin::new(
        Scheme::HTTPS,
        Authority::from_static("A-Long-HOST.example.COM:8443"),
    );
    assert_eq!(state.hash_one(&lower), state.hash_one(&upper));
    let other = Origin::new(
        Scheme::HTTPS,
        Authority::from_static("a-long-host.example.com:8444"),
    );
    assert_ne!(state.hash_one(&lower), state.hash_one(&other));
}
