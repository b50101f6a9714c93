# SPDX-License-Identifier: MIT
# Scenario net: vfio-vmm's own virtio-net over vhost-net and a tap, and
# virtio-vsock over vhost-vsock, against the real kernel interfaces in L1.
#
#   net.no-vhost  before the modules are loaded: --net and --vsock each
#                 give one line naming modprobe, exit 2, and no tap is made
#   net.linux     a Linux L2 with --net tap=tbnet0 (created by vfio-vmm)
#                 and --vsock cid=3: it pings L1's end of the tap, moves
#                 NET_MIB MiB each way over TCP with matching md5s, and
#                 sends VSOCK_MIB MiB to L1 over vsock with a matching
#                 checksum; --stats must show 0 notify exits for both
#                 devices (every kick went through an ioeventfd to vhost)
#                 and the tap must be gone once the VM has ended
#   net.cid-in-use a second VM asking for a CID the first holds: one line
#                 naming the CID, exit 2

. "$TB/scenarios/linux.sh"	# vmm_watch

NET_MIB=${NET_MIB:-16}
VSOCK_MIB=${VSOCK_MIB:-16}
NET_TAP=tbnet0
L1_ADDR=10.9.0.1
L2_ADDR=10.9.0.2

scenario_net()
{
	run_test net.no-vhost 30 net_no_vhost
	modprobe -a tun vhost_net vhost_vsock ||
		echo "TESTBED-L1: modprobe tun vhost_net vhost_vsock failed"
	run_test net.linux 300 net_linux
	run_test net.cid-in-use 60 net_cid_in_use
}

# expect_one_line STATUS PATTERN OUT: the VMM's stderr (in OUT) is one line
# matching PATTERN, and it exited with STATUS.
expect_one_line()
{
	local rc=$1 pat=$2 out=$3
	cat "$out"
	[ "$(cat "$out.rc")" = "$rc" ] || die "exit status $(cat "$out.rc"), expected $rc"
	[ "$(wc -l <"$out")" = 1 ] || die "$(wc -l <"$out") lines on stderr, expected one"
	grep -q -e "$pat" "$out" || die "no '$pat' in: $(cat "$out")"
}

net_no_vhost()
{
	local out=$TB_OUT/net-novhost.err
	need_vmm
	if [ -e /dev/vhost-net ] || [ -e /dev/vhost-vsock ]; then
		echo "NOTE: vhost modules already loaded; nothing to check"
		return 0
	fi
	vfio-vmm run --kernel "$TB/guests/hello" --net tap=$NET_TAP 2>"$out"
	echo $? >"$out.rc"
	expect_one_line 2 "^vfio-vmm: no /dev/vhost-net: load it with 'modprobe vhost_net'$" "$out"
	! ip link show $NET_TAP >/dev/null 2>&1 || die "a tap was made although vhost-net is missing"
	vfio-vmm run --kernel "$TB/guests/hello" --vsock cid=3 2>"$out"
	echo $? >"$out.rc"
	expect_one_line 2 "^vfio-vmm: no /dev/vhost-vsock: load it with 'modprobe vhost_vsock'$" "$out"
}

# Gives L1's end of the tap its address as soon as vfio-vmm has made it.
configure_tap()
{
	local i=0
	while ! ip link show $NET_TAP >/dev/null 2>&1; do
		[ $i -lt 600 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	ip addr add $L1_ADDR/24 dev $NET_TAP && ip link set $NET_TAP up
	echo "tap $NET_TAP up after $((i / 10)).$((i % 10))s"
}

net_linux()
{
	local out=$TB_OUT/net-linux.out md5 got rc line checks
	need_vmm
	[ -e /dev/vhost-net ] && [ -e /dev/vhost-vsock ] || die "no vhost modules in L1"
	! ip link show $NET_TAP >/dev/null 2>&1 || die "$NET_TAP exists before the VM"
	dd if=/dev/urandom of=/tmp/net-l1.bin bs=1M count="$NET_MIB" 2>/dev/null
	md5=$(md5sum /tmp/net-l1.bin | cut -d' ' -f1)
	rm -f /tmp/net-hold /tmp/net-rx.bin
	mkfifo /tmp/net-hold
	# L1's ends: serve our file on 5001, take L2's on 5002, vsock on 5555.
	nc -l -p 5001 </tmp/net-l1.bin &
	nc -l -p 5002 0<>/tmp/net-hold >/tmp/net-rx.bin &
	tb-vsock listen 5555 >"$TB_OUT/net-vsock.out" 2>&1 &
	configure_tap &
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 earlyprintk=ttyS0 panic=-1 tb.checks=net,vsock tb.addr=$L2_ADDR/24 tb.peer=$L1_ADDR tb.size=$NET_MIB tb.md5=$md5 tb.vsize=$((VSOCK_MIB << 20))" \
		--memory 256M --net tap=$NET_TAP --vsock cid=3 --stats
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 270 10 "$@"
	tr -d '\r' <"$out"
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	echo "L1 vsock listener: $(cat "$TB_OUT/net-vsock.out")"
	checks=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK fail //p' | head -1)
	[ -z "$checks" ] || die "L2 check failed: $checks"
	for c in net-ping net-rx net-tx vsock; do
		line=$(tr -d '\r' <"$out" | sed -n "s/^L2-CHECK ok $c: //p")
		[ -n "$line" ] || die "L2 did not report $c"
		echo "NOTE: $c: $line"
	done
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	# What L2 sent must be what arrived.
	got=$(md5sum /tmp/net-rx.bin | cut -d' ' -f1)
	line=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK ok net-tx: .* md5 //p')
	[ "$got" = "$line" ] || die "L1 received md5 $got ($(wc -c </tmp/net-rx.bin) bytes), L2 sent $line"
	grep -q "from cid 3 .*bytes $((VSOCK_MIB << 20)) " "$TB_OUT/net-vsock.out" ||
		die "the vsock listener did not get $VSOCK_MIB MiB from cid 3"
	# No exit to our process per packet: every kick went to vhost through an ioeventfd.
	for d in "virtio-net $NET_TAP" "virtio-vsock cid 3"; do
		line=$(grep "$d (virtio-pci): notify exits" "$out")
		echo "NOTE: $line"
		echo "$line" | grep -q "notify exits 0$" || die "$d: notify exits were not 0"
	done
	# A tap we created is gone with the VM.
	! ip link show $NET_TAP >/dev/null 2>&1 || die "$NET_TAP still exists after the VM ended"
	rm -f /tmp/net-l1.bin /tmp/net-rx.bin
}

net_cid_in_use()
{
	local out=$TB_OUT/net-cid.err pid
	need_vmm
	# The first VM holds CID 7 from its setup on, while its Linux boots.
	vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 tb.checks=timer" --vsock cid=7 >/dev/null 2>&1 &
	pid=$!
	sleep 2
	kill -0 "$pid" 2>/dev/null || die "the first VM did not stay up"
	vfio-vmm run --kernel "$TB/guests/hello" --vsock cid=7 2>"$out"
	echo $? >"$out.rc"
	kill "$pid" 2>/dev/null
	wait "$pid"
	expect_one_line 2 "^vfio-vmm: vsock cid 7 is in use by another VM; pick another --vsock cid=N$" "$out"
	# And free again once the first VM is gone.
	vfio-vmm run --kernel "$TB/guests/hello" --vsock cid=7 >"$out.2" 2>&1
	grep -q '^PASS hello' "$out.2" || die "cid 7 not free after the first VM ended: $(cat "$out.2")"
}
