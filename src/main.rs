// The page's allocator (see Cargo.toml). One thread per wasm instance: the page's, and the
// scorer worker's own copy.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    std::panic::set_hook(Box::new(reliability_lab::report_panic));
    if web_sys::window().is_none() {
        // The challenge scorer's Web Worker runs this same wasm: it scores, it mounts nothing.
        return reliability_lab::serve_scores();
    }
    leptos::mount::mount_to_body(reliability_lab::App);
    reliability_lab::remove_loading_message();
    reliability_lab::after_mount();
}
