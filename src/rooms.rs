//! The layering check: each room of `src/` imports only the rooms below it on the data
//! path (docs/architecture.md draws them).

use std::path::Path;

/// The rooms of `src/`, from the top of the data path to the bottom (as
/// docs/architecture.md draws them); the last seven are the vocabulary every room uses
/// (`error` names `timings`).
const ROOMS: [&str; 21] = [
    "lib",
    "blocking",
    "client",
    "request",
    "response",
    "redirect",
    "retry",
    "cookie",
    "multipart",
    "attempt",
    "pool",
    "connect",
    "proxy",
    "tls",
    "timeouts",
    "progress",
    "body",
    "into_url",
    "error",
    "redact",
    "timings",
];

/// Every `crate::room` a room's code names (comments aside), with where.
fn imports(dir: &Path, room: Option<&str>, found: &mut Vec<(String, String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let this = room.unwrap_or(&name).to_owned();
        if path.is_dir() {
            imports(&path, Some(&this), found);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("crate::") {
                let target: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if target != this && ROOMS.contains(&target.as_str()) {
                    let place = format!("{}:{}", path.display(), n + 1);
                    found.push((this.clone(), target, place));
                }
            }
        }
    }
}

/// The data path runs one way (client → attempt → pool → connect → TLS): a room may
/// name the rooms below it, never one above, so the tree has no import cycle.
#[test]
fn rooms_import_only_the_rooms_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    imports(&src, None, &mut found);
    assert!(
        found.len() > 40,
        "the scan finds the imports: {}",
        found.len()
    );
    let rank = |room: &str| ROOMS.iter().position(|r| *r == room);
    let upward: Vec<String> = found
        .iter()
        .filter(|(from, to, _)| rank(from).is_none_or(|from| rank(to) < Some(from)))
        .map(|(from, to, place)| format!("{from} -> {to} at {place}"))
        .collect();
    assert!(
        upward.is_empty(),
        "imports up the data path:\n{}",
        upward.join("\n")
    );
}
