//! Redirects through the blocking client: followed, refused by the policy, looping.

use wireline::blocking;
use wireline::redirect::Policy;

use crate::support::{echo_router, http_server};
use crate::{serve, within_bound};

#[test]
fn a_redirect_is_followed_and_the_final_url_reported() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let resp = blocking::get(server.url("/redirect?status=301&to=%2Fjson")).unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.url().path(), "/json");
        let json: serde_json::Value = resp.json().unwrap();
        assert_eq!(json["b"], "two");
    });
}

#[test]
fn policy_none_returns_the_redirect_itself() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let resp = client
            .get(server.url("/redirect?to=%2Fjson"))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()["location"], "/json");
        assert_eq!(server.requests().len(), 1);
    });
}

#[test]
fn a_redirect_loop_is_a_redirect_error() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let err = blocking::get(server.url("/redirect-loop")).unwrap_err();
        assert!(err.is_redirect(), "{err:?}");
        // The default policy's limit: 10 redirects, so 11 requests.
        assert_eq!(server.requests().len(), 11);
    });
}
