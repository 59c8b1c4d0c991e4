//! `-w/--write-out`: curl's variables, escapes and warnings; compared with curl itself
//! where it is installed (the variables that don't depend on timing).

use crate::fixtures::fetch;
use crate::support::{
    echo_router, http_server, https_server, temp_path, test_ca_file, ServerOptions,
};

/// Everything but the times, which differ from run to run.
const FACTS: &str = "%{http_code} %{size_download} %{num_connects} %{remote_ip} \
    %{remote_port} %{ssl_verify_result} %{url_effective}\\n%%\\t\\x|";

const TIMES: &str = "%{time_namelookup} %{time_connect} %{time_appconnect} \
    %{time_pretransfer} %{time_posttransfer} %{time_starttransfer} %{time_total}";

#[tokio::test]
async fn write_out_prints_curls_variables_after_the_body() {
    let server = https_server(ServerOptions::default()).await;
    let url = server.url("/slow?ms=150");
    let ca = test_ca_file().to_str().unwrap();
    let out = temp_path("write-out-body");
    let format = format!("{FACTS}\\n{TIMES}\\n");
    let run = fetch(&[
        "--cacert",
        ca,
        "-o",
        out.to_str().unwrap(),
        "-w",
        &format,
        &url,
    ])
    .await;
    run.assert_code(0);
    let text = run.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    let port = server.addr.port();
    assert_eq!(lines[0], format!("200 4 1 127.0.0.1 {port} 0 {url}"));
    assert_eq!(lines[1], "%\t\\x|");
    let times: Vec<f64> = lines[2].split(' ').map(|t| t.parse().unwrap()).collect();
    // From the start, in the order of the phases; no lookup for an address.
    assert_eq!(times[0], 0.0, "{times:?}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times[2] > 0.0, "a TLS handshake: {times:?}");
    assert!(
        times[5] >= 0.15,
        "the server's 150 ms before the first byte: {times:?}"
    );
    assert!(lines[2]
        .split(' ')
        .all(|t| t.split_once('.').unwrap().1.len() == 6));
    let _ = std::fs::remove_file(out);
}

#[tokio::test]
async fn write_out_after_a_failed_transfer_says_000_and_the_exit_code_stays_curls() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/");
    let run = fetch(&[
        "-w",
        "%{http_code} %{num_connects} %{remote_ip}|%{url_effective}",
        &url,
    ])
    .await;
    run.assert_code(7);
    assert_eq!(run.stdout_text(), format!("000 0 |{url}"));
}

#[tokio::test]
async fn write_out_leaves_out_an_unknown_variable_with_a_warning() {
    let server = http_server(echo_router()).await;
    let run = fetch(&["-w", "[%{nope}]%{http_code}", &server.url("/missing")]).await;
    run.assert_code(0);
    assert_eq!(run.stdout_text(), "not found[]404");
    assert!(
        run.stderr.contains("unknown --write-out variable: 'nope'"),
        "{}",
        run.stderr
    );
}

/// curl's own output and exit code for `args`, or `None` when curl isn't installed.
async fn curl(args: &[&str]) -> Option<(String, i32)> {
    let run = tokio::process::Command::new("curl").args(args).output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), run)
        .await
        .expect("curl ran within 20 s")
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    Some((stdout, output.status.code().expect("curl exited")))
}

#[tokio::test]
async fn write_out_matches_curl_for_the_same_transfers() {
    let http = http_server(echo_router()).await;
    let https = https_server(ServerOptions::default()).await;
    let ca = test_ca_file().to_str().unwrap();
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = format!("http://{refused}/");
    for url in [http.url("/bytes/1000"), https.url("/status/503"), refused] {
        let Some((expected, code)) =
            curl(&["-s", "-o", "/dev/null", "--cacert", ca, "-w", FACTS, &url]).await
        else {
            eprintln!("curl is not installed: nothing to compare with");
            return;
        };
        let out = temp_path("write-out-vs-curl");
        let run = fetch(&[
            "--cacert",
            ca,
            "-o",
            out.to_str().unwrap(),
            "-w",
            FACTS,
            &url,
        ])
        .await;
        assert_eq!(run.stdout_text(), expected, "{url}");
        assert_eq!(run.code, code, "{url}");
        let _ = std::fs::remove_file(out);
    }
}
