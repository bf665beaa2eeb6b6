fn main() {
    // Declaring the app's own commands makes them subject to the capability
    // files: a command is only callable from a window that a capability in
    // capabilities/ grants it to.
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"]));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
