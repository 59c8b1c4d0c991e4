//! The TLS server every client binary talks to: `bench-server CA_OUT.pem`.

fn main() {
    let Some(ca_out) = std::env::args_os().nth(1) else {
        eprintln!("usage: bench-server CA_OUT.pem");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(bench::server::run(ca_out.as_ref())) {
        eprintln!("bench-server: {e}");
        std::process::exit(1);
    }
}
