//! Where trust comes from: the system store (loaded once per process) or a CA file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;

use crate::error::{Error, Result, TlsErrorKind};
use crate::tls::cert::parse_pem_bundle;
use crate::tls::explain::TlsProblem;

/// The system's roots as last loaded, or why there were none.
type SystemRoots = std::result::Result<Arc<RootCertStore>, Arc<TlsProblem>>;

/// The process's copy of the system's roots: loaded at the first use, loaded again by
/// `Client::reload_tls`.
static SYSTEM: Mutex<Option<SystemRoots>> = Mutex::new(None);

/// The system's roots, or why there are none. Parsing the system bundle costs about a
/// millisecond and a few hundred kilobytes, so every client of the process shares one copy.
pub(crate) fn system() -> SystemRoots {
    let mut loaded = SYSTEM.lock().unwrap_or_else(|e| e.into_inner());
    loaded.get_or_insert_with(load_system).clone()
}

/// The system's roots read again (a CA bundle updated by the package manager), for
/// every client of the process built from now on and the one reloading.
pub(crate) fn reload_system() {
    let fresh = load_system();
    *SYSTEM.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh);
}

fn load_system() -> std::result::Result<Arc<RootCertStore>, Arc<TlsProblem>> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added > 0 {
        if !found.errors.is_empty() {
            tracing::debug!(errors = ?found.errors, "some system root certificates could not be loaded");
        }
        return Ok(Arc::new(store));
    }
    let why = match found.errors.first() {
        Some(e) => format!("loading them failed: {e}"),
        None => "the store is empty".to_owned(),
    };
    Err(Arc::new(TlsProblem {
        kind: TlsErrorKind::NoTrustedRoots,
        message: format!(
            "no trusted root certificates: the system store could not be used ({why}); \
             install the system CA bundle (ca-certificates), point SSL_CERT_FILE at one, \
             or pass a CA bundle with ca_file()"
        ),
    }))
}

/// The certificates of a CA bundle file, for `ca_file()`. Fails, naming the path, when the
/// file is missing, unreadable or holds no certificate.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| {
        Error::builder(format!("CA file {shown}: cannot read it: {e}")).with_source(e)
    })?;
    parse_pem_bundle(&pem, &format!("CA file {shown}"))
}

/// A root store from explicit certificates; fails if none of them can serve as a root.
pub(crate) fn store_of(ders: Vec<CertificateDer<'static>>, origin: &str) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let (added, ignored) = store.add_parsable_certificates(ders);
    if added == 0 {
        return Err(Error::builder(format!(
            "{origin}: none of its {ignored} certificate(s) can be used as a trust anchor"
        )));
    }
    Ok(store)
}
