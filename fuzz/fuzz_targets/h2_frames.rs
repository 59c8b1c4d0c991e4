//! libFuzzer's entry for `h2_frames`: the property is `wireline_fuzz::h2_frames::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::h2_frames::check(data));
