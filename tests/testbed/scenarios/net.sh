# SPDX-License-Identifier: MIT
# Scenario net: vfio-vmm's own virtio-net over vhost-net and a tap, and
# virtio-vsock over vhost-vsock, against the real kernel interfaces in L1.
#
#   net.no-vhost   before the modules are loaded: --net and --vsock each
#                  give one line naming modprobe, exit 2, and no tap is made
#   net.linux      a Linux L2 with --net tap=tbnet0 (created by vfio-vmm)
#                  and --vsock cid=3: it pings L1's end of the tap, moves
#                  NET_MIB MiB each way with busybox nc (md5s compared),
#                  BULK_MIB MiB each way with tb-xfer (every byte compared),
#                  and VSOCK_MIB MiB each way over vsock; --stats must show
#                  0 notify exits for both devices (every kick went to vhost
#                  through an ioeventfd), and the tap must be gone after
#   net.mq         two vCPUs, --net tap=tbmq0,queues=2 and a second NIC on a
#                  tap L1 made first (tunctl): both ping, the guest runs two
#                  queue pairs (VQ_PAIRS_SET through our control queue, under
#                  the seccomp filters) and L1's tap has two queues attached;
#                  after the VM tbmq0 is gone and the older tap is still there
#   net.sigterm,   the VMM ended by SIGTERM (an orderly stop: exit 143) and
#   net.sigkill    by SIGKILL (the kernel closes our fds) while the guest's
#                  driver runs: either way the tap is gone and the CID free
#   net.cid-in-use a second VM asking for a CID the first holds: one line
#                  naming the CID, exit 2; free again after the first ends
#   net.exec       a Linux L2 with --vsock cid=3 running vfio-vmm-agent:
#                  vfio-vmm exec from L1 gets true 0, sh -c 'exit 7' 7, a
#                  missing command 127, /proc/version's text, the md5 of
#                  1 MiB piped through md5sum, --timeout 2 on sleep 30 124;
#                  exec start latency over EXEC_RUNS runs of true (NOTE)
#   net.all        ONE VM as docs/quickstart.md's whole GPU-guest command:
#                  booted from a root disk (--disk, the ext4 image of
#                  host/disk.sh, root=/dev/vda rw), the nvme assigned
#                  (--device), a network (--net) and vsock with the agent
#                  started by the disk's init, plus a data disk (8 MiB of
#                  random bytes, serial=data); through exec: / is ext4 on
#                  /dev/vda, the nvme driver binds and nvme0n1 reads, the
#                  data disk's md5 is the file's, L2 pings L1 over the tap,
#                  and poweroff ends the VM

. "$TB/scenarios/linux.sh"	# vmm_watch

NET_MIB=${NET_MIB:-16}
BULK_MIB=${BULK_MIB:-256}
VSOCK_MIB=${VSOCK_MIB:-64}
NET_TAP=tbnet0
L1_ADDR=10.9.0.1
L2_ADDR=10.9.0.2
NET_CMDLINE="console=ttyS0 earlyprintk=ttyS0 panic=-1"

scenario_net()
{
	run_test net.no-vhost 30 net_no_vhost
	modprobe -a tun vhost_net vhost_vsock ||
		echo "TESTBED-L1: modprobe tun vhost_net vhost_vsock failed"
	run_test net.exec 240 net_exec
	run_test net.all 300 net_all
	run_test net.linux 360 net_linux
	run_test net.mq 240 net_mq
	run_test net.sigterm 150 net_signal TERM 143
	run_test net.sigkill 150 net_signal KILL 137
	run_test net.cid-in-use 60 net_cid_in_use
}

# net_wait_agent PID OUT: waits for the L2 of vfio-vmm PID (console in OUT)
# to say L2-AGENT-UP (2 minutes), then for its agent to answer on CID 3 (10
# s: it may need a moment after the marker to listen). Kills PID and dies
# with the console's tail when either does not come.
net_wait_agent()
{
	local pid=$1 out=$2 i=0
	while ! grep -q "L2-AGENT-UP" "$out"; do
		kill -0 "$pid" 2>/dev/null || { tr -d '\r' <"$out" | tail -20; die "the VMM ended early"; }
		[ $i -lt 1200 ] || { kill -KILL "$pid"; die "L2 never started its agent"; }
		sleep 0.1
		i=$((i + 1))
	done
	i=0
	while ! vfio-vmm exec --cid 3 -- true </dev/null 2>"$TB_OUT/exec.err"; do
		[ $i -lt 50 ] || { kill -KILL "$pid"; tr -d '\r' <"$out" | tail -20
			die "no agent: $(cat "$TB_OUT/exec.err")"; }
		sleep 0.2
		i=$((i + 1))
	done
}

# exec_expect STATUS ARGS...: vfio-vmm exec --cid 3 ARGS exits with STATUS.
exec_expect()
{
	local want=$1 rc
	shift
	vfio-vmm exec --cid 3 "$@" </dev/null >"$TB_OUT/exec.out" 2>"$TB_OUT/exec.err"
	rc=$?
	echo "exec $*: exit $rc; stdout '$(head -c 200 "$TB_OUT/exec.out")' stderr '$(head -c 200 "$TB_OUT/exec.err")'"
	[ "$rc" = "$want" ] || die "vfio-vmm exec $*: exit $rc, expected $want"
}

net_exec()
{
	local out=$TB_OUT/net-exec.out pid i=0 md5 got t0 t1 runs=${EXEC_RUNS:-20}
	need_vmm
	vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$NET_CMDLINE tb.agent=1 tb.checks=agent-hold" --memory 256M \
		--vsock cid=3 >"$out" 2>&1 &
	pid=$!
	net_wait_agent "$pid" "$out"
	exec_expect 0 -- true
	exec_expect 7 -- sh -c 'exit 7'
	exec_expect 127 -- no-such-command
	grep -q "command not found" "$TB_OUT/exec.err" || die "no 'command not found' for a missing command"
	exec_expect 0 -- cat /proc/version
	grep -q "^Linux version" "$TB_OUT/exec.out" || die "cat /proc/version gave: $(cat "$TB_OUT/exec.out")"
	echo "NOTE: L2's kernel: $(cut -c1-60 "$TB_OUT/exec.out")"
	dd if=/dev/urandom of=/tmp/exec-in.bin bs=64k count=16 2>/dev/null
	md5=$(md5sum /tmp/exec-in.bin | cut -d' ' -f1)
	got=$(vfio-vmm exec --cid 3 -- md5sum </tmp/exec-in.bin | cut -d' ' -f1)
	[ "$got" = "$md5" ] || die "1 MiB through exec's stdin: md5 $got in L2, $md5 in L1"
	echo "NOTE: 1 MiB piped to md5sum in L2: $got, as in L1"
	read -r t0 _ </proc/uptime
	exec_expect 124 --timeout 2 -- sleep 30
	read -r t1 _ </proc/uptime
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }' ||
		die "--timeout 2 took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')s"
	grep -q "timed out after 2 s" "$TB_OUT/exec.err" || die "no timeout line: $(cat "$TB_OUT/exec.err")"
	# Start latency: connect, fork and exec in L2, EXIT back. busybox has no
	# sub-second clock but /proc/uptime (10 ms), so each run is timed
	# coarsely and the mean comes from the whole loop.
	local times="" s e
	read -r t0 _ </proc/uptime
	for i in $(seq "$runs"); do
		read -r s _ </proc/uptime
		vfio-vmm exec --cid 3 -- true </dev/null || die "run $i of true failed"
		read -r e _ </proc/uptime
		times="$times $(awk -v a="$s" -v b="$e" 'BEGIN { printf "%d", (b - a) * 1000 + 0.5 }')"
	done
	read -r t1 _ </proc/uptime
	echo "NOTE: exec start latency ($runs runs of true, L1 -> L2 -> L1): mean $(awk -v a="$t0" -v b="$t1" -v n="$runs" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }') ms; per run (10 ms clock) median $(echo $times | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') ms, min $(echo $times | tr ' ' '\n' | sort -n | head -1), max $(echo $times | tr ' ' '\n' | sort -n | tail -1)"
	# And the VM ends through the agent too.
	vfio-vmm exec --cid 3 -- poweroff -f </dev/null >/dev/null 2>&1
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; die "poweroff -f through exec did not end the VM"; }
	wait "$pid"
	echo "NOTE: poweroff -f through exec ended the VM: exit $?"
	rm -f /tmp/exec-in.bin
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

# configure_tap TAP ADDR: gives L1's end of a tap its address as soon as
# vfio-vmm has made it (or at once when it exists).
configure_tap()
{
	local i=0
	while ! ip link show "$1" >/dev/null 2>&1; do
		[ $i -lt 600 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	ip addr add "$2" dev "$1" && ip link set "$1" up
	echo "tap $1 up after $((i / 10)).$((i % 10))s"
}

# l2_checks OUT NAME...: each L2-CHECK NAME line must be there and ok; they
# become NOTE lines.
l2_checks()
{
	local out=$1 c line fail
	shift
	fail=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK fail //p' | head -1)
	[ -z "$fail" ] || die "L2 check failed: $fail"
	for c in "$@"; do
		line=$(tr -d '\r' <"$out" | sed -n "s/^L2-CHECK ok $c: //p")
		[ -n "$line" ] || die "L2 did not report $c"
		echo "NOTE: $c: $line"
	done
}

# no_notify_exits OUT DEVICE...: --stats shows 0 notify exits for each.
no_notify_exits()
{
	local out=$1 d line
	shift
	for d in "$@"; do
		line=$(grep "$d (virtio-pci): notify exits" "$out")
		echo "NOTE: $line"
		echo "$line" | grep -q "notify exits 0$" || die "$d: notify exits were not 0"
	done
}

net_linux()
{
	local out=$TB_OUT/net-linux.out md5 got rc line bulk=$((BULK_MIB << 20))
	local vsz=$((VSOCK_MIB << 20)) f
	need_vmm
	[ -e /dev/vhost-net ] && [ -e /dev/vhost-vsock ] || die "no vhost modules in L1"
	! ip link show $NET_TAP >/dev/null 2>&1 || die "$NET_TAP exists before the VM"
	dd if=/dev/urandom of=/tmp/net-l1.bin bs=1M count="$NET_MIB" 2>/dev/null
	md5=$(md5sum /tmp/net-l1.bin | cut -d' ' -f1)
	rm -f /tmp/net-hold /tmp/net-rx.bin
	mkfifo /tmp/net-hold
	# L1's ends: nc serves our file on 5001 and takes L2's on 5002 (its
	# stdin a FIFO it also holds open, so it never half-closes early);
	# tb-xfer for bulk TCP (5003, 5004) and vsock (5555, 5556).
	nc -l -p 5001 </tmp/net-l1.bin &
	nc -l -p 5002 0<>/tmp/net-hold >/tmp/net-rx.bin &
	tb-xfer listen tcp 5003 send $bulk >"$TB_OUT/net-x1" 2>&1 &
	tb-xfer listen tcp 5004 recv $bulk >"$TB_OUT/net-x2" 2>&1 &
	tb-xfer listen vsock 5555 recv $vsz >"$TB_OUT/net-x3" 2>&1 &
	tb-xfer listen vsock 5556 send $vsz >"$TB_OUT/net-x4" 2>&1 &
	configure_tap $NET_TAP $L1_ADDR/24 &
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$NET_CMDLINE tb.checks=net,net-bulk,vsock tb.addr=$L2_ADDR/24 tb.peer=$L1_ADDR tb.size=$NET_MIB tb.md5=$md5 tb.bulk=$bulk tb.vsize=$vsz" \
		--memory 256M --net tap=$NET_TAP --vsock cid=3 --stats
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 330 10 "$@"
	tr -d '\r' <"$out"
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	for f in 1 2 3 4; do
		echo "L1 tb-xfer $f: $(cat "$TB_OUT/net-x$f")"
	done
	l2_checks "$out" net-ping net-rx net-tx net-bulk-rx net-bulk-tx vsock-tx vsock-rx
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	# What L2 sent must be what arrived, by L1's own count.
	got=$(md5sum /tmp/net-rx.bin | cut -d' ' -f1)
	line=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK ok net-tx: .* md5 //p')
	[ "$got" = "$line" ] || die "L1 received md5 $got ($(wc -c </tmp/net-rx.bin) bytes), L2 sent $line"
	grep -q ": ok $bulk$" "$TB_OUT/net-x2" || die "L1 did not receive $BULK_MIB MiB intact"
	grep -q ": ok $vsz$" "$TB_OUT/net-x3" || die "L1 did not receive $VSOCK_MIB MiB intact over vsock"
	no_notify_exits "$out" "virtio-net $NET_TAP" "virtio-vsock cid 3"
	# A tap we created is gone with the VM.
	! ip link show $NET_TAP >/dev/null 2>&1 || die "$NET_TAP still exists after the VM ended"
	rm -f /tmp/net-l1.bin /tmp/net-rx.bin
}

# Samples L1's view of TAP's queues once L2 says it is ready.
tap_queues_when_ready()
{
	local out=$1 tap=$2 i=0
	while ! grep -q L2-NET-MQ-READY "$out" 2>/dev/null; do
		[ $i -lt 2400 ] || return
		sleep 0.1
		i=$((i + 1))
	done
	ls "/sys/class/net/$tap/queues" | tr '\n' ' ' >"$TB_OUT/net-mq.queues"
}

net_mq()
{
	local out=$TB_OUT/net-mq.out rc q
	need_vmm
	ip link show tbmq0 >/dev/null 2>&1 && die "tbmq0 exists before the VM"
	# An older tap, made by the administrator: used, and left in place.
	tunctl -t tbold0 >/dev/null || die "tunctl -t tbold0 failed"
	configure_tap tbold0 10.9.2.1/24
	configure_tap tbmq0 10.9.1.1/24 &
	rm -f "$TB_OUT/net-mq.queues"
	tap_queues_when_ready "$out" tbmq0 &
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$NET_CMDLINE tb.checks=net-mq,cpus tb.cpus=2 tb.mq=02:00:00:00:01:02,10.9.1.2/24,10.9.1.1 tb.old=02:00:00:00:02:02,10.9.2.2/24,10.9.2.1" \
		--memory 256M --cpus 2 --stats --trace vhost \
		--net tap=tbmq0,queues=2,mac=02:00:00:00:01:02 --net tap=tbold0,mac=02:00:00:00:02:02
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 210 10 "$@"
	tr -d '\r' <"$out"
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	l2_checks "$out" net-mq cpus
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	grep -q "virtio-net tbmq0: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 2$" "$out" ||
		die "our control queue never saw VQ_PAIRS_SET 2"
	q=$(cat "$TB_OUT/net-mq.queues" 2>/dev/null)
	echo "NOTE: L1's tbmq0 had queues: $q"
	case "$q" in
	*rx-1*tx-1*) ;;
	*) die "tbmq0 did not have two queues attached while L2 ran: '$q'" ;;
	esac
	no_notify_exits "$out" "virtio-net tbmq0" "virtio-net tbold0"
	! ip link show tbmq0 >/dev/null 2>&1 || die "tbmq0 (ours) still exists after the VM ended"
	ip link show tbold0 >/dev/null 2>&1 || die "tbold0 (not ours) was removed"
	tunctl -d tbold0 >/dev/null
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

# net_signal SIG STATUS: a VM with --net and --vsock killed with SIG once its
# guest has the NIC up; it must end with STATUS, and leave no tap or CID.
net_signal()
{
	local out=$TB_OUT/net-sig$1.out pid i=0 rc
	need_vmm
	vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$NET_CMDLINE tb.checks=net-hold" --memory 256M \
		--net tap=tbsig0 --vsock cid=9 >"$out" 2>&1 &
	pid=$!
	while ! grep -q "L2-NET-UP" "$out"; do
		kill -0 "$pid" 2>/dev/null || { cat "$out"; die "the VMM ended early"; }
		[ $i -lt 1200 ] || { kill -KILL "$pid"; die "L2 never brought its NIC up"; }
		sleep 0.1
		i=$((i + 1))
	done
	ip link show tbsig0 >/dev/null 2>&1 || die "no tbsig0 while the VM runs"
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	tr -d '\r' <"$out" | grep -v '^\[' | tail -5
	[ "$rc" = "$2" ] || die "exit status $rc after SIG$1, expected $2"
	! ip link show tbsig0 >/dev/null 2>&1 || die "tbsig0 still exists after SIG$1"
	vfio-vmm run --kernel "$TB/guests/hello" --vsock cid=9 >"$out.2" 2>&1
	grep -q '^PASS hello' "$out.2" || die "cid 9 not free after SIG$1: $(cat "$out.2")"
	echo "NOTE: SIG$1 while L2 ran: exit $rc, tbsig0 gone, cid 9 free"
}

# l2_exec ARGS...: vfio-vmm exec --cid 3 -- ARGS, its output shown; dies on failure.
l2_exec()
{
	local rc
	vfio-vmm exec --cid 3 -- "$@" </dev/null >"$TB_OUT/exec.out" 2>&1
	rc=$?
	echo "exec $*: exit $rc: $(head -c 300 "$TB_OUT/exec.out")"
	[ "$rc" = 0 ] || die "vfio-vmm exec $*: exit $rc: $(head -c 300 "$TB_OUT/exec.out")"
}

net_all()
{
	local out=$TB_OUT/net-all.out pid i=0 bdf md5 got
	need_vmm
	bdf=$(awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices")
	[ -n "$bdf" ] || die "no nvme in $TB_OUT/devices"
	[ -f "$TB/l2/root.img" ] || die "no $TB/l2/root.img (host/disk.sh)"
	cp "$TB/l2/root.img" /tmp/net-all-root.img || die "cannot copy the root image"
	dd if=/dev/urandom of=/tmp/net-all.img bs=1M count=8 2>/dev/null
	md5=$(md5sum </tmp/net-all.img | cut -d' ' -f1)
	configure_tap tball0 10.9.3.1/24 &
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$NET_CMDLINE root=/dev/vda rw tb.agent=1 tb.checks=agent-hold" \
		--memory 256M --disk path=/tmp/net-all-root.img --net tap=tball0 --vsock cid=3 \
		--device "$bdf" --disk path=/tmp/net-all.img,serial=data --stats
	echo "+ vfio-vmm $*"
	vfio-vmm "$@" >"$out" 2>&1 &
	pid=$!
	net_wait_agent "$pid" "$out"
	# The root file system is the first disk, as the command line asked.
	l2_exec awk '$2 == "/" { r = $1 " " $3 " " $4 } END { print r }' /proc/mounts
	case "$(cat "$TB_OUT/exec.out")" in
	"/dev/vda ext4 rw"*) echo "NOTE: / in L2: $(cat "$TB_OUT/exec.out")" ;;
	*) die "/ in L2 is '$(cat "$TB_OUT/exec.out")', not ext4 on /dev/vda rw" ;;
	esac
	# The assigned nvme: its driver binds and the namespace reads.
	l2_exec sh -c 'modprobe nvme && i=0 && while [ ! -e /sys/block/nvme0n1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; ls /sys/bus/pci/drivers/nvme | grep : && dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16'
	echo "NOTE: nvme in L2: $(grep : "$TB_OUT/exec.out" | head -1) bound to nvme, nvme0n1 reads"
	# The data disk (found by its serial): every byte of the file.
	l2_exec sh -c 'for b in /sys/block/vd*; do [ "$(cat $b/serial)" = data ] && d=/dev/${b##*/}; done; [ -n "$d" ] && echo $d && md5sum <$d'
	got=$(tail -1 "$TB_OUT/exec.out" | cut -d' ' -f1)
	[ "$got" = "$md5" ] || die "the data disk's md5 $got in L2, the file's $md5 in L1"
	echo "NOTE: the data disk ($(head -1 "$TB_OUT/exec.out")) in L2: md5 $got, as the 8 MiB file in L1"
	# The network: an address on our virtio-net, and L1's end of the tap answers.
	l2_exec sh -c 'modprobe virtio_net; i=0; while [ ! -e /sys/bus/virtio/drivers/virtio_net/virtio*/net ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; ifc=$(ls /sys/bus/virtio/drivers/virtio_net/virtio*/net | head -1); ip addr add 10.9.3.2/24 dev $ifc && ip link set $ifc up && i=0 && while ! ping -c 1 -W 1 10.9.3.1 >/dev/null && [ $i -lt 30 ]; do i=$((i + 1)); done; ping -c 3 -W 2 10.9.3.1 >/tmp/ping.out; r=$?; tail -1 /tmp/ping.out; exit $r'
	echo "NOTE: ping from L2 over tball0: $(tail -1 "$TB_OUT/exec.out")"
	vfio-vmm exec --cid 3 -- poweroff -f </dev/null >/dev/null 2>&1
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; die "poweroff -f through exec did not end the VM"; }
	wait "$pid"
	echo "NOTE: poweroff -f through exec ended the VM: exit $?"
	no_notify_exits "$out" "virtio-net tball0" "virtio-vsock cid 3"
	! ip link show tball0 >/dev/null 2>&1 || die "tball0 still exists after the VM ended"
	rm -f /tmp/net-all.img /tmp/net-all-root.img
}
