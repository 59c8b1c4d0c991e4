//! A requests-style script with the blocking client: no async code anywhere. It gets a
//! page, reads JSON, posts JSON, turns an error status into an error, and saves a
//! download to a file in constant memory.
//!
//! With no argument it talks to a small API it serves itself on 127.0.0.1 (a few lines of
//! `std::net` at the bottom), so it runs offline; give a base URL to talk to that instead
//! (the steps whose paths the server doesn't have then print its error).
//!
//! ```text
//! cargo run --example blocking --features blocking
//! cargo run --example blocking --features blocking -- https://example.com
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wireline::blocking;

#[derive(Debug, Serialize, Deserialize)]
struct Item {
    name: String,
    count: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = match std::env::args().nth(1) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => serve_locally()?,
    };

    // r = requests.get(base); r.text
    let resp = blocking::get(format!("{base}/"))?;
    println!("GET {} -> {}", resp.url(), resp.status());
    let text = resp.text()?;
    println!("  {:?}", text.lines().next().unwrap_or_default());

    // s = requests.Session(): one client, its connections reused.
    let client = blocking::Client::builder()
        .user_agent("wireline-blocking-example/1.0")
        .timeout(Duration::from_secs(10))
        .build()?;

    // s.get(f"{base}/items", params={"limit": 2}).json()
    match client
        .get(format!("{base}/items"))
        .query(&[("limit", "2")])
        .send()
        .and_then(|resp| resp.error_for_status())
        .and_then(|resp| resp.json::<Vec<Item>>())
    {
        Ok(items) => println!("GET /items -> {items:?}"),
        Err(e) => println!("GET /items failed: {e}"),
    }

    // s.post(f"{base}/items", json=item); r.raise_for_status()
    let item = Item {
        name: "pear".into(),
        count: 3,
    };
    match client
        .post(format!("{base}/items"))
        .json(&item)
        .send()
        .and_then(|resp| resp.error_for_status())
    {
        Ok(resp) => println!("POST /items -> {}: {}", resp.status(), resp.text()?),
        Err(e) => println!("POST /items failed: {e}"),
    }

    // r.raise_for_status() on a 404
    let missing = client.get(format!("{base}/missing")).send()?;
    if let Err(e) = missing.error_for_status() {
        println!("GET /missing -> {e}");
    }

    // with s.get(url, stream=True) as r: shutil.copyfileobj(r.raw, f)
    let path = std::env::temp_dir().join(format!("wireline-example-{}.bin", std::process::id()));
    match client
        .get(format!("{base}/download"))
        .send()
        .and_then(|resp| resp.error_for_status())
    {
        Ok(mut resp) => {
            let mut file = std::fs::File::create(&path)?;
            let written = resp.copy_to(&mut file)?;
            println!(
                "GET /download -> {written} bytes written to {}",
                path.display()
            );
            std::fs::remove_file(&path)?;
        }
        Err(e) => println!("GET /download failed: {e}"),
    }
    Ok(())
}

/// Serves the script's API on 127.0.0.1, one thread per connection, and returns its URL.
fn serve_locally() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    Ok(base)
}

/// Reads one request and answers it (then closes the connection).
fn answer(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let method = request_line.split_whitespace().next().unwrap_or("");
    let (status, kind, reply) = match (method, path) {
        ("GET", "/") => (
            "200 OK",
            "text/plain",
            b"hello from the local API\n".to_vec(),
        ),
        ("GET", "/items") => (
            "200 OK",
            "application/json",
            br#"[{"name":"apple","count":5},{"name":"fig","count":2}]"#.to_vec(),
        ),
        ("POST", "/items") => ("201 Created", "application/json", body),
        ("GET", "/download") => ("200 OK", "application/octet-stream", vec![7; 1 << 20]),
        _ => ("404 Not Found", "text/plain", b"no such page\n".to_vec()),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    )?;
    stream.write_all(&reply)
}
