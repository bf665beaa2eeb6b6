//! Arca's desktop shell: a Tauri window around the web UI in `ui/`.
//!
//! The UI reaches Rust only through the commands registered in
//! [`with_commands`]; `capabilities/default.json` says which window may call
//! them.

#[cfg(test)]
mod bindings;
pub mod dto;

use serde::Serialize;
use tauri::{AppHandle, Builder, Runtime};

/// What the UI shows about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The product name from `tauri.conf.json`.
    pub name: String,
    /// The app's version (the crate's version).
    pub version: String,
}

impl AppInfo {
    fn of<R: Runtime>(app: &AppHandle<R>) -> Self {
        let package = app.package_info();
        Self {
            name: package.name.clone(),
            version: package.version.to_string(),
        }
    }
}

/// The app's name and version.
#[tauri::command]
fn app_info<R: Runtime>(app: AppHandle<R>) -> AppInfo {
    AppInfo::of(&app)
}

/// Registers Arca's commands on a builder (the real one or a test's mock).
fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![app_info])
}

/// Starts the app and returns when its last window has closed.
pub fn run() {
    let result = with_commands(Builder::default()).run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("arca-desktop: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
    use tauri::webview::InvokeRequest;
    use tauri::{WebviewUrl, WebviewWindowBuilder};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// The app as `run()` builds it (real config, real capabilities), on
    /// Tauri's mock runtime so no display is needed.
    fn app() -> Result<tauri::App<tauri::test::MockRuntime>, tauri::Error> {
        with_commands(mock_builder()).build(tauri::generate_context!())
    }

    fn invoke(
        app: &tauri::App<tauri::test::MockRuntime>,
        window_label: &str,
        cmd: &str,
    ) -> Result<Result<serde_json::Value, serde_json::Value>, Box<dyn std::error::Error>> {
        let window =
            WebviewWindowBuilder::new(app, window_label, WebviewUrl::App("index.html".into()))
                .build()?;
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse()?,
            body: InvokeBody::default(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        Ok(get_ipc_response(&window, request).map(|body| body.deserialize().unwrap_or_default()))
    }

    #[test]
    fn app_info_reports_product_name_and_crate_version() -> TestResult {
        let app = app()?;
        let info = AppInfo::of(app.handle());
        assert_eq!(
            info,
            AppInfo {
                name: "Arca".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            }
        );
        Ok(())
    }

    #[test]
    fn main_window_may_call_app_info() -> TestResult {
        let app = app()?;
        let response = invoke(&app, "main", "app_info")?;
        assert_eq!(
            response,
            Ok(serde_json::json!({
                "name": "Arca",
                "version": env!("CARGO_PKG_VERSION"),
            }))
        );
        Ok(())
    }

    #[test]
    fn other_windows_may_not_call_app_info() -> TestResult {
        let app = app()?;
        let response = invoke(&app, "elsewhere", "app_info")?;
        let error = response.err().unwrap_or_default();
        assert!(
            error.as_str().is_some_and(|e| e.contains("not allowed")),
            "expected a denial, got {error}"
        );
        Ok(())
    }

    #[test]
    fn the_web_view_gets_no_file_system_or_shell_access() -> TestResult {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json"))?;
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        assert_eq!(
            capability["permissions"],
            serde_json::json!(["core:default", "allow-app-info"])
        );
        Ok(())
    }

    #[test]
    fn config_keeps_bundles_buildable_and_the_csp_local() -> TestResult {
        let config: serde_json::Value = serde_json::from_str(include_str!("../tauri.conf.json"))?;
        // AppImage (also part of "all") cannot be built offline.
        assert_eq!(
            config["bundle"]["targets"],
            serde_json::json!(["deb", "rpm"])
        );
        let csp = config["app"]["security"]["csp"]
            .as_str()
            .unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        let remote = csp
            .split([' ', ';'])
            .filter(|source| source.starts_with("http") || source.starts_with("ws"))
            .filter(|source| *source != "http://ipc.localhost")
            .collect::<Vec<_>>();
        assert!(remote.is_empty(), "remote origins in the CSP: {remote:?}");
        Ok(())
    }

    #[test]
    fn unknown_commands_are_rejected() -> TestResult {
        let app = app()?;
        let response = invoke(&app, "main", "read_any_file")?;
        let error = response.err().unwrap_or_default();
        assert!(
            error.as_str().is_some_and(|e| e.contains("not allowed")),
            "expected a rejection, got {error}"
        );
        Ok(())
    }
}
