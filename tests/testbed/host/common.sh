# SPDX-License-Identifier: MIT
# Small helpers shared by the host side of the testbed (sourced by run.sh).

PACKAGES="qemu-system-x86 busybox-static cpio kmod xz-utils zstd meson ninja-build gcc
libc6-dev libseccomp-dev pkg-config e2fsprogs e2fsck-static"

log()
{
	echo "[testbed] $*"
}

die()
{
	echo "[testbed] error: $*" >&2
	exit 2
}

now()
{
	date +%s.%N
}

# Seconds since $1 (a `now` value), with one decimal.
elapsed()
{
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

# take_lock FD FILE WHAT: serializes runs that share FILE's directory; the
# lock goes with the process.
take_lock()
{
	eval "exec $1>\"\$2\""
	flock -n "$1" && return
	log "waiting for another testbed run using the $3"
	flock -w 900 "$1" || die "gave up waiting for $2"
}

is_elf()
{
	[ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
}

# phase NAME CMD...: runs CMD in this shell and prints how long it took.
phase()
{
	local name=$1 t
	shift
	t=$(now)
	"$@"
	log "time $name: $(elapsed "$t")s"
}

# Scenario names: "list_scenarios default" gives DEFAULT_ORDER, what a batch
# run without names runs; "list_scenarios extra" every other scenarios/*.sh,
# which runs only when named; no argument gives both, default first.
list_scenarios()
{
	local s f
	if [ "${1:-default}" = default ]; then
		for s in $DEFAULT_ORDER; do
			[ -f "$TB_DIR/scenarios/$s.sh" ] && echo "$s"
		done
	fi
	[ "${1:-extra}" = extra ] || return 0
	for f in "$TB_DIR"/scenarios/*.sh; do
		s=$(basename "$f" .sh)
		case " $DEFAULT_ORDER " in
		*" $s "*) ;;
		*) echo "$s" ;;
		esac
	done
}

# Installs missing packages only, so that repeated runs skip apt entirely.
ensure_packages()
{
	local missing=() p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "packages: all present"
		return
	fi
	log "packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$OUT_DIR/apt.log" 2>&1; then
		# A fresh machine may have no package lists yet.
		apt-get update >>"$OUT_DIR/apt.log" 2>&1 || true
		apt-get install -y --no-install-recommends "${missing[@]}" \
			>>"$OUT_DIR/apt.log" 2>&1 || { tail -20 "$OUT_DIR/apt.log"; die "apt-get install failed"; }
	fi
}
