//! The soak run; see `bench::soak`.

fn main() {
    if let Err(e) = bench::soak::main() {
        eprintln!("soak: {e}");
        std::process::exit(1);
    }
}
