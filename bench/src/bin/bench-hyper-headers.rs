//! Raw hyper sending the default headers wireline sends (`user-agent`, `accept`,
//! `accept-encoding`): what those headers cost, apart from what wireline's layer costs.

fn main() {
    bench::client::main::<bench::raw::Hyper<true>>();
}
