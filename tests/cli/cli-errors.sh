#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line as a new user meets it: help, version, and bad input
# answered with exactly one line on stderr and exit status 2.
# usage: cli-errors.sh VFIO_VMM GUEST_ELF
set -u
vmm=$1
guest=$2
fails=0

expect() {	# expect STATUS PATTERN -- ARGS...
	local want=$1 pat=$2 out err rc lines
	shift 3
	err=$(mktemp)
	out=$("$vmm" "$@" 2>"$err")
	rc=$?
	lines=$(wc -l <"$err")
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: vfio-vmm $*: exit $rc, expected $want; stderr: $(cat "$err")"
		fails=$((fails + 1))
	elif [ "$want" -eq 2 ] && [ "$lines" -ne 1 ]; then
		echo "FAIL: vfio-vmm $*: $lines lines on stderr, expected one: $(cat "$err")"
		fails=$((fails + 1))
	elif ! grep -q -e "$pat" <(echo "$out"; cat "$err"); then
		echo "FAIL: vfio-vmm $*: output lacks '$pat': $out $(cat "$err")"
		fails=$((fails + 1))
	else
		echo "ok: vfio-vmm $* -> $rc: $( (cat "$err"; echo "$out") | head -1)"
	fi
	rm -f "$err"
}

expect 0 "Usage: vfio-vmm run" -- --help
expect 0 "^vfio-vmm [0-9]" -- --version
expect 2 "no such file" -- run --kernel /nonexistent/vmlinux
expect 2 "--memory banana: not a size" -- run --kernel "$guest" --memory banana
expect 2 "--cpus 0: must be a number from 1" -- run --kernel "$guest" --cpus 0
expect 2 "--hugepages 3M: must be 2M or 1G" -- run --kernel "$guest" --hugepages 3M
expect 2 "unknown option" -- run --kernel "$guest" --bogus
expect 2 "--kernel FILE is required" -- run
expect 2 "unknown category 'nope'" -- run --kernel "$guest" --trace nope
expect 2 "--disk x.img,bogus=1: unknown key 'bogus'" -- run --kernel "$guest" --disk x.img,bogus=1
expect 2 "readonly=on or readonly=off" -- run --kernel "$guest" --disk path=x.img,readonly=yes
expect 2 "queues=0: use a number from 1 to 64" -- run --kernel "$guest" --disk x.img,queues=0
expect 2 "--disk needs an image" -- run --kernel "$guest" --disk ""
expect 2 "unknown key 'bogus'; use tap, mac or queues" -- run --kernel "$guest" --net tap=x,bogus=1
expect 2 "is 20 characters; Linux allows at most 15" -- run --kernel "$guest" --net tap=exactly-twenty-chars
expect 2 "cid must be a number from 3" -- run --kernel "$guest" --vsock cid=2
expect 2 "^vfio-vmm: --device 3e:00.0,port=yes: port must be on or off$" -- \
	run --kernel "$guest" --device 3e:00.0,port=yes
expect 2 "^vfio-vmm: --vsock cid=4: given twice; a VM has one vsock device$" -- \
	run --kernel "$guest" --vsock cid=3 --vsock cid=4
# A host without the vhost modules: one line naming modprobe (and no tap is made).
if [ ! -e /dev/vhost-net ]; then
	expect 2 "^vfio-vmm: no /dev/vhost-net: load it with 'modprobe vhost_net'$" -- \
		run --kernel "$guest" --net tap=vmmclitest0
	if ip link show vmmclitest0 >/dev/null 2>&1; then
		echo "FAIL: a tap was created although vhost-net is missing"
		fails=$((fails + 1))
	fi
fi
if [ ! -e /dev/vhost-vsock ]; then
	expect 2 "^vfio-vmm: no /dev/vhost-vsock: load it with 'modprobe vhost_vsock'$" -- \
		run --kernel "$guest" --vsock cid=3
fi
# Not a kernel at all: setup error (1) with the reason.
expect 1 "neither an ELF file nor a Linux bzImage" -- run --kernel /etc/hostname
# Hugepages asked for but none reserved (skipped where some are reserved).
if [ "$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages 2>/dev/null || echo 0)" = 0 ]; then
	expect 1 "reserve them with" -- run --kernel "$guest" --hugepages 1G --memory 1G
fi

# --disk: the user's mistakes are caught before KVM or VFIO are touched.
expect 2 "no such file: create it first" -- run --kernel "$guest" --disk /nonexistent/disk.img
expect 2 "is a directory; give an image file or a block device" -- run --kernel "$guest" --disk /tmp
expect 2 "unknown key 'bogus'" -- run --kernel "$guest" --disk x.img,bogus=1
# An image another VM holds read-write (an OFD write lock, as vfio-vmm takes it).
img=$(mktemp)
truncate -s 1M "$img"
python3 - "$vmm" "$guest" "$img" <<'PY' || fails=$((fails + 1))
import fcntl, os, struct, subprocess, sys
vmm, guest, img = sys.argv[1:4]
fd = os.open(img, os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
r = subprocess.run([vmm, "run", "--kernel", guest, "--disk", img], capture_output=True, text=True)
lines = r.stderr.strip().splitlines()
ok = r.returncode == 2 and len(lines) == 1 and "in use by another process" in lines[0]
print(("ok" if ok else "FAIL") + ": vfio-vmm run --disk (an image in use) -> %d: %s" % (r.returncode, r.stderr.strip()))
sys.exit(0 if ok else 1)
PY
rm -f "$img"

# exec: the command line, and no guest to talk to (exit 255, one line).
expect 0 "Usage: vfio-vmm exec --cid N" -- exec --help
expect 2 "exec: --cid N is required" -- exec -- true
expect 2 "exec: no command given" -- exec --cid 3
expect 2 "exec: --timeout 0: use whole seconds" -- exec --cid 3 --timeout 0 -- true
expect 2 "exec: --cid 2: use the guest's context id" -- exec --cid 2 -- true
expect 255 "^vfio-vmm exec: cannot connect to CID 4000000 port 1024: \|^vfio-vmm exec: no vsock on this host" \
	-- exec --cid 4000000 -- true

if [ "$fails" -ne 0 ]; then
	echo "$fails CLI checks failed"
	exit 1
fi
echo "all CLI checks passed"
