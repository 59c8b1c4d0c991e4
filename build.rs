//! One name for a set of platforms the code tests in several places: `bind_interface`,
//! where hyper-util's `HttpConnector::set_interface` exists (SO_BINDTODEVICE or
//! IP_BOUND_IF), so `ClientBuilder::interface` and its socket code say it once.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(bind_interface)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    const BIND_INTERFACE: [&str; 10] = [
        "android", "fuchsia", "illumos", "ios", "linux", "macos", "solaris", "tvos", "visionos",
        "watchos",
    ];
    if BIND_INTERFACE.contains(&os.as_str()) {
        println!("cargo::rustc-cfg=bind_interface");
    }
}
