//! Whether a box works on this machine, for `peta doctor`, and the advice for each way it
//! fails (bubblewrap missing, user namespaces off, AppArmor's restriction on Ubuntu 24.04
//! and later, a box inside a box).

/// What to do when bubblewrap is missing.
#[cfg(target_os = "linux")]
pub(crate) const INSTALL_HINT: &str = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap)";

/// The advice for a message of bubblewrap's.
#[cfg(target_os = "linux")]
pub(crate) fn hint_for(said: &str) -> String {
    let restricted =
        std::fs::read_to_string("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
            .is_ok_and(|v| v.trim() == "1");
    if said.contains("No space left on device") {
        "user namespaces are used up or disabled here (user.max_user_namespaces), or peta runs inside another sandbox that forbids them; run peta outside it, or raise the limit".into()
    } else if restricted
        && (said.contains("Permission denied") || said.contains("Operation not permitted"))
    {
        "AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 24.04 and later): use the distribution's bwrap (/usr/bin/bwrap, which has a profile) or add an AppArmor profile that allows userns for it".into()
    } else if said.contains("Permission denied") || said.contains("Operation not permitted") {
        "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0, or user.max_user_namespaces = 0): enable them, or install bwrap setuid as some distributions do".into()
    } else {
        "run `peta doctor` to see whether confinement works here".into()
    }
}

/// One line for `peta doctor`: `Ok(what works)` or `Err((what fails, the fix))`.
#[cfg(target_os = "linux")]
pub(crate) fn check() -> Result<String, (String, String)> {
    let Some(bwrap) = super::linux::bwrap() else {
        return Err((
            "bubblewrap (bwrap) is not installed".into(),
            INSTALL_HINT.into(),
        ));
    };
    let version = std::process::Command::new(&bwrap)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let exe = std::env::current_exe().map_err(|e| (e.to_string(), String::new()))?;
    let mut options = super::linux::namespaces(true);
    options.extend(super::layout::layout(
        &super::Settings::default(),
        &super::Places::default(),
        &exe,
        &super::layout::RealHost,
    ));
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::var_os("PATH")
        .map(|p| ("PATH".into(), p))
        .into_iter()
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (e.to_string(), String::new()))?;
    let outcome = runtime.block_on(async {
        match super::linux::start(&bwrap, &options, &["true".into()], &env).await {
            Ok(mut child) => child.process.wait().await.map_err(|e| e.to_string()),
            Err(super::linux::Failure::Setup(said)) => Err(said),
            Err(super::linux::Failure::Exec(e)) => Err(e.to_string()),
        }
    });
    let landlock = landlock_abi();
    match outcome {
        Ok(status) if status.success() => Ok(format!(
            "{version} at {} confines servers here (user, PID and IPC namespaces; {landlock})",
            bwrap.display()
        )),
        Ok(status) => Err((
            format!("a test box ran but ended with {status}"),
            "report this with the output of `PETA_LOG=debug peta run -- true`".into(),
        )),
        Err(said) => Err((
            format!("{} cannot set up a box: {said}", bwrap.display()),
            hint_for(&said),
        )),
    }
}

#[cfg(target_os = "linux")]
fn landlock_abi() -> String {
    // SAFETY: landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION takes no ruleset
    // and returns the ABI version or an error.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    match abi {
        n if n >= 6 => format!("Landlock ABI {n} scopes signals and abstract sockets"),
        n if n > 0 => format!("Landlock ABI {n}, too old to scope signals and abstract sockets"),
        _ => "no Landlock".into(),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn check() -> Result<String, (String, String)> {
    Err((
        "confinement is implemented for Linux only; servers run unconfined here".into(),
        "sandbox = \"auto\" runs them with a warning; \"required\" refuses to start them".into(),
    ))
}
