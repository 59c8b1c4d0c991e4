//! Runs the whole comparison and writes docs/performance.md: `run [--quick]`.

fn main() {
    bench::runner::main();
}
