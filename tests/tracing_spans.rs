//! The `tracing` spans and events of a request (docs/observability.md): a span per request
//! and one per attempt below it, with OpenTelemetry's HTTP client fields, and events for a
//! connection opened, its TLS handshake, its reuse and a redirect; no credential in any
//! of them. One test alone in this binary: it installs the process-wide subscriber.

mod support;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use support::{bounded, http_server, https_server, trusting_test_ca, ServerOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span or an event as captured: its name (an event's message), its fields as text, and
/// the name of its parent span.
#[derive(Clone, Debug, Default)]
struct Captured {
    name: String,
    fields: BTreeMap<String, String>,
    parent: Option<String>,
    /// For spans: its own id, to tell the spans of one name apart.
    id: Option<u64>,
    parent_id: Option<u64>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl Visit for Captured {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "message" => self.name = text,
            name => {
                self.fields
                    .insert(name.to_owned(), text.trim_matches('"').to_owned());
            }
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<BTreeMap<u64, Captured>>>,
    events: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    fn wireline_spans(&self, name: &str) -> Vec<Captured> {
        let spans = self.spans.lock().unwrap();
        spans.values().filter(|s| s.name == name).cloned().collect()
    }
    fn events(&self, message: &str) -> Vec<Captured> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|e| e.name == message)
            .cloned()
            .collect()
    }
    fn clear(&self) {
        self.spans.lock().unwrap().clear();
        self.events.lock().unwrap().clear();
    }
    fn all_text(&self) -> String {
        format!(
            "{:?}{:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        )
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !attrs.metadata().target().starts_with("wireline") {
            return;
        }
        let mut span = Captured {
            name: attrs.metadata().name().to_owned(),
            id: Some(id.into_u64()),
            ..Captured::default()
        };
        let parent = ctx.span_scope(id).and_then(|mut scope| {
            scope.next();
            scope.next()
        });
        span.parent = parent.as_ref().map(|p| p.name().to_owned());
        span.parent_id = parent.map(|p| p.id().into_u64());
        attrs.record(&mut span);
        self.spans.lock().unwrap().insert(id.into_u64(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.spans.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(span);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("wireline") {
            return;
        }
        let mut captured = Captured::default();
        event.record(&mut captured);
        let parent = ctx.event_span(event);
        captured.parent = parent.as_ref().map(|p| p.name().to_owned());
        captured.parent_id = parent.map(|p| p.id().into_u64());
        self.events.lock().unwrap().push(captured);
    }
}

#[tokio::test]
async fn requests_and_attempts_are_spans_with_opentelemetrys_fields_and_no_credentials() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    // h2 over TLS, through a redirect, with a password in the URL and a signature in the
    // query: one request span, an attempt span per hop.
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    let url = server
        .url("/redirect?to=/echo&sig=s3cret")
        .replacen("://", "://alice:hunter2@", 1);
    let resp = bounded(client.get(&url).send()).await.unwrap();
    assert_eq!(resp.status(), 200);

    let requests = capture.wireline_spans("request");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    let port = server.addr.port().to_string();
    assert_eq!(request.field("http.request.method"), Some("GET"));
    assert_eq!(request.field("server.address"), Some("127.0.0.1"));
    assert_eq!(request.field("server.port"), Some(port.as_str()));
    assert_eq!(request.field("http.response.status_code"), Some("200"));
    assert_eq!(request.field("error.type"), None);
    let full = request.field("url.full").unwrap();
    assert!(
        full.starts_with("https://127.0.0.1:") && full.contains("sig=REDACTED"),
        "{full}"
    );

    let attempts = capture.wireline_spans("attempt");
    assert_eq!(attempts.len(), 2, "one per hop: {attempts:?}");
    for attempt in &attempts {
        assert_eq!(
            attempt.parent_id, request.id,
            "a child of the request's span"
        );
        assert_eq!(attempt.field("network.protocol.version"), Some("2"));
    }
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| a.field("http.response.status_code").unwrap())
        .collect();
    assert_eq!(statuses, ["302", "200"]);
    assert!(attempts[1].field("url.full").unwrap().ends_with("/echo"));
    assert_eq!(attempts[0].field("connection.reused"), Some("false"));
    assert_eq!(attempts[1].field("connection.reused"), Some("true"));
    assert_eq!(
        attempts[0].field("connection.id"),
        attempts[1].field("connection.id")
    );

    // The connection's events come inside the first attempt's span.
    let opened = capture.events("connection opened");
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].parent_id, attempts[0].id);
    let handshake = capture.events("TLS handshake done");
    assert_eq!(handshake.len(), 1);
    assert_eq!(
        handshake[0].field("tls.next_protocol"),
        Some("Some(\"h2\")")
    );
    assert_eq!(
        capture.events("on a new connection")[0].parent_id,
        attempts[0].id
    );
    assert_eq!(
        capture.events("reused a connection")[0].parent_id,
        attempts[1].id
    );
    let redirect = capture.events("following a redirect");
    assert_eq!(redirect.len(), 1);
    assert_eq!(redirect[0].parent_id, request.id);

    let everything = capture.all_text();
    for secret in ["hunter2", "alice", "s3cret"] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }

    // A status error and a connection refused: `error.type` says which.
    capture.clear();
    let plain = http_server(support::echo_router()).await;
    let resp = bounded(client.get(plain.url("/status/404")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let request = &capture.wireline_spans("request")[0];
    assert_eq!(request.field("error.type"), Some("404"));
    assert_eq!(request.field("network.protocol.version"), None);
    assert_eq!(
        capture.wireline_spans("attempt")[0].field("network.protocol.version"),
        Some("1.1")
    );

    capture.clear();
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = bounded(client.get(format!("http://{refused}/")).send())
        .await
        .unwrap_err();
    assert!(err.is_connect());
    let request = &capture.wireline_spans("request")[0];
    assert_eq!(request.field("error.type"), Some("connect"));
    assert_eq!(
        capture.wireline_spans("attempt")[0].field("error.type"),
        Some("connect")
    );
}
