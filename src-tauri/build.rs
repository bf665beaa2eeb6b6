fn main() {
    // Declaring the app's own commands makes them subject to the capability
    // files: a command is only callable from a window that a capability in
    // capabilities/ grants it to (each as `allow-<command>`).
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(&COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}

/// Every command of src/lib.rs `with_commands` (a test holds the two and the capability
/// together).
const COMMANDS: [&str; 68] = [
    "app_info",
    "take_handoff",
    "recent_safes",
    "forget_recent_safe",
    "inspect_safe",
    "choose_folder",
    "choose_files",
    "password_strength",
    "recovery_key_typo",
    "create_safe",
    "unlock_safe",
    "unlock_with_recovery_key",
    "lock_safe",
    "safe_info",
    "list_folder",
    "folder_children",
    "breadcrumb",
    "item_details",
    "favorites",
    "recent_items",
    "trash_items",
    "tags",
    "tagged_items",
    "search",
    "create_folder",
    "rename_item",
    "move_items",
    "move_to_trash",
    "restore_from_trash",
    "empty_trash",
    "set_favorite",
    "set_comment",
    "add_tag",
    "remove_tag",
    "rename_tag",
    "delete_tag",
    "change_password",
    "create_recovery_key",
    "settings",
    "save_settings",
    "activity",
    "preview_url",
    "thumbnail_url",
    "import_paths",
    "resume_import",
    "abandon_import",
    "export_items",
    "jobs",
    "pause_job",
    "resume_job",
    "cancel_job",
    "dismiss_job",
    "backup_to",
    "verify_backup",
    "list_backup",
    "restore_items",
    "restore_backup",
    "rebuild_database",
    "apps_for_item",
    "open_in_app",
    "open_edits",
    "finish_edit",
    "edits_open_elsewhere",
    "leftover_copies",
    "settle_leftover_copy",
    "drag_out_folder",
    "drag_out",
    "drag_out_done",
];
