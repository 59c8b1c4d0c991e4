//! The floor: hyper-util's pooled legacy client + hyper-rustls + http-body-util, nothing on top.

fn main() {
    bench::client::main::<bench::raw::Hyper<false>>();
}
