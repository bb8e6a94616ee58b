# need.sh: shell functions shared by build.sh and the scripts in scripts/
# (source it from bash): say, and need_apt, which installs the Debian
# packages that are missing and says so.

say() { printf '==> %s\n' "$*" >&2; }

apt_updated=""
# need_apt PKG... installs the Debian packages that are missing.
need_apt() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	if [ -z "$apt_updated" ]; then
		say "apt-get update"
		$sudo apt-get update -qq >/dev/null
		apt_updated=1
	fi
	say "installing ${missing[*]} (apt)"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
