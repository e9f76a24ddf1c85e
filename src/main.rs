fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(reliability_lab::App);
    reliability_lab::remove_loading_message();
    reliability_lab::after_mount();
}
