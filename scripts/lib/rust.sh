# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: minime builds with Rust 1.92 or newer (Cargo.toml's
# rust-version), so say how to get it before a build fails halfway. Web push's payload encryption
# (the ece crate) links OpenSSL: its headers come from Debian's libssl-dev when missing.

minime_require_rust() {
    local version major minor
    if ! command -v cargo >/dev/null 2>&1; then
        printf '%s\n' "minime: cargo was not found. minime needs Rust >= 1.92: install it with rustup" \
            "        (https://rustup.rs: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh)," \
            "        open a new shell, then run this command again." >&2
        return 1
    fi
    # "rustc 1.86.0 (05f9846f8 2025-03-31)"; anything unexpected is left for cargo to judge.
    version=$(rustc --version 2>/dev/null | cut -d' ' -f2)
    if [[ $version =~ ^([0-9]+)\.([0-9]+) ]]; then
        major=${BASH_REMATCH[1]}
        minor=${BASH_REMATCH[2]}
        if ((major == 1 && minor < 92)); then
            printf 'minime: Rust %s is too old: minime needs >= 1.92 (rustup update stable)\n' "$version" >&2
            return 1
        fi
    fi
    minime_require_openssl
}

minime_require_openssl() {
    if pkg-config --exists openssl 2>/dev/null; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        printf '%s\n' "minime: OpenSSL's headers were not found: install them (apt-get install libssl-dev pkg-config)" >&2
        return 1
    fi
    printf '%s\n' "minime: installing OpenSSL's headers (Debian's libssl-dev and pkg-config)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libssl-dev pkg-config >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libssl-dev pkg-config >/dev/null; }
}
