//! Raw servers that fail a TLS handshake the way old or broken servers do, which a rustls
//! server can't be configured to imitate.

use super::raw::{raw_server, RawConn, RawServer};

/// Reads one TLS record (5-byte header, then its payload) and records it.
pub async fn read_tls_record(conn: &mut RawConn) -> Option<Vec<u8>> {
    let mut record = conn.read_exact(5).await?;
    let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
    record.extend(conn.read_exact(len).await?);
    conn.record(&record);
    Some(record)
}

/// Reads the ClientHello, answers with a fatal alert record carrying `alert_description`
/// (70 = protocol_version, what a TLS 1.0-only server says to a TLS 1.2+ client; 40 =
/// handshake_failure), then closes.
pub async fn tls_alert_server(alert_description: u8) -> RawServer {
    raw_server(move |mut conn| async move {
        if read_tls_record(&mut conn).await.is_none() {
            return;
        }
        // Alert record, legacy version TLS 1.0, length 2: level fatal (2), description.
        conn.write(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, alert_description])
            .await;
        conn.close().await;
    })
    .await
}

/// Reads the ClientHello and answers with a ServerHello that picks TLS 1.0 (0x0301) and
/// TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, as a TLS 1.0-only server does; then waits for the
/// client to give up.
pub async fn old_tls_server_hello() -> RawServer {
    raw_server(|mut conn| async move {
        if read_tls_record(&mut conn).await.is_none() {
            return;
        }
        conn.write(&tls10_server_hello()).await;
        conn.close().await;
    })
    .await
}

fn tls10_server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01]; // server_version TLS 1.0
    body.extend([0x42; 32]); // server random
    body.push(0); // empty session id
    body.extend([0xc0, 0x13]); // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    body.push(0); // null compression; no extensions, as TLS 1.0 servers often send
    let mut handshake = vec![0x02, 0, 0, body.len() as u8]; // ServerHello, u24 length
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01, 0, handshake.len() as u8]; // handshake record
    record.extend(handshake);
    record
}
