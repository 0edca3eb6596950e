#!/usr/bin/env bash
# What a packager and an operator installing certctl meet (issue 12):
#  1. `cmake --install` puts the binaries, man pages, completions, the example
#     configuration and the systemd units where bash-completion, zsh, fish,
#     man and systemd read them, the units naming the installed binaries;
#  2. the units pass `systemd-analyze verify` without a warning;
#  3. `cpack -G DEB` builds a .deb that depends on the Debian runtime
#     packages, and from a scratch root (`dpkg -x`) certctl-admin --version
#     runs and `man -l` renders an installed page.
#
#   tests/install/package_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. cmake --install, prefix /usr, into a staging root.
stage=$work/stage
if ! DESTDIR=$stage cmake --install "$build" --prefix /usr >"$work/install.log" 2>&1; then
  cat "$work/install.log" >&2
  fail "cmake --install failed"
fi
for f in \
  usr/bin/certctld usr/bin/certctl-admin \
  usr/share/man/man1/certctl-admin.1 usr/share/man/man1/certctl-admin-crl-status.1 \
  usr/share/man/man5/certctl.yaml.5 usr/share/man/man7/certctl-dr.7 \
  usr/share/man/man8/certctld.8 \
  usr/share/bash-completion/completions/certctl-admin \
  usr/share/bash-completion/completions/certctld \
  usr/share/zsh/vendor-completions/_certctl-admin \
  usr/share/zsh/vendor-completions/_certctld \
  usr/share/fish/vendor_completions.d/certctl-admin.fish \
  usr/share/fish/vendor_completions.d/certctld.fish \
  usr/share/doc/certctl/examples/certctl.yaml \
  usr/lib/systemd/system/certctld.service \
  usr/lib/systemd/system/certctl-dr-check.service \
  usr/lib/systemd/system/certctl-dr-check.timer \
  usr/lib/sysusers.d/certctl.conf; do
  [[ -f $stage/$f ]] || fail "cmake --install did not install /$f"
done
units=$stage/usr/lib/systemd/system
grep -qx 'ExecStart=/usr/bin/certctld --config /etc/certctl/certctl.yaml' \
  "$units/certctld.service" || fail "certctld.service does not start /usr/bin/certctld"
grep -q '^ExecStart=/usr/bin/certctl-admin .* dr check' "$units/certctl-dr-check.service" ||
  fail "certctl-dr-check.service does not run /usr/bin/certctl-admin dr check"
for directive in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' User=certctl \
  NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  ReadWritePaths=/var/lib/certctl \
  "StateDirectory=certctl certctl/ca certctl/ocsp-responder-keys"; do
  grep -qxF "$directive" "$units/certctld.service" || fail "certctld.service lacks $directive"
done
grep -q '^u certctl ' "$stage/usr/lib/sysusers.d/certctl.conf" || fail "no certctl user"

# 2. systemd-analyze verify, which warns about what systemd would ignore or
# refuse (exit 0 with a warning is a failure here). A copy of the units whose
# ExecStart= names the staged binaries (verify checks that they are
# executable), and the staged pages on MANPATH (it opens Documentation=).
command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is missing (scripts/setup installs systemd)"
{
  mkdir -p "$work/verify"
  for unit in certctld.service certctl-dr-check.service certctl-dr-check.timer; do
    sed "s|^ExecStart=/usr/bin/|ExecStart=$stage/usr/bin/|" "$units/$unit" >"$work/verify/$unit"
  done
  if ! MANPATH=$stage/usr/share/man SYSTEMD_LOG_LEVEL=warning systemd-analyze verify \
    "$work/verify/certctld.service" "$work/verify/certctl-dr-check.service" \
    "$work/verify/certctl-dr-check.timer" >"$work/verify.log" 2>&1 ||
    [[ -s $work/verify.log ]]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify complained"
  fi
}

# 3. The .deb.
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB failed"
fi
debs=("$work"/pkg/certctl_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "cpack made no single certctl_*.deb"
deb=${debs[0]}
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpqxx-6.4 libssl3 libyaml-cpp0.7 libc6; do
  [[ $depends == *"$lib"* ]] || fail "the .deb does not depend on $lib: $depends"
done
# (Listings are read whole: grep -q leaving a pipe early fails it.)
contents=$(dpkg-deb -c "$deb")
[[ $contents == *"./usr/lib/systemd/system/certctld.service"* ]] ||
  fail "the .deb lacks certctld.service"
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
[[ $control == *"./postinst"* ]] || fail "the .deb has no postinst (the certctl user)"
root=$work/root
dpkg -x "$deb" "$root"
version=$("$root/usr/bin/certctl-admin" --version) || fail "certctl-admin --version failed"
[[ $version == "certctl-admin "*" (git "*")"* ]] || fail "unexpected --version: $version"
[[ $version == *"libpqxx 6.4"* && $version == *"OpenSSL 3"* ]] ||
  fail "--version lacks the libraries: $version"
daemon_version=$("$root/usr/bin/certctld" --version) || fail "certctld --version failed"
[[ $daemon_version == "certctld "* ]] || fail "unexpected certctld --version: $daemon_version"
page=$(MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/certctl-admin-crl-status.1")
[[ $page == *"certctl-admin crl status"* && $page == *"EXIT STATUS"* ]] ||
  fail "man -l did not render the installed page: $page"
echo "ok: installed $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)," \
  "$(stat -c %s "$deb") bytes; Depends: $depends"
